"""Chapter 10 exercises: a convolution layer and max pooling for your engine.

The chapter computes convolution with loops over every output entry (the
definition) and with im2col, for kernels whose entries sit next to each other.
Here you write the next case, the *dilated* convolution: the kernel's entries
are ``dilation`` pixels apart, so a 3x3 kernel with dilation 2 sees a 5x5
patch (with holes) at the same number of weights. Dilation 1 is the page's
convolution.

The convolution of this course is a cross-correlation (the kernel is not
flipped), with zero padding ``padding`` on every side, step ``stride`` and
spacing ``dilation``:

    Y[n, f, i, j] = b[f] + sum over c, p, q of
                    W[f, c, p, q] * Xp[n, c, stride * i + dilation * p,
                                             stride * j + dilation * q]

Shapes: X (N, C, H, W_in), W (F, C, k, k), b (F,), Y (N, F, H', W') with
H' = (H + 2 * padding - dilation * (k - 1) - 1) // stride + 1 (the same for
the width). A fast way (numpy does the rest): loop over the ``k x k`` kernel
offsets only; for offset ``(p, q)`` a strided slice of ``Xp`` starting at
``(dilation * p, dilation * q)`` lines up every output position with the pixel
that ``W[:, :, p, q]`` multiplies.

The classes ``Conv2D`` and ``MaxPool2D`` at the end turn your functions into
layers of the learner's engine (``params``, ``grads``, ``forward``,
``backward``). Use numpy only. Check your work with ``course grade ch10``.
"""

import numpy as np


def pad_images(X, padding):
    """Zeros around every image: (N, C, H, W) -> (N, C, H + 2P, W + 2P)."""
    P = padding
    return np.pad(X, ((0, 0), (0, 0), (P, P), (P, P)))


