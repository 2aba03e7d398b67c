r"""Loss functions.

Every loss takes ``(y_true, y_pred)`` in that order (as scikit-learn does) and has

* ``loss(y_true, y_pred) -> float``: the mean over the batch;
* ``grad(y_true, y_pred) -> dY``: the gradient of that *mean* with respect to
  ``y_pred``, of the same shape as ``y_pred`` (so it already contains the ``1/N``).

Both check their inputs first (:meth:`Loss.check`: lengths agree, ``(N,)`` is never
silently broadcast against ``(N, 1)``, labels are in range, nothing is NaN), then
apply the formula, which each loss writes once, in ``_loss`` and ``_grad``. ``fit``
checks its data once and calls :meth:`Loss.value_and_grad`, which skips the checks.
"""

from __future__ import annotations

import numpy as np

from .activations import logsumexp, sigmoid, softmax, softplus
from .errors import ShapeError, shape_str

__all__ = [
    "LOSSES",
    "MSE",
    "BinaryCrossEntropy",
    "Loss",
    "SoftmaxCrossEntropy",
    "get_loss",
]


class Loss:
    """Base class: ``loss`` and ``grad`` check their inputs, then apply the formula.

    A subclass writes the formula in ``_loss(y_true, y_pred) -> float`` and
    ``_grad(y_true, y_pred) -> dY`` (on checked arrays) and adds its own checks to
    ``check``.
    """

    #: True for losses where accuracy makes sense (used by ``fit``)
    classification = False

    def loss(self, y_true, y_pred):
        """Mean loss over the batch (a Python float)."""
        return self._loss(*self.check(y_true, y_pred))

    def grad(self, y_true, y_pred):
        """Gradient of the mean loss with respect to ``y_pred`` (shape of y_pred)."""
        return self._grad(*self.check(y_true, y_pred))

    def value_and_grad(self, y_true, y_pred):
        """``(loss, dY)`` without the checks: for inputs that already passed
        :meth:`check` (``fit`` checks its data once, then calls this per batch)."""
        return self._loss(y_true, y_pred), self._grad(y_true, y_pred)

    def check(self, y_true, y_pred):
        """Validate and return ``(y_true, y_pred)`` as arrays; raise on bad input."""
        name = type(self).__name__
        y_true, y_pred = _as_array(y_true, "y_true", name), _as_array(
            y_pred, "y_pred", name)
        if y_true.shape[0] != y_pred.shape[0]:
            raise ShapeError(
                f"{name}: y_true and y_pred must have the same length N, got "
                f"y_true {shape_str(y_true.shape)} and y_pred {shape_str(y_pred.shape)}"
            )
        return y_true, y_pred

    def __call__(self, y_true, y_pred):
        return self.loss(y_true, y_pred)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    r"""Mean squared error :math:`L = \frac{1}{ND}\sum_{n,d} (\hat y_{nd} - y_{nd})^2`.

    Shapes: ``y_true`` and ``y_pred`` both ``(N, D)`` (or both ``(N,)``).
    Gradient: :math:`\partial L / \partial \hat y = 2 (\hat y - y) / (N D)`.
    """

    def _loss(self, y_true, y_pred):
        return float(np.mean((y_pred - y_true) ** 2))

    def _grad(self, y_true, y_pred):
        return 2.0 / y_pred.size * (y_pred - y_true)

    def value_and_grad(self, y_true, y_pred):
        # fit's inner loop: the two formulas above with one subtraction, and the sum
        # of squares as a dot product (np.mean costs more than the rest of a step
        # of a small network); equal to them up to rounding in the last digit
        diff = y_pred - y_true
        return float(np.vdot(diff, diff)) / diff.size, 2.0 / diff.size * diff

    def check(self, y_true, y_pred):
        y_true, y_pred = super().check(y_true, y_pred)
        _same_shape(self, y_true, y_pred)
        return y_true, y_pred


