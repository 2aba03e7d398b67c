"""Chapter 8 exercises: a batch-normalization layer for your engine.

The chapter derives batch normalization for a batch of feature vectors
``(N, D)``. Here you write it for both layouts a network meets: ``(N, C)``
and images ``(N, C, H, W)``, where each channel ``c`` is one feature whose
statistics are taken over the batch *and* every pixel, that is over all axes
except axis 1 (``M = N * H * W`` values per channel).

Use numpy only. Check your work with ``course grade ch08``.
"""

import numpy as np


def batch_norm(X, gamma, beta, eps=1e-5):
    r"""Training-mode batch normalization with the statistics of this batch.

    For every channel :math:`c` (axis 1), over the :math:`M` values it takes in
    the batch (all axes except 1):

    .. math::

        \mu_c = \frac{1}{M} \sum x, \qquad
        \sigma^2_c = \frac{1}{M} \sum (x - \mu_c)^2, \qquad
        y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c

    (the *biased* variance, dividing by :math:`M`).

    Parameters
    ----------
    X : ndarray, shape (N, C) or (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    eps : float

    Returns
    -------
    Y : ndarray, shape of X
    mean, var : ndarray, shape (C,)
        The batch mean and the biased batch variance of each channel.
    """
    # BEGIN SOLUTION: reduce over every axis but 1 (keepdims), then scale and shift
    axes = (0, *range(2, X.ndim))
    per_channel = (1, -1) + (1,) * (X.ndim - 2)
    mu = X.mean(axis=axes, keepdims=True)
    sigma2 = ((X - mu) ** 2).mean(axis=axes, keepdims=True)
    normalised = (X - mu) / np.sqrt(sigma2 + eps)
    out = gamma.reshape(per_channel) * normalised + beta.reshape(per_channel)
    return out, mu.reshape(-1), sigma2.reshape(-1)
    # END SOLUTION


def batch_norm_backward(dY, X, gamma, eps=1e-5):
    r"""Gradients of :func:`batch_norm` (training mode) for ``(N, C)`` or
    ``(N, C, H, W)``.

    With :math:`\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}` and sums over
    the :math:`M` values of each channel:

    .. math::

        d\beta = \sum dY, \qquad d\gamma = \sum dY \odot \hat x, \qquad
        dX = \frac{\gamma}{M\sqrt{\sigma^2 + \epsilon}}
             \left(M\, dY - d\beta - \hat x \odot d\gamma\right)

    Parameters
    ----------
    dY : ndarray, shape of X
        Gradient of the loss with respect to the output ``Y``.
    X : ndarray, shape (N, C) or (N, C, H, W)
        The input of the forward pass (recompute the statistics from it).
    gamma : ndarray, shape (C,)
    eps : float

    Returns
    -------
    dX : ndarray, shape of X
    dgamma, dbeta : ndarray, shape (C,)
    """
    # BEGIN SOLUTION: x_hat from X, then the three-term form; sums over axes but 1
    axes = (0, *range(2, X.ndim))
    per_channel = (1, -1) + (1,) * (X.ndim - 2)
    count = X.size // X.shape[1]
    mu = X.mean(axis=axes, keepdims=True)
    inv_sigma = 1.0 / np.sqrt(((X - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    x_hat = (X - mu) * inv_sigma
    d_beta = dY.sum(axis=axes, keepdims=True)
    d_gamma = (dY * x_hat).sum(axis=axes, keepdims=True)
    dX = gamma.reshape(per_channel) * inv_sigma / count * (
        count * dY - d_beta - x_hat * d_gamma)
    return dX, d_gamma.reshape(-1), d_beta.reshape(-1)
    # END SOLUTION


class BatchNorm:
    r"""A batch-normalization layer for ``(N, C)`` or ``(N, C, H, W)`` input.

    Training mode normalises with the batch statistics (:func:`batch_norm`)
    and updates the running averages, with ``m = momentum``:

    .. math:: \bar\mu \leftarrow m\,\bar\mu + (1 - m)\,\mu, \qquad
              \bar\sigma^2 \leftarrow m\,\bar\sigma^2 + (1 - m)\,
              \frac{M}{M - 1}\,\sigma^2

    (the *unbiased* variance for the running average, as PyTorch does).
    Evaluation mode normalises with :math:`\bar\mu, \bar\sigma^2` and changes
    nothing. ``backward`` fills ``grads`` (overwriting them) and returns dX;
    it never changes ``params``.

    Parameters
    ----------
    n_features : int
        ``C``.
    momentum : float
    eps : float

    Attributes
    ----------
    params : {'gamma': (C,) ones, 'beta': (C,) zeros}
    grads : {'gamma': (C,), 'beta': (C,)}
    running_mean : ndarray (C,), starts at zeros
    running_var : ndarray (C,), starts at ones
    training : bool
    """

    def __init__(self, n_features, momentum=0.9, eps=1e-5):
        self.momentum, self.eps = momentum, eps
        self.params = {"gamma": np.ones(n_features), "beta": np.zeros(n_features)}
        self.grads = {"gamma": np.zeros(n_features), "beta": np.zeros(n_features)}
        self.running_mean = np.zeros(n_features)
        self.running_var = np.ones(n_features)
        self.training = True
        self.X = None

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, X):
        """X : (N, C) or (N, C, H, W) -> Y, the same shape.

        Training: :func:`batch_norm` with the batch statistics, then update the
        running averages. Evaluation: normalise with the running averages.
        Remember in ``self.X`` what ``backward`` needs.
        """
        # BEGIN SOLUTION: train: batch statistics, update running means; eval: use them
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.X = X
        if not self.training:
            shape = (1, -1) + (1,) * (X.ndim - 2)
            std = np.sqrt(self.running_var + self.eps).reshape(shape)
            centred = X - self.running_mean.reshape(shape)
            return gamma.reshape(shape) * centred / std + beta.reshape(shape)
        Y, mean, var = batch_norm(X, gamma, beta, self.eps)
        n = X.size // X.shape[1]
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mean
        self.running_var = m * self.running_var + (1 - m) * var * n / (n - 1)
        return Y
        # END SOLUTION

    def backward(self, dY):
        """dY : shape of the forward output -> dX; fills grads['gamma'] and
        grads['beta'] (C,).

        After a training-mode forward use :func:`batch_norm_backward`; after an
        evaluation-mode forward the statistics are constants, so the layer is
        the affine map ``gamma * (X - running_mean) / sqrt(running_var + eps)
        + beta``.
        """
        # BEGIN SOLUTION: batch_norm_backward in training; the affine map's in eval
        X, gamma = self.X, self.params["gamma"]
        if self.training:
            dX, dgamma, dbeta = batch_norm_backward(dY, X, gamma, self.eps)
        else:
            shape = (1, -1) + (1,) * (X.ndim - 2)
            axes = (0, *range(2, X.ndim))
            inv = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (X - self.running_mean.reshape(shape)) * inv.reshape(shape)
            dgamma, dbeta = (dY * x_hat).sum(axis=axes), dY.sum(axis=axes)
            dX = dY * (gamma * inv).reshape(shape)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dX
        # END SOLUTION
