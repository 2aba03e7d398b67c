"""Mistake: no visited set, so a node reached along two paths is listed twice
(and its rule runs twice in backward)."""


def topological_order(root):
    result = []
    stack = [(root, 0)]
    while stack:
        node, k = stack.pop()
        if k < len(node._prev):
            stack.append((node, k + 1))
            stack.append((node._prev[k], 0))
        else:
            result.append(node)
    return result
