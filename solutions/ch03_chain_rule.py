"""Chapter 3 exercises: the chain rule and backpropagation.

Conventions used by every function here:

* A backward function receives the gradient of the loss with respect to its
  layer's **output** (``dA`` or ``dZ``) and returns the gradient with respect
  to its **inputs**. Every gradient has the shape of what it is taken with
  respect to: ``dW`` has the shape of ``W``, ``db`` the shape of ``b``.
* The loss is a batch mean, so the ``1/N`` enters once, in the gradient of
  the loss (``dY``). Everything flowing backwards from there already carries
  it: ``dense_backward`` must **not** divide by ``N`` again.

Use numpy only. Check your work with ``course grade ch03``.
"""

import numpy as np


def _sigmoid(z):
    """Stable logistic sigmoid (given: the chapter 1 solution)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(dA, Z):
    r"""Backward pass of the sigmoid activation ``A = sigmoid(Z)``.

    .. math:: \frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A}
              \odot \sigma(Z) \odot (1 - \sigma(Z))

    Parameters
    ----------
    dA : ndarray, shape (N, H)
        Gradient of the loss with respect to the activation's output.
    Z : ndarray, shape (N, H)
        The activation's input, as stored by the forward pass.

    Returns
    -------
    dZ : ndarray, shape (N, H)
        Gradient of the loss with respect to ``Z`` (element-wise product).

    Examples
    --------
    >>> sigmoid_backward(np.array([[1.0]]), np.array([[0.0]]))
    array([[0.25]])
    """
    # BEGIN SOLUTION: multiply dA by the sigmoid's derivative at Z (use _sigmoid)
    s = _sigmoid(Z)
    return dA * s * (1.0 - s)
    # END SOLUTION


def relu_backward(dA, Z):
    r"""Backward pass of the ReLU activation ``A = max(0, Z)``.

    .. math:: \frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A}
              \odot \mathbb{1}[Z > 0]

    At ``Z == 0`` the course takes the derivative to be 0.

    Parameters
    ----------
    dA : ndarray, shape (N, H)
        Gradient of the loss with respect to the activation's output.
    Z : ndarray, shape (N, H)
        The activation's input.

    Returns
    -------
    dZ : ndarray, shape (N, H)
        A new array; ``dA`` must not be changed.

    Examples
    --------
    >>> relu_backward(np.array([[5.0, 5.0, 5.0]]), np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 0., 5.]])
    """
    # BEGIN SOLUTION: let the gradient through only where Z was positive
    return dA * (Z > 0)
    # END SOLUTION


def dense_backward(dZ, X, W):
    r"""Backward pass of a dense layer ``Z = X @ W + b``.

    .. math::
        dX = dZ\, W^\top, \qquad dW = X^\top dZ, \qquad
        db = \sum_{i=1}^{N} dZ_{i,:}

    ``dZ`` already contains the ``1/N`` of the batch-mean loss, so do **not**
    divide by ``N`` here. Check the shapes: each gradient has the shape of the
    thing it is a gradient of.

    Parameters
    ----------
    dZ : ndarray, shape (N, D_out)
        Gradient of the loss with respect to the layer's output.
    X : ndarray, shape (N, D_in)
        The layer's input, as stored by the forward pass.
    W : ndarray, shape (D_in, D_out)
        The layer's weights.

    Returns
    -------
    dX : ndarray, shape (N, D_in)
    dW : ndarray, shape (D_in, D_out)
    db : ndarray, shape (D_out,)

    Examples
    --------
    >>> dX, dW, db = dense_backward(np.ones((3, 2)), np.ones((3, 4)),
    ...                             np.ones((4, 2)))
    >>> dX.shape, dW.shape, db.shape
    ((3, 4), (4, 2), (2,))
    """
    # BEGIN SOLUTION: three products/sums whose shapes match X, W and b
    dX = dZ @ W.T
    dW = X.T @ dZ
    db = dZ.sum(axis=0)
    return dX, dW, db
    # END SOLUTION


def numerical_gradient(f, x, h=1e-5):
    r"""Gradient of a scalar function by centred finite differences.

    .. math:: \frac{\partial f}{\partial x_j} \approx
              \frac{f(x + h e_j) - f(x - h e_j)}{2h}

    Nudge one entry of ``x`` at a time (every entry, whatever the shape of
    ``x``), evaluate ``f`` twice, and put the entry back exactly as it was:
    when you return, ``x`` must be unchanged. ``np.nditer`` or
    ``np.ndindex(x.shape)`` visit every index.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; it reads ``x``, which you change in place.
    x : ndarray of float, any shape
        The point at which to take the gradient.
    h : float, optional
        Step size.

    Returns
    -------
    grad : ndarray, same shape as ``x``

    Examples
    --------
    >>> x = np.array([[1.0, -2.0, 3.0]])
    >>> g = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    >>> np.round(g, 6)
    array([[ 2., -4.,  6.]])
    """
    # BEGIN SOLUTION: loop over every index; f at x+h and x-h; restore the entry
    grad = np.zeros(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * h)
    return grad
    # END SOLUTION


def backprop_two_layer(X, y, params):
    r"""Gradients of a two-layer sigmoid network under the mean squared error.

    Forward pass (as in chapter 1) and loss:

    .. math::
        A_1 = \sigma(X W_1 + b_1), \quad \hat{y} = \sigma(A_1 W_2 + b_2), \quad
        L = \frac{1}{N K} \sum_{i,k} (\hat{y}_{ik} - y_{ik})^2

    The MSE is the mean over **all** entries of ``y`` (``N * K`` of them).
    Apply the chain rule backwards, starting from
    :math:`\partial L / \partial \hat{y} = 2(\hat{y} - y) / (N K)`;
    :func:`sigmoid_backward` and :func:`dense_backward` do most of the work.

    Parameters
    ----------
    X : ndarray, shape (N, D_in)
        Inputs.
    y : ndarray, shape (N, K)
        Targets.
    params : dict of ndarray
        ``"W1"`` (D_in, H), ``"b1"`` (H,), ``"W2"`` (H, K), ``"b2"`` (K,).
        Do not change them.

    Returns
    -------
    grads : dict of ndarray
        ``"dW1"``, ``"db1"``, ``"dW2"``, ``"db2"``, each the shape of the
        matching parameter.
    """
    # BEGIN SOLUTION: forward pass keeping Z1, A1, y_hat; then backwards, layer by layer
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = X @ W1 + b1
    A1 = _sigmoid(Z1)
    Z2 = A1 @ W2 + b2
    y_hat = _sigmoid(Z2)
    dY = 2.0 * (y_hat - y) / y.size
    dZ2 = sigmoid_backward(dY, Z2)
    dA1, dW2, db2 = dense_backward(dZ2, A1, W2)
    dZ1 = sigmoid_backward(dA1, Z1)
    _, dW1, db1 = dense_backward(dZ1, X, W1)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    # END SOLUTION
