"""Mistake: the engine's shortcut copied into the exercise: every Value stamped
when it is made and the reachable nodes sorted by stamp. That is a topological
order only while no node is given inputs after it was made; the exercise's
order must follow the edges ``_prev`` alone."""

import itertools as _itertools

_stamps = _itertools.count()
_made = Value.__init__  # noqa: F821 (the solution's class, defined above)
Value.__init__ = lambda self, *args, **kwargs: (  # noqa: F821
    _made(self, *args, **kwargs), setattr(self, "_stamp", next(_stamps)))[0]


def topological_order(root):
    found, todo = {id(root): root}, [root]
    while todo:
        for child in todo.pop()._prev:
            if id(child) not in found:
                found[id(child)] = child
                todo.append(child)
    return sorted(found.values(), key=lambda node: node._stamp)
