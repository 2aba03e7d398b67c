r"""Gradient checking: compare backprop with finite differences.

The centred difference :math:`\frac{f(x + h) - f(x - h)}{2h}` has an error of order
:math:`h^2`, so in float64 with ``h=1e-5`` a correct backward pass agrees with it to a
relative error of about :math:`10^{-9}`; a bug typically gives :math:`10^{-2}` or more.
"""

from __future__ import annotations

import numpy as np

from .losses import get_loss

__all__ = ["gradient_check", "numerical_gradient", "relative_error"]


def numerical_gradient(f, x, h=1e-5):
    r"""Centred finite-difference gradient of a scalar function.

    :math:`\frac{\partial f}{\partial x_i} \approx
    \frac{f(x + h e_i) - f(x - h e_i)}{2h}`

    Parameters
    ----------
    f : callable
        ``f(x) -> float``. It may also ignore its argument and read ``x`` through a
        closure (for example a model's weight matrix), because ``x`` is perturbed
        **in place**.
    x : ndarray, any shape, float
        The point. Each entry is perturbed in place and restored to its exact
        original value afterwards.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, shape of x, float64
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient: x must be a float numpy array (it is "
                        f"perturbed in place), got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}".rstrip())
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old                                   # exact restore
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b, floor=1e-12):
    r"""Relative error between two arrays:
    :math:`\max|a - b| \,/\, \max(\max(|a| + |b|),\ \text{floor})`.

    Taking the maxima over the whole array (rather than entry by entry) keeps tiny
    entries, where rounding noise dominates, from raising false alarms. The floor
    avoids dividing by zero when both arrays are zero (the result is then 0).

    Parameters
    ----------
    a, b : array_like, same shape
    floor : float

    Returns
    -------
    float
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    num = np.max(np.abs(a - b))
    den = max(float(np.max(np.abs(a) + np.abs(b))), floor)
    return float(num / den)


def gradient_check(model, loss, X, y, h=1e-5):
    """Compare a model's backprop gradients with finite differences.

    The model runs in evaluation mode (dropout off) and in float64: a float32 model
    is checked on a float64 copy. Its weights are left exactly as they were; its
    ``grads`` hold the backprop gradients for ``(X, y)`` afterwards.

    Parameters
    ----------
    model : Sequential
    loss : Loss or str
    X : (N, D_in)
    y : targets as the loss expects them
    h : float

    Returns
    -------
    dict
        ``{param name: relative error}`` for every parameter (``'0.W'``, ...).
    """
    loss = get_loss(loss)
    if model.dtype != np.float64:
        model = model.astype(np.float64)
    was_training = model.training
    model.eval()
    try:
        X = np.asarray(X, dtype=np.float64)
        y_arr = np.asarray(y)
        if np.issubdtype(y_arr.dtype, np.floating):
            y_arr = y_arr.astype(np.float64)
        out = model.forward(X)
        model.backward(loss.grad(y_arr, out))
        analytic = {k: g.copy() for k, g in model.grads.items()}

        def f(_):
            return loss.loss(y_arr, model.forward(X))

        return {k: relative_error(analytic[k], numerical_gradient(f, p, h))
                for k, p in model.params.items()}
    finally:
        model.train() if was_training else model.eval()
