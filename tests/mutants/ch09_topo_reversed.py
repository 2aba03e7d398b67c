"""Mistake: the order comes out reversed (the output first), so backward runs a
node before the nodes that use it have given it their gradient."""


def topological_order(root):
    placed, result = set(), []
    stack = [(root, 0)]
    while stack:
        node, k = stack.pop()
        if k < len(node._prev):
            stack.append((node, k + 1))
            stack.append((node._prev[k], 0))
        elif id(node) not in placed:
            placed.add(id(node))
            result.append(node)
    return result[::-1]
