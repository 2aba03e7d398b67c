"""Reverse-mode automatic differentiation, the machinery behind PyTorch and JAX.

* :class:`Value` -- one number and the graph that produced it (chapter 9's
  first half): ``+ - * / **``, ``exp``, ``log``, ``tanh``, ``relu``, ``sigmoid``,
  and ``backward()`` through the graph in reverse topological order;
* :class:`Tensor` -- the same on numpy arrays, with broadcasting: the gradient
  of a broadcast operand is summed back to its shape;
* :func:`topological_order` -- every node once, inputs before the nodes that use
  them (iterative, so deep graphs do not hit Python's recursion limit);
* :mod:`~course_lib.autodiff.draw` -- the graph as a matplotlib figure, each node
  with its operation, value and gradient (loaded on first use).

Only numpy is imported here.
"""

from __future__ import annotations

import importlib

from .graph import topological_order
from .tensor import Tensor
from .value import Value

__all__ = ["Tensor", "Value", "draw", "topological_order"]


def __getattr__(name):
    if name == "draw":
        module = importlib.import_module(f"{__name__}.draw")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
