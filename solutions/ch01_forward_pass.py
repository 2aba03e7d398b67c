"""Chapter 1 exercises: the forward pass.

Shapes are batch-first throughout the course: a batch of ``N`` examples with
``D_in`` features is an array ``X`` of shape ``(N, D_in)``; a layer's weights
``W`` have shape ``(D_in, D_out)`` and its bias ``b`` shape ``(D_out,)``.

Use numpy only. Check your work with ``course grade ch01`` in a terminal or
``course_lib.grading.check("ch01")`` in a notebook.
"""

import numpy as np


def sigmoid(z):
    r"""Logistic sigmoid, applied element by element, without overflow.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}}

    The formula as written computes ``exp(-z)``, which overflows (with a
    ``RuntimeWarning``) for ``z`` around ``-710`` and below. Rewrite it so that
    ``exp`` only ever sees a number ``<= 0``: for ``z < 0`` use the equal form
    :math:`\sigma(z) = e^{z} / (1 + e^{z})`. It must return finite values and
    raise no warning for ``|z|`` up to ``1e4``.

    Parameters
    ----------
    z : ndarray of any shape (or a float)
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        Values in ``[0, 1]``.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 2.0, -1000.0]))
    array([0.5       , 0.88079708, 0.        ])
    """
    # BEGIN SOLUTION: compute exp only of -|z|, then pick the right form by sign
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END SOLUTION


def relu(z):
    r"""Rectified linear unit, element by element.

    .. math:: \mathrm{relu}(z) = \max(0, z)

    Parameters
    ----------
    z : ndarray of any shape
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        A new array; ``z`` itself must not be changed.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    # BEGIN SOLUTION: keep the positive part, zero elsewhere, without touching z
    return np.maximum(np.asarray(z, dtype=float), 0.0)
    # END SOLUTION


def dense_forward(X, W, b):
    r"""Forward pass of a fully connected (dense) layer for a whole batch.

    .. math:: Z = X W + b

    The bias is added to every row (numpy broadcasting does it for you).

    Parameters
    ----------
    X : ndarray, shape (N, D_in)
        A batch of ``N`` inputs, one per row.
    W : ndarray, shape (D_in, D_out)
        Weights: column ``j`` holds the weights of output unit ``j``.
    b : ndarray, shape (D_out,)
        Biases.

    Returns
    -------
    Z : ndarray, shape (N, D_out)
        Pre-activations.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0]])                 # (1, 2)
    >>> W = np.array([[1.0, 0.0, 1.0],
    ...               [0.0, 1.0, 1.0]])            # (2, 3)
    >>> dense_forward(X, W, np.array([0.0, 0.0, 0.5]))
    array([[1. , 2. , 3.5]])
    """
    # BEGIN SOLUTION: one matrix product (mind the order) plus the bias
    return X @ W + b
    # END SOLUTION


def mlp_forward(X, params):
    r"""Forward pass of a two-layer network with sigmoid hidden and output layers.

    .. math::
        A_1 = \sigma(X W_1 + b_1), \qquad \hat{y} = \sigma(A_1 W_2 + b_2)

    Parameters
    ----------
    X : ndarray, shape (N, D_in)
        A batch of inputs.
    params : dict of ndarray
        ``"W1"`` (D_in, n_hidden), ``"b1"`` (n_hidden,),
        ``"W2"`` (n_hidden, n_out), ``"b2"`` (n_out,).

    Returns
    -------
    y_hat : ndarray, shape (N, n_out)
        The network's outputs, each in ``[0, 1]``.

    Examples
    --------
    With all weights and biases zero every output is ``sigmoid(0) = 0.5``:

    >>> params = {"W1": np.zeros((2, 4)), "b1": np.zeros(4),
    ...           "W2": np.zeros((4, 1)), "b2": np.zeros(1)}
    >>> mlp_forward(np.ones((3, 2)), params)
    array([[0.5],
           [0.5],
           [0.5]])
    """
    # BEGIN SOLUTION: two dense layers, each followed by the sigmoid
    A1 = sigmoid(dense_forward(X, params["W1"], params["b1"]))
    return sigmoid(dense_forward(A1, params["W2"], params["b2"]))
    # END SOLUTION
