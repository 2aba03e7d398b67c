"""Chapter 3 exercises: backward passes for the pieces of your engine.

This file grows the layers of chapter 1 (it imports your
``ch01_forward_pass.py``) by a ``backward`` method each. The protocol:

* ``backward(dY) -> dX`` receives the gradient of the loss with respect to the
  layer's **output** and returns the gradient with respect to its **input**,
  using what ``forward`` cached;
* a layer with parameters also **writes** ``self.grads["W"]`` and
  ``self.grads["b"]`` (overwriting the previous ones, never adding to them);
* ``backward`` never changes ``self.params``: updating the weights is the
  optimizer's job (chapters 4 and 5);
* every gradient has the shape of what it is taken with respect to;
* the loss is a batch mean, so the ``1/N`` is already inside ``dY`` (chapter
  2's ``grad``): a layer does **not** divide by ``N`` again.

When chapter 3 is graded, the reference versions of chapters 1 and 2 may be
used in place of yours (a mistake there costs points only there); when you
run your engine, your own files are used.

Use numpy only. Check your work with ``course grade ch03``.
"""

import ch01_forward_pass as ch01
import numpy as np
from ch01_forward_pass import forward, sigmoid  # noqa: F401  (part of the engine)


class Sigmoid(ch01.Sigmoid):
    r"""Sigmoid layer with its backward pass (given: the chapter works it out).

    ``forward`` (chapter 1) cached ``self.A = sigmoid(Z)``; since
    :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, the backward pass
    needs nothing else.
    """

    def backward(self, dY):
        return dY * self.A * (1.0 - self.A)


class Tanh(ch01.Tanh):
    """Tanh layer with its backward pass."""

    def backward(self, dY):
        r"""Gradient with respect to the layer's input ``Z``.

        .. math:: \frac{d}{dz} \tanh z = 1 - \tanh^2 z

        Parameters
        ----------
        dY : ndarray, shape (N, H)
            Gradient of the loss with respect to the output ``A = tanh(Z)``
            of the last ``forward`` (cached there as ``self.A``).

        Returns
        -------
        dZ : ndarray, shape (N, H)

        Examples
        --------
        >>> layer = Tanh()
        >>> _ = layer.forward(np.array([[0.0]]))
        >>> layer.backward(np.array([[2.0]]))
        array([[2.]])
        """
        # BEGIN SOLUTION: dY times the derivative, written with the cached output
        return dY * (1.0 - self.A**2)
        # END SOLUTION


class LeakyReLU(ch01.LeakyReLU):
    """Leaky ReLU layer with its backward pass."""

    def backward(self, dY):
        r"""Gradient with respect to the layer's input ``Z``.

        .. math:: f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}

        (at ``z == 0`` the course takes the slope to be ``alpha``, the side
        that chapter 1's forward uses there).

        Parameters
        ----------
        dY : ndarray, shape (N, H)
            Gradient with respect to the layer's output; must not be changed.

        Returns
        -------
        dZ : ndarray, shape (N, H)
        """
        # BEGIN SOLUTION: dY where the cached Z was positive, alpha * dY elsewhere
        return np.where(self.Z > 0, dY, self.alpha * dY)
        # END SOLUTION


class Dense(ch01.Dense):
    r"""Dense layer :math:`Z = X W + b` with its backward pass."""

    def backward(self, dY):
        r"""Gradients of the loss for the layer's input and parameters.

        With ``X`` the input cached by the last ``forward``:

        * ``self.grads["W"]`` and ``self.grads["b"]`` get the gradients with
          respect to ``W`` and ``b`` (new arrays, overwriting the old ones);
        * the return value is the gradient with respect to ``X``.

        The chapter derives the three products; check each one's shape against
        the table there: a gradient has the shape of what it is taken with
        respect to.

        Parameters
        ----------
        dY : ndarray, shape (N, n_out)
            Gradient of the loss with respect to the layer's output ``Z``
            (it already contains the batch mean's ``1/N``).

        Returns
        -------
        dX : ndarray, shape (N, n_in)

        Examples
        --------
        >>> layer = Dense(4, 2, seed=0)
        >>> _ = layer.forward(np.ones((3, 4)))
        >>> layer.backward(np.ones((3, 2))).shape, layer.grads["W"].shape
        ((3, 4), (4, 2))
        """
        # BEGIN SOLUTION: three products/sums shaped like X, W and b; params untouched
        self.grads["W"] = self.X.T @ dY
        self.grads["b"] = dY.sum(axis=0)
        return dY @ self.params["W"].T
        # END SOLUTION


def numerical_gradient(f, x, h=1e-5):
    r"""Gradient of a scalar function by centred finite differences.

    .. math:: \frac{\partial f}{\partial x_j} \approx
              \frac{f(x + h e_j) - f(x - h e_j)}{2h}

    **The in-place contract.** ``f`` takes no copy: it reads the array ``x``
    itself (the weights of a layer, say), so you nudge ``x`` in place, one
    entry at a time (every entry, whatever the shape of ``x``), evaluate
    ``f`` twice, and put the entry back exactly as it was. When you return,
    ``x`` must hold its original values. ``np.ndindex(x.shape)`` visits every
    index.

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


def backward(layers, dY):
    """Run a gradient backwards through a list of layers, last to first.

    The counterpart of chapter 1's ``forward(layers, X)``: call it after a
    forward pass through the same layers. Each layer's ``backward`` fills its
    own ``grads``.

    Parameters
    ----------
    layers : list
        Layers with a ``backward`` method, in the order ``forward`` used.
    dY : ndarray
        Gradient of the loss with respect to the last layer's output.

    Returns
    -------
    dX : ndarray
        Gradient with respect to the first layer's input, shape ``(N, D_in)``.
    """
    # BEGIN SOLUTION: each layer's backward, in reverse order, feeding the next one
    grad = dY
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return grad
    # END SOLUTION
