r"""A scalar that remembers how it was computed: reverse-mode autodiff on numbers.

Every operation on :class:`Value` objects returns a new ``Value`` that keeps its
inputs (``_prev``), the name of the operation (``_op``) and a closure
``_backward`` that applies the chain rule *locally*: given ``out.grad``
(:math:`\partial L/\partial\,\mathrm{out}`), it **adds** to each input's ``grad``
the local derivative times ``out.grad``. Adding, not assigning, is what makes a
value used twice (a fork) receive the sum of both contributions.

``root.backward()`` sets ``root.grad = 1`` and calls every node's ``_backward``
in reverse topological order, so that a node passes its gradient on only when
every node that uses it has contributed.
"""

from __future__ import annotations

import math

from .graph import stamp, topological_order

__all__ = ["Value"]


class Value:
    """A number, its gradient, and the operation that produced it.

    Parameters
    ----------
    data : float
    label : str, optional
        A name shown in drawings of the graph.

    Attributes
    ----------
    data : float
    grad : float
        :math:`\\partial L / \\partial\\,\\mathrm{data}` after ``L.backward()``.
        Leaves (values not computed from others) accumulate over several
        ``backward`` calls, as PyTorch's do; reset them with ``grad = 0``.
    """

    __slots__ = ("data", "grad", "label", "_backward", "_prev", "_op", "_stamp")

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._backward = _no_backward
        self._prev = tuple(_prev)
        self._op = _op
        self._stamp = stamp()               # made after its inputs (graph.py)

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    # -- the two rules everything else builds on ------------------------------------
    def __add__(self, other):
        """out = self + other; d out / d self = d out / d other = 1."""
        other = Value._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        """out = self * other; d out / d self = other, d out / d other = self."""
        other = Value._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    # -- one-input operations ------------------------------------------------------
    def __pow__(self, n):
        """out = self ** n for a constant number n; d out / d self = n self^(n-1)."""
        if isinstance(n, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be "
                            "a constant number (write exp(log(a) * b) instead)")
        out = Value(self.data ** n, (self,), f"**{n:g}")

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        """out = e^self; d out / d self = out."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        """out = ln self (self > 0); d out / d self = 1 / self."""
        if self.data <= 0:
            raise ValueError(f"Value.log: the argument must be > 0, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        """out = tanh(self); d out / d self = 1 - out^2."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        """out = 1 / (1 + e^-self), stable for any input; d out / d self =
        out (1 - out)."""
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        """out = max(self, 0); d out / d self = 1 where self > 0, else 0."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    # -- composites: no new rules needed -------------------------------------------
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-Value._lift(other))

    def __truediv__(self, other):
        return self * Value._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value._lift(other) - self

    def __rtruediv__(self, other):
        return Value._lift(other) / self

    # -- reverse mode ----------------------------------------------------------------
    def backward(self):
        """Fill ``grad`` of every node of the graph ending here (d self / d node).

        Interior nodes start from 0; leaves keep what earlier ``backward`` calls
        gave them and add to it.
        """
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _no_backward():
    """A leaf has no inputs to pass a gradient to."""
