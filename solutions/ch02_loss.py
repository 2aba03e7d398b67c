"""Chapter 2 exercises: loss functions and their gradients, for your engine.

A loss object of the engine has two methods (the order of the arguments is
scikit-learn's, targets first):

* ``loss(y_true, y_pred) -> float``: the mean over the batch;
* ``grad(y_true, y_pred) -> dY``: the gradient of that mean with respect to
  ``y_pred``, an array of the shape of ``y_pred``. Because the loss is a
  mean, the ``1/N`` of the batch enters here, once; chapter 3's layers pass
  it backwards unchanged.

Use numpy only. Check your work with ``course grade ch02``.
"""

import numpy as np


class MSE:
    r"""Mean squared error over **every** entry of ``y`` (``N * K`` of them).

    .. math:: L = \frac{1}{N K} \sum_{i,k} (\hat{y}_{ik} - y_{ik})^2
    """

    def loss(self, y_true, y_pred):
        """Mean squared error of a batch.

        Parameters
        ----------
        y_true, y_pred : ndarray, shape (N, K)

        Returns
        -------
        float

        Examples
        --------
        >>> MSE().loss(np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]]))
        0.125
        """
        # BEGIN SOLUTION: square the differences and average them over all entries
        diff = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
        return float(np.mean(diff**2))
        # END SOLUTION

    def grad(self, y_true, y_pred):
        r"""Gradient of :meth:`loss` with respect to ``y_pred``.

        .. math:: \frac{\partial L}{\partial \hat{y}_{ik}} =
                  \frac{2 (\hat{y}_{ik} - y_{ik})}{N K}

        Returns
        -------
        dY : ndarray, shape (N, K)
        """
        # BEGIN SOLUTION: differentiate the mean of squares entry by entry
        y_true = np.asarray(y_true, dtype=float)
        y_pred = np.asarray(y_pred, dtype=float)
        return 2.0 * (y_pred - y_true) / y_pred.size
        # END SOLUTION


class BinaryCrossEntropy:
    r"""Binary cross-entropy (log-loss) of probabilities, mean over every entry.

    .. math:: L = -\frac{1}{N K} \sum_{i,k} \left[ y_{ik} \log \hat{y}_{ik}
              + (1 - y_{ik}) \log (1 - \hat{y}_{ik}) \right]

    ``log(0)`` is ``-inf``: both methods first clip ``y_pred`` into
    ``[eps, 1 - eps]`` (into a new array; ``y_pred`` must not change).

    Parameters
    ----------
    eps : float
        Clipping margin (default ``1e-12``).
    """

    def __init__(self, eps=1e-12):
        self.eps = float(eps)

    def loss(self, y_true, y_pred):
        """Log-loss of a batch of probabilities.

        Parameters
        ----------
        y_true : ndarray, shape (N, K)
            Targets in {0, 1}.
        y_pred : ndarray, shape (N, K)
            Predicted probabilities in [0, 1] (0 and 1 included).

        Returns
        -------
        float
            Finite, and with no warning, even where ``y_pred`` is exactly 0 or 1.

        Examples
        --------
        >>> round(BinaryCrossEntropy().loss(np.array([[1.0]]), np.array([[0.5]])), 4)
        0.6931
        """
        # BEGIN SOLUTION: clip the predictions, then average the two log terms
        y_true = np.asarray(y_true, dtype=float)
        p = np.clip(np.asarray(y_pred, dtype=float), self.eps, 1.0 - self.eps)
        return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))
        # END SOLUTION

    def grad(self, y_true, y_pred):
        r"""Gradient of :meth:`loss` with respect to ``y_pred`` (clipped).

        .. math:: \frac{\partial L}{\partial \hat{y}_{ik}} =
                  \frac{1}{N K} \, \frac{\hat{y}_{ik} - y_{ik}}
                  {\hat{y}_{ik} (1 - \hat{y}_{ik})}

        Returns
        -------
        dY : ndarray, shape (N, K)
            Finite for every ``y_pred`` in [0, 1].
        """
        # BEGIN SOLUTION: differentiate the clipped log terms; the 1/(N K) of the mean
        y_true = np.asarray(y_true, dtype=float)
        p = np.clip(np.asarray(y_pred, dtype=float), self.eps, 1.0 - self.eps)
        return (p - y_true) / (p * (1.0 - p)) / p.size
        # END SOLUTION


def softmax(z):
    r"""Softmax of every row, computed without overflow.

    .. math:: \mathrm{softmax}(z)_{ij} = \frac{e^{z_{ij}}}{\sum_k e^{z_{ik}}}

    Parameters
    ----------
    z : ndarray, shape (N, C)
        Logits, one row per example; entries up to ``1e4`` in size.

    Returns
    -------
    ndarray, shape (N, C)
        Each row is a probability distribution (non-negative, sums to 1).

    Examples
    --------
    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    # BEGIN SOLUTION: shift each row by its maximum, exponentiate, normalise rows
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    # END SOLUTION


class SoftmaxCrossEntropy:
    r"""Softmax followed by cross-entropy, from logits and integer labels.

    .. math:: L = \frac{1}{N} \sum_i \Big( \log \sum_c e^{z_{ic}} - z_{i, y_i} \Big)

    The loss takes the **logits** ``z`` (no softmax layer before it): the
    combination is numerically stable and its gradient is simple.
    """

    def loss(self, y_true, y_pred):
        """Mean cross-entropy of a batch of logits.

        Parameters
        ----------
        y_true : ndarray of int, shape (N,)
            The class of each example, in ``0 .. C-1``.
        y_pred : ndarray, shape (N, C)
            Logits, entries up to ``1e4`` in size.

        Returns
        -------
        float

        Examples
        --------
        >>> round(SoftmaxCrossEntropy().loss(np.array([1]),
        ...                                  np.array([[0.0, 0.0]])), 4)
        0.6931
        """
        # BEGIN SOLUTION: log-sum-exp of each row minus the logit of the true class
        z = np.asarray(y_pred, dtype=float)
        labels = np.asarray(y_true).astype(int).reshape(-1)
        m = z.max(axis=1)
        log_sum_exp = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
        picked = z[np.arange(z.shape[0]), labels]
        return float(np.mean(log_sum_exp - picked))
        # END SOLUTION

    def grad(self, y_true, y_pred):
        r"""Gradient of :meth:`loss` with respect to the logits.

        .. math:: \frac{\partial L}{\partial z_{ic}} =
                  \frac{\mathrm{softmax}(z)_{ic} - [c = y_i]}{N}

        Returns
        -------
        dY : ndarray, shape (N, C)
            Finite for logits up to ``1e4``; each row sums to 0.
        """
        # BEGIN SOLUTION: the softmax of each row, minus 1 at the true class, over N
        labels = np.asarray(y_true).astype(int).reshape(-1)
        dZ = softmax(y_pred)
        dZ[np.arange(dZ.shape[0]), labels] -= 1.0
        return dZ / dZ.shape[0]
        # END SOLUTION