class BinaryCrossEntropy(Loss):
    r"""Binary cross-entropy
    :math:`L = -\frac{1}{ND}\sum [y \log p + (1 - y)\log(1 - p)]`.

    Parameters
    ----------
    from_logits : bool
        False (default): ``y_pred`` holds probabilities :math:`p`, clipped to
        :math:`[\epsilon, 1 - \epsilon]` so that :math:`\log 0` never happens (the
        gradient :math:`(p - y) / (p(1-p)ND)` is evaluated at the clipped ``p``).
        True: ``y_pred`` holds logits :math:`z` and
        :math:`L = \frac{1}{ND}\sum [\mathrm{softplus}(z) - y z]`, exact for any
        :math:`z`, with gradient :math:`(\sigma(z) - y)/(ND)`.
    eps : float
        Clipping margin (raised to the dtype's machine epsilon for float32).

    Notes
    -----
    Shapes: ``y_true`` and ``y_pred`` both ``(N, 1)`` (or both ``(N, D)``), targets in
    [0, 1]. After a sigmoid output layer :math:`p = \sigma(z)`, the chain rule gives
    :math:`\partial L/\partial z = \frac{p - y}{p(1-p)ND} \cdot p(1-p) =
    (p - y)/(ND)`: the famous ``y_hat - y``, divided by the batch size.
    """

    classification = True

    def __init__(self, from_logits=False, eps=1e-12):
        self.from_logits = bool(from_logits)
        self.eps = float(eps)

    def _loss(self, y_true, y_pred):
        if self.from_logits:
            z = y_pred
            return float(np.mean(softplus(z) - y_true * z))
        p = self._clipped(y_pred)
        return -float(np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p)))

    def _grad(self, y_true, y_pred):
        if self.from_logits:
            return (sigmoid(y_pred) - y_true) / y_pred.size
        p = self._clipped(y_pred)
        return (p - y_true) / (p * (1.0 - p) * y_pred.size)

    def _clipped(self, p):
        """``p`` clipped to ``[eps, 1 - eps]``, eps at least the dtype's epsilon."""
        eps = max(self.eps, float(np.finfo(p.dtype).eps)) if p.dtype.kind == "f" \
            else self.eps
        return np.minimum(np.maximum(p, eps), 1.0 - eps)

    def check(self, y_true, y_pred):
        y_true, y_pred = super().check(y_true, y_pred)
        _same_shape(self, y_true, y_pred)
        if y_true.size and (y_true.min() < 0 or y_true.max() > 1):
            raise ValueError("BinaryCrossEntropy: y_true must hold targets in [0, 1], "
                             f"got values in [{y_true.min()}, {y_true.max()}]")
        if not self.from_logits and y_pred.size and (
                y_pred.min() < 0 or y_pred.max() > 1):
            raise ValueError(
                "BinaryCrossEntropy: y_pred must hold probabilities in [0, 1], got "
                f"values in [{y_pred.min():.3g}, {y_pred.max():.3g}]; end the model "
                "with a sigmoid, or use BinaryCrossEntropy(from_logits=True)")
        return y_true, y_pred

    def __repr__(self):
        return "BinaryCrossEntropy(from_logits=True)" if self.from_logits else \
            "BinaryCrossEntropy()"


