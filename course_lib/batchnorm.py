r"""Batch normalization (Ioffe and Szegedy, 2015).

In training, every feature (every channel of an image) is standardised with the
statistics of the current batch and then scaled and shifted by two learned vectors:

.. math::

    \mu = \frac{1}{M}\sum_{m} x_m, \quad
    \sigma^2 = \frac{1}{M}\sum_{m} (x_m - \mu)^2, \quad
    \hat x_m = \frac{x_m - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad
    y_m = \gamma \hat x_m + \beta .

``M`` is the number of values one feature takes in the batch: ``N`` for input
``(N, C)``, ``N * H * W`` for images ``(N, C, H, W)`` (per-channel statistics). In
evaluation mode the batch statistics are replaced by running averages collected
during training, so that a prediction does not depend on the other samples of its
batch.

The two functions below hold the arithmetic on a ``(M, C)`` matrix (one row per
value a feature takes); :class:`BatchNorm` reshapes images to that matrix and back.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str
from .layers import Layer

__all__ = ["BatchNorm", "batch_norm_backward", "batch_norm_forward"]


def batch_norm_forward(X, gamma, beta, eps=1e-5):
    r"""Normalise each column of ``X`` with its batch mean and (biased) variance.

    .. math:: \hat X = (X - \mu) / \sqrt{\sigma^2 + \epsilon}, \qquad
              Y = \gamma \odot \hat X + \beta

    Parameters
    ----------
    X : ndarray, shape (M, C)
    gamma, beta : ndarray, shape (C,)
    eps : float

    Returns
    -------
    Y, X_hat : ndarray, shape (M, C)
    mean, var, inv_std : ndarray, shape (C,)
        Batch mean, biased batch variance and :math:`1/\sqrt{\sigma^2+\epsilon}`.
    """
    mean = X.mean(axis=0)
    centred = X - mean
    var = np.mean(centred * centred, axis=0)           # biased: divides by M
    inv_std = 1.0 / np.sqrt(var + eps)
    X_hat = centred * inv_std
    Y = gamma * X_hat + beta
    return Y, X_hat, mean, var, inv_std


def batch_norm_backward(dY, X_hat, gamma, inv_std):
    r"""The compact three-term backward of :func:`batch_norm_forward`.

    .. math::

        d\beta = \sum_m dY_m, \qquad d\gamma = \sum_m dY_m \odot \hat X_m,

        dX = \frac{\gamma}{M \sqrt{\sigma^2 + \epsilon}}
             \left( M\, dY - d\beta - \hat X \odot d\gamma \right)

    The second term is the path through the mean, the third the path through the
    variance; without them this would be the backward of a fixed affine map.

    Parameters
    ----------
    dY, X_hat : ndarray, shape (M, C)
    gamma, inv_std : ndarray, shape (C,)

    Returns
    -------
    dX : ndarray, shape (M, C)
    dgamma, dbeta : ndarray, shape (C,)
    """
    M = dY.shape[0]
    dbeta = dY.sum(axis=0)
    dgamma = (dY * X_hat).sum(axis=0)
    dX = (gamma * inv_std / M) * (M * dY - dbeta - X_hat * dgamma)
    return dX, dgamma, dbeta


class BatchNorm(Layer):
    r"""Batch normalization layer for ``(N, C)`` or per channel ``(N, C, H, W)``.

    Training mode: normalise with the batch statistics (see
    :func:`batch_norm_forward`) and update the running averages

    .. math:: \bar\mu \leftarrow m\,\bar\mu + (1 - m)\,\mu, \qquad
              \bar\sigma^2 \leftarrow m\,\bar\sigma^2 + (1 - m)\,
              \tfrac{M}{M - 1}\sigma^2

    (the unbiased variance, as PyTorch does; ``m`` is ``momentum``, the weight of
    the past, as in Keras). Evaluation mode (``model.eval()``): normalise with
    :math:`\bar\mu, \bar\sigma^2` instead; the layer is then a fixed affine map.

    Parameters
    ----------
    n_features : int
        ``C``: features of ``(N, C)`` input or channels of ``(N, C, H, W)`` input.
    momentum : float in [0, 1)
        Weight of the old running average in each update.
    eps : float
        Added to the variance before the square root.
    dtype : numpy dtype
        Type of ``gamma`` and ``beta`` (float64 by default; float32 allowed).

    Attributes
    ----------
    params : {'gamma': (C,), 'beta': (C,)}
        Start at ones and zeros: the layer starts as a pure standardisation.
    grads : {'gamma': (C,), 'beta': (C,)}
    running_mean, running_var : ndarray, shape (C,)
        Start at zeros and ones.
    """

    def __init__(self, n_features, momentum=0.9, eps=1e-5, dtype=np.float64):
        super().__init__()
        if int(n_features) < 1:
            raise ValueError(f"BatchNorm: n_features must be >= 1, got {n_features}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1), got {momentum}")
        if not eps > 0:
            raise ValueError(f"BatchNorm: eps must be > 0, got {eps}")
        C = self.n_features = int(n_features)
        self.momentum, self.eps = float(momentum), float(eps)
        self.dtype = np.dtype(dtype)
        self.params = {"gamma": np.ones(C, self.dtype), "beta": np.zeros(C, self.dtype)}
        self.grads = {"gamma": np.zeros(C, self.dtype), "beta": np.zeros(C, self.dtype)}
        self.running_mean = np.zeros(C)
        self.running_var = np.ones(C)
        self._cache = None

    # -- layout: (N, C) or (N, C, H, W) <-> rows (M, C) ------------------------------
    def _rows(self, X, what="X"):
        C = self.n_features
        if X.ndim == 2 and X.shape[1] == C:
            return X
        if X.ndim == 4 and X.shape[1] == C:
            return X.transpose(0, 2, 3, 1).reshape(-1, C)
        raise ShapeError(f"{self!r}.forward: {what} must have shape (N, {C}) or "
                         f"(N, {C}, H, W), got {shape_str(X.shape)}")

    @staticmethod
    def _unrows(R, shape):
        if len(shape) == 2:
            return R
        N, C, H, W = shape
        return R.reshape(N, H, W, C).transpose(0, 3, 1, 2)

    def forward(self, X):
        r"""X : (N, C) or (N, C, H, W) -> Y of the same shape.

        Training mode uses (and records) the batch statistics; evaluation mode
        uses the running averages and changes nothing.
        """
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(self.dtype)
        R = self._rows(X)
        gamma = self.params["gamma"].astype(X.dtype, copy=False)
        beta = self.params["beta"].astype(X.dtype, copy=False)
        if self.training:
            M = R.shape[0]
            if M < 2:
                raise ValueError(f"{self!r}.forward: training needs more than one "
                                 f"value per feature, got X of shape "
                                 f"{shape_str(X.shape)}; call model.eval() to predict")
            Y, X_hat, mean, var, inv_std = batch_norm_forward(R, gamma, beta, self.eps)
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var * (M / (M - 1))
        else:
            inv_std = (1.0 / np.sqrt(self.running_var + self.eps)).astype(X.dtype)
            X_hat = (R - self.running_mean.astype(X.dtype)) * inv_std
            Y = gamma * X_hat + beta
        self._cache = (X_hat, inv_std, X.shape, self.training)
        return self._unrows(Y, X.shape)

    def backward(self, dY):
        r"""dY : shape of the forward output -> dX of the same shape.

        Fills ``grads['gamma']`` and ``grads['beta']`` (C,). After a training-mode
        forward the three-term form of :func:`batch_norm_backward`; after an
        evaluation-mode forward :math:`dX = \gamma\, dY / \sqrt{\bar\sigma^2 +
        \epsilon}` (the statistics are constants there).
        """
        if self._cache is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        X_hat, inv_std, shape, training = self._cache
        self._check_grad(dY, shape, "dY")
        R = self._rows(dY, "dY")
        gamma = self.params["gamma"].astype(R.dtype, copy=False)
        if training:
            dX, dgamma, dbeta = batch_norm_backward(R, X_hat, gamma, inv_std)
        else:
            dgamma, dbeta = (R * X_hat).sum(axis=0), R.sum(axis=0)
            dX = R * (gamma * inv_std)
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        return self._unrows(dX, shape)

    def __repr__(self):
        return f"BatchNorm({self.n_features})"
