r"""Chapter 4 exercises: solving XOR with a 2-4-1 network.

The network is the one of chapters 1 and 3 (sigmoid hidden layer, sigmoid
output), trained with the binary cross-entropy of chapter 2 by plain gradient
descent on the whole batch:

.. math::
    A_1 = \sigma(X W_1 + b_1), \quad \hat{y} = \sigma(A_1 W_2 + b_2), \quad
    L = -\frac{1}{N} \sum_{i} \left[ y_i \log \hat{y}_i
        + (1 - y_i) \log (1 - \hat{y}_i) \right]

With a sigmoid output, the gradient of this loss with respect to the output
pre-activation ``Z2`` is simply ``(y_hat - y) / N``.

Use numpy only. Check your work with ``course grade ch04``.
"""

import numpy as np

#: The four XOR inputs, shape (4, 2), and their labels, shape (4, 1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _sigmoid(z):
    """Stable logistic sigmoid (given: the chapter 1 solution)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def init_params(n_in, n_hidden, n_out, seed):
    r"""Random initial parameters for the two-layer network (Xavier normal).

    Draw every weight independently from a normal distribution with mean 0
    and the Xavier (Glorot) standard deviation of its layer; set the biases to
    zero. Use ``rng = np.random.default_rng(seed)`` and draw ``W1`` first,
    then ``W2``, so that the same seed always gives the same network.

    .. math:: W_1 \sim \mathcal{N}\left(0, \frac{2}{n_{in} + n_{hidden}}\right),
              \quad
              W_2 \sim \mathcal{N}\left(0, \frac{2}{n_{hidden} + n_{out}}\right)

    (the second argument of :math:`\mathcal{N}` is the variance).

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Layer widths.
    seed : int
        Seed of the random generator.

    Returns
    -------
    params : dict of ndarray
        ``"W1"`` (n_in, n_hidden), ``"b1"`` (n_hidden,),
        ``"W2"`` (n_hidden, n_out), ``"b2"`` (n_out,).
    """
    # BEGIN SOLUTION: one default_rng(seed); Xavier-normal weights; zero biases
    rng = np.random.default_rng(seed)
    std1 = np.sqrt(2.0 / (n_in + n_hidden))
    std2 = np.sqrt(2.0 / (n_hidden + n_out))
    return {
        "W1": rng.normal(0.0, std1, size=(n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, std2, size=(n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }
    # END SOLUTION


def train_step(params, X, y, lr):
    r"""One step of gradient descent on the whole batch; returns the loss.

    Run the forward pass, compute the binary cross-entropy ``L`` (the batch
    mean, see the module docstring), backpropagate, then update every
    parameter **in place**:

    .. math:: \theta \leftarrow \theta - \mathrm{lr}\,
              \frac{\partial L}{\partial \theta}

    With ``dZ2 = (y_hat - y) / N`` the rest is chapter 3: ``dW2 = A1.T @ dZ2``,
    ``dA1 = dZ2 @ W2.T``, and so on. Compute all four gradients before
    changing any parameter.

    Parameters
    ----------
    params : dict of ndarray
        ``"W1"``, ``"b1"``, ``"W2"``, ``"b2"`` as made by :func:`init_params`.
        Updated in place: after the call, ``params`` holds the new values.
    X : ndarray, shape (N, n_in)
        Inputs.
    y : ndarray, shape (N, n_out)
        Targets, 0 or 1.
    lr : float
        Learning rate.

    Returns
    -------
    float
        The loss **before** the update.
    """
    # BEGIN SOLUTION: forward, loss, backward from dZ2, then update every array
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    A1 = _sigmoid(X @ W1 + b1)
    y_hat = _sigmoid(A1 @ W2 + b2)
    p = np.clip(y_hat, 1e-12, 1.0 - 1e-12)
    loss = float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
    dZ2 = (y_hat - y) / X.shape[0]
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * A1 * (1.0 - A1)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    params["W1"] = W1 - lr * dW1
    params["b1"] = b1 - lr * db1
    params["W2"] = W2 - lr * dW2
    params["b2"] = b2 - lr * db2
    return loss
    # END SOLUTION


def predict(params, X):
    r"""Class labels: 1 where the network's output is above 0.5, else 0.

    Parameters
    ----------
    params : dict of ndarray
        The network's parameters.
    X : ndarray, shape (N, n_in)
        Inputs.

    Returns
    -------
    ndarray of int, shape (N, 1)
        Zeros and ones (an integer array, not booleans).
    """
    # BEGIN SOLUTION: forward pass, then threshold at 0.5 and convert to int
    A1 = _sigmoid(X @ params["W1"] + params["b1"])
    y_hat = _sigmoid(A1 @ params["W2"] + params["b2"])
    return (y_hat > 0.5).astype(int)
    # END SOLUTION


def train_xor(epochs=2000, lr=2.0, seed=0):
    r"""Train a 2-4-1 network on XOR and return its parameters.

    Start from ``init_params(2, 4, 1, seed)`` and call :func:`train_step` on
    the four XOR examples (``XOR_X``, ``XOR_Y``) ``epochs`` times.

    Parameters
    ----------
    epochs : int, optional
        Number of full-batch gradient steps.
    lr : float, optional
        Learning rate.
    seed : int, optional
        Seed passed to :func:`init_params`.

    Returns
    -------
    params : dict of ndarray
        Trained parameters with which :func:`predict` gets all four XOR
        examples right.
    """
    # BEGIN SOLUTION: initialise, then loop train_step over the epochs
    params = init_params(2, 4, 1, seed)
    for _ in range(epochs):
        train_step(params, XOR_X, XOR_Y, lr)
    return params
    # END SOLUTION
