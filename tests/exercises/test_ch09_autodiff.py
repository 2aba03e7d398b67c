"""Graded tests for chapter 9: your automatic differentiation engine (25 points,
5 more in hidden tests).

A backward rule is tested on a small expression graph built with *your*
``Value`` class in your worker. The grader then runs the backward pass itself,
calling each node's ``_backward`` in reverse topological order (so a mistake in
one rule cannot hide behind another exercise), reads every node's gradient
back, and compares it with the gradient measured by finite differences: the
output is recomputed with one node's value nudged up and down (the oracles
``graph_values`` and ``graph_grads``; the network's reference is
``mlp_outputs``/``mlp_grads``; a student release replays their values). When a gradient
is wrong, the message names the first node of the backward pass whose gradient
differs, the operations that sent it that gradient, and where a drawing of the
graph with that node marked was saved.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from oracles import graph_grads, graph_values, mlp_grads, mlp_outputs

from course_lib.grading.checking import feedback as fb

# ------------------------------------------------------------ expression graphs
#: spec entries: ("leaf", x) | (op, i, j) for "+", "*" | ("*c", i, c) |
#: ("**", i, n) | (op, i) for "tanh", "log", "relu", "exp"; inputs come first


def _inputs(node):
    if node[0] in ("+", "*"):
        return [node[1], node[2]]
    return [] if node[0] == "leaf" else [node[1]]


def _describe(spec, k):
    node = spec[k]
    if node[0] == "leaf":
        return f"node {k} (an input, {node[1]:g})"
    args = ", ".join(f"node {i}" for i in _inputs(node))
    extra = {"*c": f" times {node[-1]:g}", "**": f" to the power {node[-1]:g}"}
    return f"node {k} ({node[0].rstrip('c')} of {args}{extra.get(node[0], '')})"


def _build(ch09, spec):
    """The graph built with the student's Value; a list of remote nodes."""
    nodes = []
    for node in spec:
        op = node[0]
        if op == "leaf":
            nodes.append(ch09.Value(float(node[1])))
        elif op in ("+", "*"):
            method = "__add__" if op == "+" else "__mul__"
            nodes.append(nodes[node[1]].call(method, nodes[node[2]]).value)
        elif op == "*c":
            nodes.append(nodes[node[1]].call("__mul__", node[2]).value)
        elif op == "**":
            nodes.append(nodes[node[1]].call("__pow__", node[2]).value)
        else:
            nodes.append(nodes[node[1]].call(op).value)
    return nodes


def _feedback_folder() -> Path:
    """A folder for feedback figures that only this user can read: a fixed name
    per user in the temp directory (so the path in a message stays put) when it is
    ours, a real folder and private; a fresh private one otherwise. Another
    user (a sandboxed worker, another student) can neither read the figures nor
    plant a symlink in their place."""
    folder = Path(tempfile.gettempdir()) / f"course-feedback-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = folder.lstat()
    if (not folder.is_dir() or folder.is_symlink() or st.st_uid != os.getuid()
            or st.st_mode & 0o077):
        folder = Path(tempfile.mkdtemp(prefix="course-feedback-"))
    return folder


