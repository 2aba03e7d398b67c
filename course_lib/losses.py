r"""Loss functions.

Every loss takes ``(y_true, y_pred)`` in that order (as scikit-learn does) and has

* ``loss(y_true, y_pred) -> float``: the mean over the batch;
* ``grad(y_true, y_pred) -> dY``: the gradient of that *mean* with respect to
  ``y_pred``, of the same shape as ``y_pred`` (so it already contains the ``1/N``).

Inputs are checked: lengths must agree, ``(N,)`` is never silently broadcast against
``(N, 1)``, labels must be in range and nothing may be NaN. ``fit`` checks once and
then calls the unchecked ``_value_and_grad`` in its inner loop.

The checks are kept cheap, because a hand-written loop calls ``loss`` and ``grad`` on
every batch: types, shapes and ranges are checked up front, but NaN is looked for
only in the result (a NaN in the input gives a NaN out). When the result is not
finite, the full ``check`` runs and names the culprit.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .activations import sigmoid, softplus
from .errors import ShapeError, shape_str

__all__ = [
    "LOSSES",
    "MSE",
    "BinaryCrossEntropy",
    "Loss",
    "SoftmaxCrossEntropy",
    "get_loss",
]


@functools.cache
def _is_numeric(dtype):
    """``np.issubdtype(dtype, np.number)``, remembered per dtype (it is not free)."""
    return np.issubdtype(dtype, np.number)


def _as_array(a, name, owner, nan=True):
    a = np.asarray(a)
    if a.dtype.kind == "b":
        a = a.astype(np.float64)
    if not _is_numeric(a.dtype):
        raise TypeError(f"{owner}: {name} must be a numeric array, got {a.dtype}")
    if a.ndim == 0:
        raise ShapeError(f"{owner}: {name} must be an array of shape (N, ...), "
                         "got a scalar")
    if nan and a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{owner}: {name} contains NaN")
    return a


class Loss:
    """Base class: ``loss`` and ``grad`` check their inputs, then delegate."""

    #: True for losses where accuracy makes sense (used by ``fit``)
    classification = False

    def __call__(self, y_true, y_pred):
        return self.loss(y_true, y_pred)

    def loss(self, y_true, y_pred):
        """Mean loss over the batch (a Python float)."""
        value = self._value_and_grad(*self._checked(y_true, y_pred), need_grad=False)[0]
        if not math.isfinite(value):
            self.check(y_true, y_pred)         # raises if the input holds NaN
        return value

    def grad(self, y_true, y_pred):
        """Gradient of the mean loss with respect to ``y_pred`` (shape of y_pred)."""
        value, dY = self._value_and_grad(*self._checked(y_true, y_pred))
        if not math.isfinite(value):
            self.check(y_true, y_pred)         # raises if the input holds NaN
        return dY

    def check(self, y_true, y_pred, nan=True):
        """Validate and return ``(y_true, y_pred)`` as arrays; raise on bad input.

        ``nan=False`` skips the scan for NaN.
        """
        name = type(self).__name__
        y_true = _as_array(y_true, "y_true", name, nan)
        y_pred = _as_array(y_pred, "y_pred", name, nan)
        if y_true.shape[0] != y_pred.shape[0]:
            raise ShapeError(
                f"{name}: y_true and y_pred must have the same length N, got "
                f"y_true {shape_str(y_true.shape)} and y_pred {shape_str(y_pred.shape)}"
            )
        return y_true, y_pred

    def _same_shape(self, y_true, y_pred):
        if y_true.shape == y_pred.shape:
            return
        name = type(self).__name__
        hint = ""
        if y_true.ndim == 1 and y_pred.shape == (y_true.shape[0], 1):
            hint = ("; reshape y with y.reshape(-1, 1) (numpy would otherwise "
                    f"broadcast to ({y_true.shape[0]}, {y_true.shape[0]}))")
        elif y_pred.ndim == 1 and y_true.shape == (y_pred.shape[0], 1):
            hint = "; reshape y_pred with y_pred.reshape(-1, 1)"
        raise ShapeError(f"{name}: y_true and y_pred must have the same shape, got "
                         f"y_true {shape_str(y_true.shape)} and y_pred "
                         f"{shape_str(y_pred.shape)}{hint}")

    def _checked(self, y_true, y_pred):
        """``check`` without the NaN scan. On any problem the full ``check`` runs, so
        the error raised is exactly the one ``check`` gives."""
        try:
            return self.check(y_true, y_pred, nan=False)
        except (TypeError, ValueError):
            return self.check(y_true, y_pred)

    def _value_and_grad(self, y_true, y_pred, need_grad=True):
        """Unchecked ``(loss, dY)``; ``dY`` is None when ``need_grad`` is False."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    r"""Mean squared error :math:`L = \frac{1}{ND}\sum_{n,d} (\hat y_{nd} - y_{nd})^2`.

    Shapes: ``y_true`` and ``y_pred`` both ``(N, D)`` (or both ``(N,)``).
    Gradient: :math:`\partial L / \partial \hat y = 2 (\hat y - y) / (N D)`.
    """

    def check(self, y_true, y_pred, nan=True):
        y_true, y_pred = super().check(y_true, y_pred, nan)
        self._same_shape(y_true, y_pred)
        return y_true, y_pred

    def _value_and_grad(self, y_true, y_pred, need_grad=True):
        diff = y_pred - y_true
        value = float(np.vdot(diff, diff)) / diff.size   # sum of squares / (N D)
        return value, (diff * (2.0 / diff.size) if need_grad else None)


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
        self._eps = {}                      # dtype -> effective clipping margin

    def check(self, y_true, y_pred, nan=True):
        y_true, y_pred = super().check(y_true, y_pred, nan)
        self._same_shape(y_true, y_pred)
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

    def _value_and_grad(self, y_true, y_pred, need_grad=True):
        n = y_pred.size
        if self.from_logits:
            value = float((softplus(y_pred) - y_true * y_pred).sum()) / n
            return value, ((sigmoid(y_pred) - y_true) / n if need_grad else None)
        eps = self._eps.get(y_pred.dtype)
        if eps is None:
            tiny = np.finfo(y_pred.dtype).eps if y_pred.dtype.kind == "f" else 0.0
            eps = self._eps[y_pred.dtype] = max(self.eps, float(tiny))
        p = np.minimum(np.maximum(y_pred, eps), 1.0 - eps)       # clip: no log(0)
        value = -float((y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p)).sum()) / n
        return value, ((p - y_true) / (p * (1.0 - p) * n) if need_grad else None)

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

    def check(self, y_true, y_pred, nan=True):
        y_true, y_pred = super().check(y_true, y_pred, nan)
        if y_pred.ndim != 2:
            raise ShapeError("SoftmaxCrossEntropy: y_pred must be logits of shape "
                             f"(N, C), got {shape_str(y_pred.shape)}")
        C = y_pred.shape[1]
        if y_true.ndim == 2 and y_true.shape[1] == 1 and C > 1:
            y_true = y_true[:, 0]
        if y_true.ndim == 1:
            if not np.issubdtype(y_true.dtype, np.integer):
                if np.any(y_true != np.round(y_true)):
                    raise ValueError("SoftmaxCrossEntropy: labels y_true of shape (N,) "
                                     "must be integers 0..C-1")
                y_true = y_true.astype(np.intp)
            if y_true.size and (y_true.min() < 0 or y_true.max() >= C):
                raise ValueError(
                    f"SoftmaxCrossEntropy: labels must be in 0..{C - 1} for C={C} "
                    f"classes, got values in [{y_true.min()}, {y_true.max()}]")
            return y_true, y_pred
        if y_true.shape != y_pred.shape:
            raise ShapeError(
                "SoftmaxCrossEntropy: y_true must be integer labels (N,) or one-hot "
                f"(N, {C}), got {shape_str(y_true.shape)} for logits "
                f"{shape_str(y_pred.shape)}")
        return y_true, y_pred

    def _value_and_grad(self, y_true, y_pred, need_grad=True):
        n = y_pred.shape[0]
        # one exp serves both the log-sum-exp (the loss) and the softmax (the gradient)
        m = y_pred.max(axis=1, keepdims=True)
        e = np.exp(y_pred - m)                             # (N, C), no overflow
        total = e.sum(axis=1, keepdims=True)               # (N, 1)
        lse = (m + np.log(total))[:, 0]                    # logsumexp(y_pred), (N,)
        if y_true.ndim == 1:                               # integer labels
            rows = np.arange(n)
            value = float((lse - y_pred[rows, y_true]).sum()) / n
            if not need_grad:
                return value, None
            dZ = e / total                                 # softmax(y_pred)
            dZ[rows, y_true] -= 1.0
            dZ /= n
            return value, dZ
        # targets (N, C): L = -sum_j y_j log softmax(z)_j
        value = float((y_true * (lse[:, None] - y_pred)).sum()) / n
        if not need_grad:
            return value, None
        dZ = (e / total) * y_true.sum(axis=1, keepdims=True) - y_true
        return value, dZ / n


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