class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by cross-entropy, on **logits**:
    :math:`L = \frac1N \sum_n [\mathrm{logsumexp}(z_n) - z_{n, y_n}]`.

    ``y_pred`` are logits ``(N, C)`` (the output of a linear layer, *not* softmax
    probabilities). ``y_true`` is either integer labels ``(N,)`` in ``0..C-1`` or
    one-hot (or any probability) targets ``(N, C)``. The log-sum-exp is computed
    stably, so logits of size :math:`10^4` are fine.

    Gradient: :math:`\partial L / \partial z = (\mathrm{softmax}(z) - Y)/N`, with
    :math:`Y` the one-hot targets.
    """

    classification = True

    def _loss(self, y_true, y_pred):
        z, N = y_pred, y_pred.shape[0]
        if y_true.ndim == 1:                           # integer labels (N,)
            return float((logsumexp(z, axis=1) - z[np.arange(N), y_true]).sum()) / N
        # targets Y (N, C): L = -(1/N) sum_n sum_j Y_nj log softmax(z_n)_j
        return float((y_true * (logsumexp(z, axis=1)[:, None] - z)).sum()) / N

    def _grad(self, y_true, y_pred):
        N = y_pred.shape[0]
        P = softmax(y_pred, axis=1)                    # (N, C) probabilities
        if y_true.ndim == 1:                           # Y is one-hot of the labels
            P[np.arange(N), y_true] -= 1.0
            P /= N
            return P
        return (P * y_true.sum(axis=1, keepdims=True) - y_true) / N

    def check(self, y_true, y_pred):
        y_true, y_pred = super().check(y_true, y_pred)
        if y_pred.ndim != 2:
            raise ShapeError("SoftmaxCrossEntropy: y_pred must be logits of shape "
                             f"(N, C), got {shape_str(y_pred.shape)}")
        C = y_pred.shape[1]
        if y_true.ndim == 2 and y_true.shape[1] == 1 and C > 1:
            y_true = y_true[:, 0]
        if y_true.ndim == 1:
            return _labels(y_true, C), y_pred
        if y_true.shape != y_pred.shape:
            raise ShapeError(
                "SoftmaxCrossEntropy: y_true must be integer labels (N,) or one-hot "
                f"(N, {C}), got {shape_str(y_true.shape)} for logits "
                f"{shape_str(y_pred.shape)}")
        return y_true, y_pred


LOSSES = {
    "mse": MSE,
    "bce": BinaryCrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": SoftmaxCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "ce": SoftmaxCrossEntropy,
}


def get_loss(name):
    """Return a loss object from its name (a :class:`Loss` is returned unchanged).

    Names: ``'mse'``, ``'bce'`` / ``'binary_cross_entropy'``, ``'cross_entropy'`` /
    ``'softmax_cross_entropy'`` / ``'ce'``.
    """
    if isinstance(name, Loss) or (hasattr(name, "loss") and hasattr(name, "grad")):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(LOSSES)}")
    return LOSSES[key]()


# ----------------------------------------------------------------------------------
# input checks shared by the losses
# ----------------------------------------------------------------------------------

def _as_array(a, name, owner):
    """``a`` as a numeric array of shape (N, ...) without NaN (booleans as floats)."""
    a = np.asarray(a)
    if a.dtype.kind == "b":
        a = a.astype(np.float64)
    if a.dtype.kind not in "iufc":
        raise TypeError(f"{owner}: {name} must be a numeric array, got {a.dtype}")
    if a.ndim == 0:
        raise ShapeError(f"{owner}: {name} must be an array of shape (N, ...), "
                         "got a scalar")
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{owner}: {name} contains NaN")
    return a


def _same_shape(loss, y_true, y_pred):
    """Raise ShapeError unless the shapes agree, with the reshape that fixes it."""
    if y_true.shape == y_pred.shape:
        return
    hint = ""
    if y_true.ndim == 1 and y_pred.shape == (y_true.shape[0], 1):
        hint = ("; reshape y with y.reshape(-1, 1) (numpy would otherwise "
                f"broadcast to ({y_true.shape[0]}, {y_true.shape[0]}))")
    elif y_pred.ndim == 1 and y_true.shape == (y_pred.shape[0], 1):
        hint = "; reshape y_pred with y_pred.reshape(-1, 1)"
    raise ShapeError(f"{type(loss).__name__}: y_true and y_pred must have the same "
                     f"shape, got y_true {shape_str(y_true.shape)} and y_pred "
                     f"{shape_str(y_pred.shape)}{hint}")


def _labels(y, C):
    """Integer labels ``y (N,)`` checked to lie in ``0..C-1``."""
    if not np.issubdtype(y.dtype, np.integer):
        if np.any(y != np.round(y)):
            raise ValueError("SoftmaxCrossEntropy: labels y_true of shape (N,) "
                             "must be integers 0..C-1")
        y = y.astype(np.intp)
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(
            f"SoftmaxCrossEntropy: labels must be in 0..{C - 1} for C={C} "
            f"classes, got values in [{y.min()}, {y.max()}]")
    return y
