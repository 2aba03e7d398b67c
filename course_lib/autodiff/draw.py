"""Draw a computational graph with matplotlib (no graphviz needed).

Each node is a box with its operation (or label), its value and its gradient;
arrows go from inputs to the node that uses them. Layers are placed left to
right by depth (the longest path from a leaf), so the output is on the right.

:func:`graph_spec` turns a :class:`~course_lib.autodiff.Value` graph into plain
data (a list of node dicts); :func:`draw_spec` draws such a list, so a graph
rebuilt elsewhere (the grader draws the learner's graph from numbers it read
back) is drawn the same way.
"""

from __future__ import annotations

from .graph import topological_order

__all__ = ["draw_graph", "draw_spec", "graph_spec"]


def graph_spec(root):
    """The graph ending in ``root`` as ``[{'op', 'label', 'data', 'grad',
    'inputs'}]`` in topological order (``inputs`` are indices into the list)."""
    order = topological_order(root)
    index = {id(n): i for i, n in enumerate(order)}
    return [{"op": n._op, "label": getattr(n, "label", ""), "data": n.data,
             "grad": n.grad, "inputs": [index[id(c)] for c in n._prev]}
            for n in order]


def _fmt(x):
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):            # an array: its shape
        return f"shape {tuple(getattr(x, 'shape', ()))}"


def _layout(nodes):
    depth = []
    for node in nodes:
        depth.append(1 + max((depth[i] for i in node["inputs"]), default=-1))
    rows: dict[int, int] = {}
    pos = []
    for d in depth:
        pos.append((d, rows.get(d, 0)))
        rows[d] = rows.get(d, 0) + 1
    height = max(rows.values())
    # columns by depth, each column centred vertically
    return ([(x * 2.4, (rows[x] - 1) / 2 - y) for x, y in pos], max(depth) + 1,
            height)


def draw_spec(nodes, ax=None, highlight=None, title=None):
    """Draw a graph given as plain data (see :func:`graph_spec`).

    Parameters
    ----------
    nodes : list of dict
        ``op``, ``data``, ``grad``, ``inputs`` (and optional ``label``) per node.
    ax : matplotlib Axes, optional
    highlight : int or iterable of int, optional
        Indices of nodes drawn in red (e.g. the first wrong gradient).
    title : str, optional

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    marked = set([highlight] if isinstance(highlight, int) else highlight or ())
    xy, width, height = _layout(nodes)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 2.0 * width, 0.6 + 1.15 * height))
    for i, node in enumerate(nodes):
        for j in node["inputs"]:
            ax.annotate("", xy=xy[i], xytext=xy[j], arrowprops=dict(
                arrowstyle="->", color="0.45", shrinkA=24, shrinkB=24))
    for i, node in enumerate(nodes):
        name = node.get("label") or node["op"] or "input"
        if node.get("label") and node["op"]:
            name = f"{node['label']} = {node['op']}"
        text = f"{name}\ndata {_fmt(node['data'])}\ngrad {_fmt(node['grad'])}"
        bad = i in marked
        ax.text(*xy[i], text, ha="center", va="center", fontsize=8,
                family="monospace", bbox=dict(
                    boxstyle="round", fc="#fde2e1" if bad else "#eef3fb",
                    ec="#c0392b" if bad else "#4a6fa5", lw=2 if bad else 1))
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def draw_graph(root, ax=None, highlight=None, title=None):
    """Draw the graph ending in ``root`` (a Value or Tensor); see
    :func:`draw_spec`. ``highlight`` may hold nodes or indices."""
    nodes = graph_spec(root)
    if highlight is not None and not isinstance(highlight, int):
        order = topological_order(root)
        index = {id(n): i for i, n in enumerate(order)}
        items = highlight if isinstance(highlight, (list, tuple, set)) else [highlight]
        highlight = [index[id(h)] if not isinstance(h, int) else h for h in items]
    return draw_spec(nodes, ax=ax, highlight=highlight, title=title)
