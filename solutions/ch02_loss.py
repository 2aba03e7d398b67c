"""Chapter 2 exercises: loss functions.

Every loss takes ``(y_true, y_pred)`` in that order (as scikit-learn does) and
returns a Python float: the **mean** over the batch, never the sum. Averaging
makes the size of a gradient step independent of the batch size.

Use numpy only. Check your work with ``course grade ch02``.
"""

import numpy as np


def mse(y_true, y_pred):
    r"""Mean squared error, averaged over every entry.

    .. math:: L = \frac{1}{N K} \sum_{i=1}^{N} \sum_{k=1}^{K}
              (\hat{y}_{ik} - y_{ik})^2

    Parameters
    ----------
    y_true : ndarray, shape (N, K)
        Targets.
    y_pred : ndarray, shape (N, K)
        Predictions ``y_hat``.

    Returns
    -------
    float
        The mean of the squared differences (a sum would grow with ``N``).

    Examples
    --------
    >>> mse(np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]]))
    0.125
    """
    # BEGIN SOLUTION: square the differences and average them over all entries
    diff = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    return float(np.mean(diff**2))
    # END SOLUTION


def mse_grad(y_true, y_pred):
    r"""Gradient of :func:`mse` with respect to ``y_pred``.

    .. math:: \frac{\partial L}{\partial \hat{y}_{ik}}
              = \frac{2}{N K} (\hat{y}_{ik} - y_{ik})

    Mind the factor 2 (from the square) and the ``1 / (N K)`` (from the mean).

    Parameters
    ----------
    y_true : ndarray, shape (N, K)
        Targets.
    y_pred : ndarray, shape (N, K)
        Predictions ``y_hat``.

    Returns
    -------
    dY : ndarray, shape (N, K)
        Same shape as ``y_pred``.

    Examples
    --------
    >>> mse_grad(np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]]))
    array([[-0.5],
           [ 0. ]])
    """
    # BEGIN SOLUTION: differentiate the mean of squares entry by entry
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - y_true) / y_pred.size
    # END SOLUTION


def binary_cross_entropy(y_true, y_pred, eps=1e-12):
    r"""Binary cross-entropy (log-loss), averaged over every entry, made safe.

    .. math:: L = -\frac{1}{N K} \sum_{i,k} \left[ y_{ik} \log \hat{y}_{ik}
              + (1 - y_{ik}) \log (1 - \hat{y}_{ik}) \right]

    A prediction of exactly ``0`` or ``1`` makes a ``log(0)``. Clip
    ``y_pred`` into ``[eps, 1 - eps]`` first, so the loss stays finite and no
    warning is raised.

    Parameters
    ----------
    y_true : ndarray, shape (N, K)
        Targets, 0 or 1.
    y_pred : ndarray, shape (N, K)
        Predicted probabilities ``y_hat`` in ``[0, 1]``.
    eps : float, optional
        Clipping margin.

    Returns
    -------
    float
        The mean loss.

    Examples
    --------
    >>> round(binary_cross_entropy(np.array([[1.0]]), np.array([[0.5]])), 6)
    0.693147
    """
    # BEGIN SOLUTION: clip the predictions, then average the two log terms
    y_true = np.asarray(y_true, dtype=float)
    p = np.clip(np.asarray(y_pred, dtype=float), eps, 1.0 - eps)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))
    # END SOLUTION


def softmax(z):
    r"""Softmax of every row, computed without overflow.

    .. math:: \mathrm{softmax}(z)_{ij} = \frac{e^{z_{ij}}}{\sum_k e^{z_{ik}}}

    Subtracting the row maximum from every entry of the row does not change
    the result (the factor :math:`e^{-\max}` cancels) and keeps ``exp`` away
    from overflow: it must work for logits as large as ``1e4``.

    Parameters
    ----------
    z : ndarray, shape (N, C)
        Logits: one row per example, one column per class.

    Returns
    -------
    ndarray, shape (N, C)
        Probabilities: every row is positive and sums to 1.

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


def cross_entropy_from_logits(y_true, logits):
    r"""Softmax cross-entropy from logits and integer labels, batch mean.

    .. math:: L = \frac{1}{N} \sum_{i=1}^{N} \left[ \log \sum_k e^{z_{ik}}
              - z_{i, y_i} \right]

    Compute :math:`\log \sum_k e^{z_{ik}}` with the log-sum-exp trick
    (:math:`m_i + \log \sum_k e^{z_{ik} - m_i}` with :math:`m_i` the row
    maximum) rather than taking the ``log`` of a softmax, which can be 0.

    Parameters
    ----------
    y_true : ndarray of int, shape (N,)
        The correct class of each example, in ``0 .. C-1``.
    logits : ndarray, shape (N, C)
        Unnormalised scores ``z``.

    Returns
    -------
    float
        The mean loss.

    Examples
    --------
    Two classes with equal scores cost :math:`\log 2` each:

    >>> round(cross_entropy_from_logits(np.array([1]), np.zeros((1, 2))), 6)
    0.693147
    """
    # BEGIN SOLUTION: log-sum-exp of each row minus the logit of the true class
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(y_true).astype(int).reshape(-1)
    m = z.max(axis=1)
    log_sum_exp = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    picked = z[np.arange(z.shape[0]), labels]
    return float(np.mean(log_sum_exp - picked))
    # END SOLUTION