def out_size(n, k, stride, padding, dilation=1):
    """Output length of a window of k entries, ``dilation`` apart, sliding over
    n (plus padding on each side) with step ``stride``."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def conv2d_forward(X, W, b, stride=1, padding=0, dilation=1):
    """Dilated cross-correlation of a batch of images with F kernels.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W_in)
    W : ndarray, shape (F, C, k, k)
    b : ndarray, shape (F,)
    stride, padding, dilation : int

    Returns
    -------
    Y : ndarray, shape (N, F, H', W')
        ``Y[n, f, i, j] = b[f] + sum_{c,p,q} W[f, c, p, q] *
        Xp[n, c, stride * i + dilation * p, stride * j + dilation * q]``,
        ``Xp`` the padded X.
    """
    # BEGIN SOLUTION: pad; per offset add W[:, :, p, q] times a slice from (d p, d q)
    F, _, k, _ = W.shape
    N, _, H, W_in = X.shape
    Ho = out_size(H, k, stride, padding, dilation)
    Wo = out_size(W_in, k, stride, padding, dilation)
    Xp = pad_images(X, padding)
    Y = np.zeros((N, F, Ho, Wo)) + b.reshape(1, F, 1, 1)
    for p in range(k):
        for q in range(k):
            r, c = dilation * p, dilation * q
            Xs = Xp[:, :, r:r + stride * Ho:stride, c:c + stride * Wo:stride]
            Y += np.einsum("nchw,fc->nfhw", Xs, W[:, :, p, q])
    return Y
    # END SOLUTION


def conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1):
    """Gradients of :func:`conv2d_forward` with respect to X, W and b.

    Parameters
    ----------
    dY : ndarray, shape (N, F, H', W')
        Gradient of the loss with respect to the output Y.
    X, W, stride, padding, dilation :
        As given to the forward pass.

    Returns
    -------
    dX : ndarray, shape (N, C, H, W_in)
        The shape of X itself (not of the padded X).
    dW : ndarray, shape (F, C, k, k)
        The same kernel is used at every position, so its gradient is a sum
        over the batch and over every position.
    db : ndarray, shape (F,)
    """
    # BEGIN SOLUTION: per kernel offset: dW, and dY W into dXp; crop the pad
    F, _, k, _ = W.shape
    _, _, H, W_in = X.shape
    Ho, Wo = dY.shape[2], dY.shape[3]
    Xp = pad_images(X, padding)
    dXp = np.zeros(Xp.shape)
    dW = np.zeros(W.shape)
    for p in range(k):
        for q in range(k):
            r, c = dilation * p, dilation * q
            rows = slice(r, r + stride * Ho, stride)
            cols = slice(c, c + stride * Wo, stride)
            dW[:, :, p, q] = np.einsum("nfhw,nchw->fc", dY, Xp[:, :, rows, cols])
            dXp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dY, W[:, :, p, q])
    inside = (slice(None), slice(None), slice(padding, padding + H),
              slice(padding, padding + W_in))
    return dXp[inside], dW, dY.sum(axis=(0, 2, 3))
    # END SOLUTION


def maxpool2d_forward(X, size, stride=None):
    """Max over every ``size x size`` window (given, not an exercise).

    X (N, C, H, W_in) -> Y (N, C, H', W'); ``stride`` defaults to ``size``.
    """
    stride = size if stride is None else stride
    N, C, H, W_in = X.shape
    Ho, Wo = out_size(H, size, stride, 0), out_size(W_in, size, stride, 0)
    Y = np.full((N, C, Ho, Wo), -np.inf)
    for p in range(size):
        for q in range(size):
            window_entry = X[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride]
            Y = np.maximum(Y, window_entry)
    return Y


def maxpool2d_backward(dY, X, size, stride=None):
    """Gradient of :func:`maxpool2d_forward` with respect to X.

    Each window passes its gradient ``dY[n, c, i, j]`` to the one entry of X
    that was its maximum (the first one in row-major order if several are
    equal); every other entry of the window gets nothing from it. Windows that
    overlap (``stride < size``) add their contributions.

    Parameters
    ----------
    dY : ndarray, shape (N, C, H', W')
    X : ndarray, shape (N, C, H, W_in)
    size : int
    stride : int or None (means ``size``)

    Returns
    -------
    dX : ndarray, shape (N, C, H, W_in)
    """
    # BEGIN SOLUTION: per offset: dY to where the window's max is (first only)
    stride = size if stride is None else stride
    Ho, Wo = dY.shape[2], dY.shape[3]
    Y = maxpool2d_forward(X, size, stride)
    dX = np.zeros(X.shape)
    taken = np.zeros(Y.shape, dtype=bool)
    for p in range(size):
        for q in range(size):
            rows = slice(p, p + stride * Ho, stride)
            cols = slice(q, q + stride * Wo, stride)
            winner = (X[:, :, rows, cols] == Y) & ~taken
            dX[:, :, rows, cols] += np.where(winner, dY, 0.0)
            taken |= winner
    return dX
    # END SOLUTION


class Conv2D:
    """A convolution layer of the learner's engine, built on your functions.

    ``params`` and ``grads``: ``{"W": (F, C, k, k), "b": (F,)}``; He
    initialisation (fan-in ``C * k * k``) from ``np.random.default_rng(seed)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, seed=0):
        rng = np.random.default_rng(seed)
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.params = {"W": rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape),
                       "b": np.zeros(out_channels)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, X):
        self.X = X
        return conv2d_forward(X, self.params["W"], self.params["b"], self.stride,
                              self.padding, self.dilation)

    def backward(self, dY):
        dX, dW, db = conv2d_backward(dY, self.X, self.params["W"], self.stride,
                                     self.padding, self.dilation)
        self.grads["W"][...] = dW
        self.grads["b"][...] = db
        return dX


class MaxPool2D:
    """A max-pooling layer of the learner's engine (no parameters)."""

    def __init__(self, size, stride=None):
        self.size, self.stride = size, stride
        self.params, self.grads = {}, {}

    def forward(self, X):
        self.X = X
        return maxpool2d_forward(X, self.size, self.stride)

    def backward(self, dY):
        return maxpool2d_backward(dY, self.X, self.size, self.stride)
