r"""Activation functions, as plain functions and as layers.

The plain functions (``sigmoid``, ``sigmoid_prime``, ``tanh``, ``relu``, ...) take an
array ``z`` of any shape and return an array of the same shape; the book plots them.
The layers (``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``, ``Identity``,
``Softmax``) wrap them in the layer interface: ``forward(Z) -> A`` and
``backward(dY) -> dZ``, all of shape ``(N, D)``, where ``dY`` is the gradient of the
loss with respect to the layer's output ``A`` (the book's :math:`dA`) and ``dZ`` the
gradient with respect to its input.

Numerical stability: ``sigmoid`` is computed as :math:`\tfrac12(1 + \tanh(z/2))`,
which is the same function but never overflows (``tanh`` saturates at :math:`\pm1`),
and ``softmax`` subtracts the row maximum before exponentiating. Both are finite and
silent for :math:`|z|` up to :math:`10^4` and beyond.
"""

from __future__ import annotations

import numpy as np

from .layers import Layer

__all__ = [
    "ACTIVATIONS",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "get_activation",
    "identity",
    "identity_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "log_softmax",
    "logsumexp",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "softmax",
    "softplus",
    "tanh",
    "tanh_prime",
]


# ----------------------------------------------------------------------------------
# Plain functions (elementwise unless stated; output has the shape of z)
# ----------------------------------------------------------------------------------

def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z}) = \tfrac12(1+\tanh(z/2))`.

    The tanh form never overflows, so ``sigmoid(-1e4)`` is ``0.0`` without a warning.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_prime(z):
    r"""Derivative :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    r"""Hyperbolic tangent :math:`\tanh z = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(z)


def tanh_prime(z):
    r"""Derivative :math:`\tanh'(z) = 1 - \tanh^2 z`."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`."""
    return np.maximum(z, 0.0)


def relu_prime(z):
    r"""Derivative :math:`\mathbb{1}[z > 0]` (we take 0 at :math:`z = 0`)."""
    return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))


def leaky_relu(z, alpha=0.01):
    r"""Leaky ReLU :math:`z` if :math:`z > 0` else :math:`\alpha z`."""
    return np.where(z > 0, z, alpha * z)


def leaky_relu_prime(z, alpha=0.01):
    r"""Derivative: 1 if :math:`z > 0` else :math:`\alpha` (:math:`\alpha` at 0)."""
    z = np.asarray(z)
    return np.where(z > 0, 1.0, alpha).astype(np.result_type(z, np.float32))


def identity(z):
    r"""Identity :math:`z` (a 'linear' activation)."""
    return np.asarray(z)


def identity_prime(z):
    r"""Derivative of the identity: ones."""
    return np.ones_like(np.asarray(z), dtype=np.result_type(z, np.float32))


def logsumexp(z, axis=-1, keepdims=False):
    r""":math:`\log \sum_j e^{z_j}` along ``axis``, computed as
    :math:`m + \log\sum_j e^{z_j - m}` with :math:`m = \max_j z_j` (no overflow).
    """
    z = np.asarray(z)
    m = z.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z, axis=-1):
    r"""Softmax along ``axis``: :math:`\mathrm{softmax}(z)_j = e^{z_j - m}/\sum_k
    e^{z_k - m}` with :math:`m = \max_k z_k` (rows of a batch ``(N, C)`` sum to 1).
    """
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    r""":math:`\log \mathrm{softmax}(z)_j = z_j - \mathrm{logsumexp}(z)` (stable)."""
    z = np.asarray(z)
    return z - logsumexp(z, axis=axis, keepdims=True)


