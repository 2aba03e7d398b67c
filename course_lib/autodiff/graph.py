"""Graph traversal shared by :class:`Value` and :class:`Tensor`."""

from __future__ import annotations

__all__ = ["topological_order"]


def topological_order(root):
    """Every node of the graph ending in ``root`` once, each after its inputs.

    A depth-first search written with an explicit stack, so that a graph a
    hundred thousand nodes deep does not hit Python's recursion limit. A node is
    appended after all of its inputs (``node._prev``) have been: the list ends
    with ``root``, and walking it backwards visits every node after all the
    nodes that use it, which is the order backpropagation needs.

    Parameters
    ----------
    root : Value or Tensor

    Returns
    -------
    list
        The nodes, inputs first, ``root`` last.
    """
    order, done, seen = [], set(), {id(root)}
    stack = [(root, iter(root._prev))]
    while stack:
        node, inputs = stack[-1]
        for child in inputs:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._prev)))
                break
        else:                                   # every input is placed
            stack.pop()
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
    return order
