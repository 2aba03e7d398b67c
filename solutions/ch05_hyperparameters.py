"""Chapter 5 exercises: mini-batches, optimizers, schedules, early stopping.

The optimizer steps here are *functions*: they return new arrays and never
change their inputs (``course_lib``'s optimizer objects, by contrast, update
the parameter arrays in place).

Use numpy only. Check your work with ``course grade ch05``.
"""

import numpy as np


def iterate_minibatches(X, y, batch_size, rng):
    r"""Yield shuffled mini-batches that cover every example once (one epoch).

    Draw one random permutation of the ``N`` row indices with
    ``rng.permutation(N)`` and cut it into consecutive chunks of
    ``batch_size``; the last chunk is smaller when ``batch_size`` does not
    divide ``N``. Index ``X`` **and** ``y`` with the same chunk, so each input
    stays with its own target.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Inputs.
    y : ndarray, shape (N,) or (N, K)
        Targets.
    batch_size : int
        Number of examples per batch (the last batch may have fewer).
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.

    Yields
    ------
    X_batch : ndarray, shape (B, D)
    y_batch : ndarray, shape (B,) or (B, K)
        With ``B = batch_size`` except possibly for the last batch.

    Examples
    --------
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> sizes = [len(yb) for _, yb in
    ...          iterate_minibatches(X, y, 2, np.random.default_rng(0))]
    >>> sizes
    [2, 2, 1]
    """
    # BEGIN SOLUTION: one permutation of the indices, sliced batch_size at a time
    n = X.shape[0]
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
    # END SOLUTION


def sgd_momentum_step(w, dw, velocity, lr, beta):
    r"""One step of SGD with momentum; returns new arrays.

    The course's convention (the one ``course_lib.SGD`` uses): the velocity is
    the step itself, a decaying sum of past steps ``-lr * dw``.

    .. math::
        v \leftarrow \beta v - \mathrm{lr}\, dw, \qquad w \leftarrow w + v

    With ``beta = 0`` this is plain gradient descent. (Another common
    convention, :math:`v \leftarrow \beta v + dw;\ w \leftarrow w -
    \mathrm{lr}\, v`, takes the same steps for a constant ``lr``, but its
    velocity is a different quantity: use the one above.)

    Parameters
    ----------
    w : ndarray, any shape
        Parameters.
    dw : ndarray, same shape as ``w``
        Gradient of the loss with respect to ``w``.
    velocity : ndarray, same shape as ``w``
        The velocity from the previous step (zeros at the start).
    lr : float
        Learning rate.
    beta : float
        Momentum coefficient, in ``[0, 1)``.

    Returns
    -------
    w : ndarray
        The new parameters (a new array; the input ``w`` is unchanged).
    velocity : ndarray
        The new velocity (a new array; the input is unchanged).

    Examples
    --------
    >>> w, v = sgd_momentum_step(np.array([1.0]), np.array([2.0]),
    ...                          np.array([-0.5]), lr=0.1, beta=0.9)
    >>> np.round(w, 6), np.round(v, 6)
    (array([0.35]), array([-0.65]))
    """
    # BEGIN SOLUTION: new velocity first, then the step along it; no in-place ops
    new_velocity = beta * velocity - lr * dw
    return w + new_velocity, new_velocity
    # END SOLUTION


def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""One step of Adam, with bias correction; returns new arrays.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1)\, dw, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, dw^2

    .. math::
        \hat{m} = \frac{m}{1 - \beta_1^t}, \qquad
        \hat{v} = \frac{v}{1 - \beta_2^t}, \qquad
        w \leftarrow w - \mathrm{lr} \frac{\hat{m}}{\sqrt{\hat{v}} + \epsilon}

    ``t`` counts steps from 1 (the first call has ``t = 1``). Return the
    *uncorrected* moments ``m`` and ``v``: they are what the next step needs.

    Parameters
    ----------
    w, dw, m, v : ndarray, all the same shape
        Parameters, their gradient, first and second moment estimates
        (zeros before the first step).
    t : int
        Step number, starting at 1.
    lr, beta1, beta2, eps : float, optional
        Learning rate, decay rates of the two moments, and a small number
        that keeps the division safe.

    Returns
    -------
    w, m, v : ndarray
        New arrays; the inputs are unchanged.

    Examples
    --------
    On the first step the bias-corrected update is ``lr`` times the sign of
    the gradient (up to ``eps``):

    >>> z = np.zeros(2)
    >>> w, m, v = adam_step(z, np.array([3.0, -0.5]), z, z, t=1, lr=0.1)
    >>> np.round(w, 6)
    array([-0.1,  0.1])
    """
    # BEGIN SOLUTION: update both moments, correct their bias with t, then step
    m_new = beta1 * m + (1.0 - beta1) * dw
    v_new = beta2 * v + (1.0 - beta2) * dw**2
    m_hat = m_new / (1.0 - beta1**t)
    v_hat = v_new / (1.0 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    # END SOLUTION


def exponential_decay(lr0, epoch, rate):
    r"""Learning rate after ``epoch`` epochs of exponential decay.

    .. math:: \mathrm{lr}(e) = \mathrm{lr}_0 \cdot \mathrm{rate}^{e}

    (the same as :math:`\mathrm{lr}_0\, e^{-k e}` with
    :math:`k = -\ln \mathrm{rate}`). Epoch 0 uses ``lr0`` itself.

    Parameters
    ----------
    lr0 : float
        Initial learning rate.
    epoch : int or ndarray of int
        Epoch number(s), from 0.
    rate : float
        Decay factor per epoch, in ``(0, 1]``.

    Returns
    -------
    float or ndarray
        The learning rate (an array of rates when ``epoch`` is an array).

    Examples
    --------
    >>> exponential_decay(0.1, 2, 0.5)
    0.025
    """
    # BEGIN SOLUTION: multiply lr0 by rate once per epoch (a power)
    return lr0 * rate**epoch
    # END SOLUTION


def early_stopping_epoch(val_losses, patience):
    r"""The epoch at which early stopping ends training.

    After each epoch ``e`` (counted from 0) the validation loss
    ``val_losses[e]`` is compared with the best loss seen so far. It is an
    *improvement* only if it is strictly lower. Training stops at the first
    epoch that ends ``patience`` consecutive epochs without improvement; if
    that never happens, training runs to the last epoch,
    ``len(val_losses) - 1``.

    Parameters
    ----------
    val_losses : sequence of float, length E
        Validation loss after each epoch.
    patience : int
        Number of epochs without improvement to tolerate, at least 1.

    Returns
    -------
    int
        Index of the epoch after which training stops.

    Examples
    --------
    The best loss is at epoch 1; epochs 2 and 3 do not improve on it, so with
    ``patience=2`` training stops after epoch 3:

    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
    3

    With ``patience=3`` epoch 4 improves in time and training runs to the end:

    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=3)
    4
    """
    # BEGIN SOLUTION: track the best loss and a counter of epochs since it improved
    best = np.inf
    waited = 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best = loss
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return len(val_losses) - 1
    # END SOLUTION