def _draw(spec, values, got, k, name):
    """Save the graph with node k marked; the path, or '' if drawing fails."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from course_lib.autodiff.draw import draw_spec

        nodes = [{"op": n[0] if n[0] != "leaf" else "", "label": f"n{i}",
                  "data": values[i], "grad": got[i], "inputs": _inputs(n)}
                 for i, n in enumerate(spec)]
        path = _feedback_folder() / f"ch09-{name}.png"
        ax = draw_spec(nodes, highlight=k, title=f"your gradients; node {k} is the "
                       "first wrong one")
        ax.figure.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(ax.figure)
        return str(path)
    except Exception:                        # feedback must never crash a test
        return ""


def check_graph(ch09, spec, name, hint):
    """Build ``spec`` with the student's Value, backpropagate node by node, and
    fail naming the first node (from the output) whose gradient is wrong."""
    nodes = _build(ch09, spec)
    nodes[-1].call("__setattr__", "grad", 1.0)
    for node in reversed(nodes):
        node.call("_backward")
    got = [fb.as_float(f"the grad of node {k}", n.grad) for k, n in enumerate(nodes)]
    expected, values = graph_grads(spec), graph_values(spec)
    for k in reversed(range(len(spec))):
        if abs(got[k] - expected[k]) > 1e-5 * max(1.0, abs(expected[k])):
            users = [j for j in range(len(spec)) if k in _inputs(spec[j])]
            ops = sorted({spec[j][0].rstrip("c") for j in users})
            where = _draw(spec, values, got, k, name)
            fb.fail(
                f"In the backward pass of {len(spec)} nodes, the first wrong gradient "
                f"is at {_describe(spec, k)}: expected {expected[k]:.6g}, received "
                f"{got[k]:.6g}. Every node after it in the backward pass is right, "
                f"so look at the backward rule of {' and '.join(ops)} (node"
                f"{'s' if len(users) > 1 else ''} {', '.join(map(str, users))}), "
                f"which send{'' if len(users) > 1 else 's'} gradient to node {k}. "
                f"{hint}" + (f" A drawing of the graph with that node marked: "
                             f"{where}" if where else ""))


FORK = ("A node used twice must receive the sum of both contributions: does your "
        "rule add (+=) to the input's grad?")

# ------------------------------------------------------------ the backward rules


@pytest.mark.points(3)
def test_Value_pow__power_rule_at_a_fork(ch09):
    spec = [("leaf", 1.5), ("**", 0, 3), ("*c", 0, 2.0), ("+", 1, 2),
            ("**", 3, -1), ("**", 4, 0.5)]
    check_graph(ch09, spec, "pow", "The power rule: d(x**n)/dx = n x**(n-1). " + FORK)


@pytest.mark.points(3)
def test_Value_tanh__rule_at_a_fork(ch09):
    spec = [("leaf", 0.4), ("leaf", -1.1), ("tanh", 0), ("*", 0, 1), ("+", 2, 3),
            ("tanh", 4), ("*", 5, 2)]
    check_graph(ch09, spec, "tanh", "tanh'(x) = 1 - tanh(x)**2. " + FORK)


@pytest.mark.points(3)
def test_Value_log__rule_at_a_fork(ch09):
    spec = [("leaf", 2.5), ("log", 0), ("*", 0, 0), ("*", 1, 2), ("*c", 3, 0.1),
            ("log", 4)]
    check_graph(ch09, spec, "log", "d(ln x)/dx = 1/x, at the input. " + FORK)


@pytest.mark.points(3)
def test_Value_relu__passes_only_positive_inputs(ch09):
    spec = [("leaf", -0.7), ("leaf", 1.3), ("relu", 0), ("relu", 1), ("*", 0, 1),
            ("+", 2, 3), ("+", 5, 4), ("relu", 6)]
    check_graph(ch09, spec, "relu", "relu'(x) is 1 for x > 0 and 0 for x < 0. " + FORK)


# ------------------------------------------------------------ topological order


def _remote_order(ch09, root, n_expected, what):
    order = ch09.topological_order(root)
    if not isinstance(order, (list, tuple)):
        fb.fail(f"topological_order must return a list of Values; got "
                f"{fb.describe_type(order)}.")
    if len(order) != n_expected:
        fb.fail(f"The graph {what} has {n_expected} nodes, but your "
                f"topological_order returned {len(order)}. Every node must appear "
                "exactly once, even one used by several others: keep a set of the "
                "nodes you have visited.")
    return order


@pytest.mark.points(3)
def test_topological_order__each_node_once_inputs_first(ch09):
    # a diamond and more forks; node values are distinct, so they identify nodes
    spec = [("leaf", 2.0), ("leaf", 3.0), ("*", 0, 1), ("+", 0, 2), ("*", 2, 3),
            ("+", 3, 4), ("*", 5, 1)]
    nodes = _build(ch09, spec)
    values = graph_values(spec)
    order = _remote_order(ch09, nodes[-1], len(spec), "of this test")
    seen = [fb.as_float("data", v.data) for v in order]
    where = {v: values.index(v) for v in seen if v in values}
    if len(where) != len(spec):
        fb.fail("topological_order returned nodes that are not in the graph, or "
                "the same node twice.")
    position = {where[v]: p for p, v in enumerate(seen)}
    for k, node in enumerate(spec):
        for i in _inputs(node):
            if position[i] > position[k]:
                fb.fail(f"In your order, {_describe(spec, i)} comes after "
                        f"{_describe(spec, k)}, which uses it. Every node must come "
                        "after all of its inputs (the output last), so that walking "
                        "the list backwards reaches a node only after all its users.")


@pytest.mark.points(2)
def test_topological_order__deeper_than_the_recursion_limit(ch09):
    x = ch09.Value(1.0)
    y = x
    depth = 1500
    for _ in range(depth):
        y = y.call("__add__", 0.001).value
    order = _remote_order(ch09, y, 2 * depth + 1, f"of a chain of {depth} additions")
    first = fb.as_float("data", order[0].data)
    last = fb.as_float("data", order[-1].data)
    if first != 1.0 or abs(last - 2.5) > 1e-9:
        fb.fail("In a chain, the order must start with the first input and end with "
                "the output.")


@pytest.mark.points(1)
def test_topological_order__backward_uses_it(ch09):
    spec = [("leaf", 2.0), ("leaf", -3.0), ("*", 0, 1), ("+", 2, 0), ("*", 3, 3)]
    nodes = _build(ch09, spec)
    nodes[-1].backward()
    expected = graph_grads(spec)
    for k in (0, 1):
        fb.check_close(f"the grad of node {k}", nodes[k].grad, expected[k], rtol=1e-6,
                       context="after out.backward() on ((a * b) + a) ** 2",
                       hint="backward walks reversed(topological_order(self)).")


# ------------------------------------------------------------ the network


def _set_params(model, seed):
    """Write known parameters into the learner's MLP (its order: layer by layer,
    W row by row, then b); returns them as a flat list."""
    params = model.parameters()
    theta = np.random.default_rng(seed).uniform(-1.0, 1.0, len(params))
    for p, v in zip(params, theta):
        p.call("__setattr__", "data", float(v))
    return theta


@pytest.mark.points(2)
def test_MLP_call__forward_pass(ch09):
    sizes = [2, 3, 1]
    model = ch09.MLP(sizes, 0)
    theta = _set_params(model, 90)
    X = np.array([[0.0, 0.0], [0.5, -1.0], [1.0, 1.0]])
    fb.check_close("the outputs", ch09.predict(model, X),
                   mlp_outputs(theta, sizes, X), rtol=1e-9,
                   context="of MLP([2, 3, 1]) for three inputs",
                   hint="z_j = sum_i a_i W[i][j] + b[j] per layer, tanh on every "
                        "layer but the last.")


@pytest.mark.points(2)
def test_MLP_call__gradients_of_every_parameter(ch09):
    sizes = [2, 3, 2]
    model = ch09.MLP(sizes, 1)
    theta = _set_params(model, 91)
    x = [0.5, -1.0]
    out = model([float(v) for v in x])
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        fb.fail(f"MLP([2, 3, 2])(x) must return a list of 2 Values; got "
                f"{fb.describe_type(out)}.")
    out[1].backward()
    got = np.array([fb.as_float("a parameter's grad", p.grad)
                    for p in model.parameters()])
    fb.check_close("the parameters' grads", got, mlp_grads(theta, sizes, x, 1),
                   rtol=1e-5, atol=1e-8,
                   context="after outputs[1].backward() for MLP([2, 3, 2])")


@pytest.mark.points(3)
def test_train_xor__solves_xor(ch09):
    model = ch09.with_timeout(60).train_xor(300, 0.1, 0)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out = fb.check_shape("predict(model, X)", ch09.predict(model, X), (4, 1))
    target = np.array([[0.0], [1.0], [1.0], [0.0]])
    if np.max(np.abs(out - target)) > 0.25:
        fb.fail(f"After train_xor(300, 0.1, 0) the outputs for (0,0), (0,1), (1,0), "
                f"(1,1) are {fb.show(out.ravel())}; each should be within 0.25 of "
                "0, 1, 1, 0. Check that every epoch sets all the grads to 0 before "
                "backward (gradients add up across calls otherwise), and that the "
                "step subtracts lr * grad.")
