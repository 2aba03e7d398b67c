"""Graph traversal shared by :class:`Value` and :class:`Tensor`.

Every node is stamped with a number when it is made (:func:`stamp`), and a
node is always made *after* its inputs: an operation needs its inputs' values
to compute its own. So the nodes of a graph, sorted by their stamps, are in a
topological order: each comes after all of its inputs. Chapter 9's exercise
builds the order without stamps, from the graph's edges alone (a depth-first
search); the engine can use this shortcut because it numbers its own nodes.
"""

from __future__ import annotations

import itertools

__all__ = ["stamp", "topological_order"]

_counter = itertools.count()


def stamp() -> int:
    """The next creation number (increasing, shared by Value and Tensor)."""
    return next(_counter)


def topological_order(root):
    """Every node of the graph ending in ``root`` once, each after its inputs.

    Two steps: collect the nodes reachable from ``root`` through ``_prev``
    (a loop over a list of nodes still to look at, so a graph a hundred
    thousand nodes deep does not hit Python's recursion limit), then sort
    them by creation stamp. Inputs are created before the nodes computed
    from them, so the list ends with ``root``, and walking it backwards
    visits every node after all the nodes that use it, which is the order
    backpropagation needs.

    Parameters
    ----------
    root : Value or Tensor

    Returns
    -------
    list
        The nodes, inputs first, ``root`` last.
    """
    found = {id(root): root}
    todo = [root]
    while todo:
        for child in todo.pop()._prev:
            if id(child) not in found:
                found[id(child)] = child
                todo.append(child)
    return sorted(found.values(), key=_stamp_of)


def _stamp_of(node) -> int:
    return node._stamp