def softplus(z):
    r""":math:`\log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})` (stable)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


# ----------------------------------------------------------------------------------
# Layers: forward(Z) -> A, backward(dY) -> dZ, all (N, D)
# ----------------------------------------------------------------------------------

class Sigmoid(Layer):
    r"""Sigmoid layer :math:`A = \sigma(Z)`."""

    A = None            # the output of the last forward, kept for backward

    def forward(self, Z):
        """Z : (N, D) -> A : (N, D)"""
        self.A = sigmoid(Z)
        return self.A

    def backward(self, dY):
        r""":math:`dZ = dY \odot A (1 - A)`, since :math:`\sigma'(Z) = A (1 - A)`.

        dY : (N, D), gradient with respect to A -> dZ : (N, D)
        """
        A = self.A
        self._check_dY(dY, A)
        return dY * A * (1.0 - A)


class Tanh(Layer):
    r"""Tanh layer :math:`A = \tanh Z`."""

    A = None

    def forward(self, Z):
        """Z : (N, D) -> A : (N, D)"""
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dY):
        r""":math:`dZ = dY \odot (1 - A^2)`. dY : (N, D) -> dZ : (N, D)"""
        A = self.A
        self._check_dY(dY, A)
        return dY * (1.0 - A * A)


class ReLU(Layer):
    r"""ReLU layer :math:`A = \max(0, Z)`."""

    Z = None            # the input of the last forward, kept for backward

    def forward(self, Z):
        """Z : (N, D) -> A : (N, D)"""
        self.Z = Z
        return np.maximum(Z, 0.0)

    def backward(self, dY):
        r""":math:`dZ = dY \odot \mathbb{1}[Z > 0]`. dY : (N, D) -> dZ : (N, D)"""
        Z = self.Z
        self._check_dY(dY, Z)
        return dY * (Z > 0)


class LeakyReLU(Layer):
    r"""Leaky ReLU layer :math:`A = Z` where :math:`Z > 0`, else :math:`\alpha Z`."""

    Z = None

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = alpha

    def forward(self, Z):
        """Z : (N, D) -> A : (N, D)"""
        self.Z = Z
        return np.where(Z > 0, Z, self.alpha * Z)

    def backward(self, dY):
        r""":math:`dZ = dY` where :math:`Z > 0`, else :math:`\alpha\, dY`.
        dY : (N, D) -> dZ : (N, D)"""
        Z = self.Z
        self._check_dY(dY, Z)
        return np.where(Z > 0, dY, self.alpha * dY)

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha:g})"


class Identity(Layer):
    r"""Identity layer :math:`A = Z` (a linear output)."""

    Z = None

    def forward(self, Z):
        """Z : (N, D) -> A : (N, D)"""
        self.Z = Z
        return Z

    def backward(self, dY):
        """:math:`dZ = dY`. dY : (N, D) -> dZ : (N, D)"""
        self._check_dY(dY, self.Z)
        return dY


class Softmax(Layer):
    r"""Softmax layer over the last axis: :math:`A_{nj} = e^{Z_{nj}} / \sum_k
    e^{Z_{nk}}`.

    Use it to turn logits into probabilities. For training, prefer a linear output
    and :class:`~course_lib.losses.SoftmaxCrossEntropy`, which takes the logits and
    is both faster and more stable.
    """

    A = None

    def forward(self, Z):
        """Z : (N, C) -> A : (N, C), rows sum to 1"""
        self.A = softmax(Z, axis=-1)
        return self.A

    def backward(self, dY):
        r""":math:`dZ = A \odot (dY - \sum_k dY_{k} A_{k})` (row-wise Jacobian product).
        dY : (N, C) -> dZ : (N, C)"""
        A = self.A
        self._check_dY(dY, A)
        return A * (dY - (dY * A).sum(axis=-1, keepdims=True))


ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "linear": Identity,
    "softmax": Softmax,
}


def get_activation(name, **kwargs):
    """Return a new activation layer from its name.

    Parameters
    ----------
    name : str or Layer
        One of ``'sigmoid', 'tanh', 'relu', 'leaky_relu', 'identity'`` (alias
        ``'linear'``), ``'softmax'`` (case-insensitive). A layer instance is returned
        unchanged.
    **kwargs
        Passed to the constructor (e.g. ``alpha=0.1`` for ``'leaky_relu'``).
    """
    if isinstance(name, Layer):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[key](**kwargs)
