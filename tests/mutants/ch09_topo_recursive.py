"""Mistake: a recursive depth-first search, which fails on deep graphs
(RecursionError beyond Python's limit of about 1000 frames)."""


def topological_order(root):
    result, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for child in node._prev:
            visit(child)
        result.append(node)

    visit(root)
    return result
