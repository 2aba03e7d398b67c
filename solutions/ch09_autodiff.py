"""Chapter 9 exercises: your own automatic differentiation engine.

``Value`` holds one number, its gradient and the graph that produced it. The
chapter wrote the rules of ``+``, ``*`` and ``exp`` (given below, with the
operations built from them). You write the backward rules of the other
operations, the topological order that ``backward`` walks, and then a small
network of ``Value`` objects that learns XOR.

Every rule follows the same pattern: compute ``out`` in the forward pass, then
give it a closure ``out._backward`` that **adds** (``+=``) to each input's
``grad`` the local derivative times ``out.grad``.

Use plain Python and ``math`` (numpy for the random start only). Check your work
with ``course grade ch09``.
"""

import math

import numpy as np


class Value:
    """A number, its gradient, and the operation that produced it.

    Attributes
    ----------
    data : float
    grad : float
        d(output) / d(this value) after ``output.backward()``; starts at 0.
    _prev : tuple of Value
        The inputs of the operation that produced this value (empty for a leaf).
    _op : str
        The operation's name, e.g. ``"tanh"``.
    _backward : function of no arguments
        Adds this node's contribution to the ``grad`` of each of ``_prev``.
    """

    def __init__(self, data, _prev=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, n):
        """``self ** n`` for a constant number ``n`` (int or float)."""
        out = Value(self.data ** n, (self,), f"**{n}")
        # BEGIN SOLUTION: out._backward adds the power rule's derivative times out.grad
        def _backward():
            self.grad += out.grad * n * self.data ** (n - 1)
        out._backward = _backward
        # END SOLUTION
        return out

    def tanh(self):
        """``tanh(self)``."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")
        # BEGIN SOLUTION: out._backward adds tanh's derivative (use t) times out.grad
        def _backward():
            self.grad += (1.0 - t ** 2) * out.grad
        out._backward = _backward
        # END SOLUTION
        return out

    def log(self):
        """Natural logarithm of ``self`` (which must be > 0)."""
        out = Value(math.log(self.data), (self,), "log")
        # BEGIN SOLUTION: out._backward adds ln's derivative at self.data times out.grad
        def _backward():
            self.grad += out.grad * (1.0 / self.data)
        out._backward = _backward
        # END SOLUTION
        return out

    def relu(self):
        """``max(self, 0)``."""
        out = Value(max(self.data, 0.0), (self,), "relu")
        # BEGIN SOLUTION: out._backward lets the gradient through where the input is > 0
        def _backward():
            if self.data > 0:
                self.grad += out.grad
        out._backward = _backward
        # END SOLUTION
        return out

    # operations built from the ones above: no new backward rules needed
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def backward(self):
        """Fill ``grad`` of every node of the graph that ends in this value."""
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root):
    """Every node of the graph ending in ``root``, each exactly once, every node
    after all of its inputs (``node._prev``); ``root`` comes last.

    It must work for graphs far deeper than Python's recursion limit (a chain of
    10 000 operations): use a loop with an explicit stack, not recursion.

    Parameters
    ----------
    root : Value

    Returns
    -------
    list of Value
    """
    # BEGIN SOLUTION: a DFS with your own stack; place a node once its inputs are
    placed, visited, result = set(), {id(root)}, []
    stack = [(root, 0)]
    while stack:
        node, k = stack.pop()
        if k < len(node._prev):
            stack.append((node, k + 1))
            child = node._prev[k]
            if id(child) not in visited:
                visited.add(id(child))
                stack.append((child, 0))
        elif id(node) not in placed:
            placed.add(id(node))
            result.append(node)
    return result
    # END SOLUTION


class MLP:
    """A multilayer perceptron made of Values: tanh hidden layers, a linear output.

    ``MLP([2, 4, 1], seed)`` has ``W[0]`` (2 x 4 Values), ``b[0]`` (4), ``W[1]``
    (4 x 1) and ``b[1]`` (1); weights start uniform in [-1, 1), biases at 0.
    """

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [[[Value(rng.uniform(-1.0, 1.0)) for _ in range(n_out)]
                   for _ in range(n_in)] for n_in, n_out in zip(sizes, sizes[1:])]
        self.b = [[Value(0.0) for _ in range(n_out)] for n_out in sizes[1:]]

    def parameters(self):
        """All weights and biases: layer by layer, W row by row, then b."""
        return [v for W, b in zip(self.W, self.b)
                for v in [w for row in W for w in row] + b]

    def __call__(self, x):
        """Forward pass of one example ``x`` (a list of numbers) -> list of Values.

        Every layer computes ``z_j = sum_i a_i * W[i][j] + b[j]``; every layer but
        the last applies ``tanh``.
        """
        # BEGIN SOLUTION: weighted sum plus bias per unit; tanh on all but the last
        a = list(x)
        for layer, (W, b) in enumerate(zip(self.W, self.b)):
            z = [sum((a[i] * W[i][j] for i in range(len(a))), b[j])
                 for j in range(len(b))]
            a = z if layer == len(self.W) - 1 else [v.tanh() for v in z]
        return a
        # END SOLUTION


def predict(model, X):
    """The model's outputs for the rows of ``X``, as an array (N, n_out)."""
    return np.array([[v.data for v in model(list(map(float, x)))] for x in X])


def train_xor(epochs=300, lr=0.1, seed=0):
    """Train ``MLP([2, 4, 1], seed)`` on XOR and return it.

    Each epoch: the loss is the sum over the four examples of the squared error
    ``(output - target) ** 2``; set every parameter's ``grad`` to 0, call
    ``loss.backward()``, then move every parameter by ``-lr * grad``. Targets
    are 0 and 1; a trained model's outputs are above 0.5 exactly for (0, 1)
    and (1, 0).
    """
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [0.0, 1.0, 1.0, 0.0]
    model = MLP([2, 4, 1], seed)
    # BEGIN SOLUTION: loop: loss of all four examples, zero the grads, backward, step
    for _ in range(epochs):
        loss = sum(((model(x)[0] - t) ** 2 for x, t in zip(X, y)), Value(0.0))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return model
    # END SOLUTION
