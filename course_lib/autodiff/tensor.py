r"""Reverse-mode autodiff on numpy arrays, with broadcasting.

:class:`Tensor` is :class:`~course_lib.autodiff.Value` with an array inside:
the same graph, the same reverse topological walk, one backward rule per
operation. What is new is **broadcasting**. When numpy stretches an operand of
shape ``(D,)`` to ``(N, D)`` (a bias added to every row), that operand was used
``N`` times, a fork, so its gradient is the *sum* of the ``N`` row gradients:
every rule passes its gradient through :func:`unbroadcast`, which sums the
upstream gradient back to the operand's own shape.
"""

from __future__ import annotations

import numpy as np

from .graph import stamp, topological_order

__all__ = ["Tensor", "unbroadcast"]


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched.

    Parameters
    ----------
    grad : ndarray
        Gradient with respect to the broadcast result.
    shape : tuple of int
        The operand's shape before broadcasting.

    Returns
    -------
    ndarray of shape ``shape``
        E.g. ``(N, D) -> (D,)`` sums over axis 0, ``(N, D) -> (N, 1)`` over axis 1
        with ``keepdims``, ``(N, D) -> ()`` over everything.
    """
    while grad.ndim > len(shape):                   # axes added in front
        grad = grad.sum(axis=0)
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:                                   # axes of length 1 stretched
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Tensor:
    """An array, its gradient, and the operation that produced it.

    Parameters
    ----------
    data : array_like
        Converted to a float64 array (float32 arrays keep their type).
    label : str, optional

    Attributes
    ----------
    data : ndarray
    grad : ndarray, the shape of ``data``
        :math:`\\partial L / \\partial\\,\\mathrm{data}` after ``L.backward()`` for a
        scalar ``L``; leaves accumulate over calls, as in PyTorch.
    """

    __array_priority__ = 100          # ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, _prev=(), _op="", label=""):
        data = np.asarray(data)
        if data.dtype != np.float32:
            data = data.astype(np.float64)
        self.data = data
        self.grad = np.zeros_like(data)
        self.label = label
        self._backward = lambda: None
        self._prev = tuple(_prev)
        self._op = _op
        self._stamp = stamp()               # made after its inputs (graph.py)

    @property
    def shape(self):
        return self.data.shape

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Tensor) else Tensor(other)

    # -- element-wise with broadcasting ---------------------------------------
    def __add__(self, other):
        other = Tensor._lift(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Tensor._lift(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += unbroadcast(other.data * out.grad, self.shape)
            other.grad += unbroadcast(self.data * out.grad, other.shape)
        out._backward = _backward
        return out

    def __pow__(self, n):
        out = Tensor(self.data ** n, (self,), f"**{n:g}")

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, local, op):
        """out = f(self) with f'(self) given as the array ``local``."""
        out = Tensor(value, (self,), op)

        def _backward():
            self.grad += local * out.grad
        out._backward = _backward
        return out

    def exp(self):
        e = np.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        return self._unary(np.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        t = np.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def sigmoid(self):
        s = 0.5 * (1.0 + np.tanh(0.5 * self.data))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def relu(self):
        return self._unary(np.maximum(self.data, 0), (self.data > 0).astype(
            self.data.dtype), "relu")

    # -- matrices and reductions ----------------------------------------------
    def __matmul__(self, other):
        """(N, K) @ (K, M) -> (N, M); dA = dOut B^T, dB = A^T dOut."""
        other = Tensor._lift(other)
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis``; each input entry gets the gradient of its sum."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape)
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        n = self.data.size if axis is None else np.prod(
            [self.shape[a] for a in np.atleast_1d(axis)])
        return self.sum(axis, keepdims) * (1.0 / n)

    def logsumexp(self, axis=-1, keepdims=True):
        r""":math:`\log\sum_j e^{x_j}` along ``axis``, computed after subtracting
        the maximum (no overflow); its gradient is the softmax."""
        m = self.data.max(axis=axis, keepdims=True)
        lse = m + np.log(np.exp(self.data - m).sum(axis=axis, keepdims=True))
        value = lse if keepdims else np.squeeze(lse, axis=axis)
        out = Tensor(value, (self,), "logsumexp")

        def _backward():
            g = out.grad if keepdims else np.expand_dims(out.grad, axis)
            self.grad += np.exp(self.data - lse) * g
        out._backward = _backward
        return out

    @property
    def T(self):
        out = Tensor(self.data.T, (self,), "T")

        def _backward():
            self.grad += out.grad.T
        out._backward = _backward
        return out

    # -- composites ------------------------------------------------
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-Tensor._lift(other))

    def __truediv__(self, other):
        return self * Tensor._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Tensor._lift(other) - self

    def __rtruediv__(self, other):
        return Tensor._lift(other) / self

    # -- reverse mode ------------------------------------------------
    def backward(self):
        """Fill ``grad`` of every node of the graph ending in this scalar."""
        if self.data.size != 1:
            raise ValueError(f"Tensor.backward: call it on a scalar (a loss), got "
                             f"shape {self.shape}; reduce with .sum() or .mean()")
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = np.zeros_like(node.data)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            node._backward()

    def __repr__(self):
        return f"Tensor(shape={self.shape}, op={self._op or 'leaf'!r})"
