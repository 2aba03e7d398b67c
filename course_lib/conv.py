r"""Convolution layer ``Conv2D``, computed with im2col.

im2col ("image to columns") copies every patch the kernel visits into one column
of a matrix, so that the whole convolution becomes one matrix product, the
product of a Dense layer:

.. math::
    \text{cols} \in \mathbb{R}^{(C k k) \times (H' W' N)}, \qquad
    Y_{mat} = W_{mat}\, \text{cols} + b, \qquad W_{mat} \in \mathbb{R}^{F \times C k k}.

The backward is that of a Dense layer on the columns of ``cols``
(:math:`dW_{mat} = dY_{mat}\, \text{cols}^\top`, :math:`db = \sum dY`,
:math:`d\text{cols} = W_{mat}^\top dY_{mat}`), followed by col2im, which adds every
column of :math:`d\text{cols}` back onto the patch it came from. A pixel that lies
in several patches collects a sum; the padding is cut off at the end.
``course_lib.conv_reference`` computes the same numbers with loops.

Both copies run as :math:`k^2` strided slices (one per kernel offset) over arrays
kept in the order (channel, row, column, batch): with the batch last, every slice
is read and written in long contiguous runs.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str
from .layers import Layer

__all__ = ["Conv2D", "col2im", "im2col"]


def im2col(X, k, stride=1, padding=0):
    r"""Every ``k x k`` patch of ``X`` as one column.

    Parameters
    ----------
    X : (N, C, H, W)
    k, stride, padding : int

    Returns
    -------
    cols : (C * k * k, H' * W' * N)
        Column :math:`(i, j, n)` holds the patch
        :math:`X^{pad}_{n,\,:,\,s i : s i + k,\,s j : s j + k}`, flattened in the
        order (channel, row, column) of ``W[f]``.
    (H', W') : tuple of int
    """
    N, C, H, W = X.shape
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    Xp = np.zeros((C, H + 2 * padding, W + 2 * padding, N), dtype=X.dtype)
    Xp[:, padding:padding + H, padding:padding + W] = _batch_last(X)   # (C, H, W, N)
    cols = np.empty((C, k, k, Ho, Wo, N), dtype=X.dtype)
    for p in range(k):                   # one strided copy per kernel offset
        for q in range(k):
            cols[:, p, q] = Xp[:, p:p + stride * Ho:stride, q:q + stride * Wo:stride]
    return cols.reshape(C * k * k, Ho * Wo * N), (Ho, Wo)


def col2im(dcols, X_shape, k, stride=1, padding=0):
    r"""The adjoint of :func:`im2col`: add every column back onto its patch.

    Parameters
    ----------
    dcols : (C * k * k, H' * W' * N)
    X_shape : (N, C, H, W)
    k, stride, padding : int

    Returns
    -------
    dX : (N, C, H, W)
        :math:`dX^{pad}_{n,c,\,s i + p,\,s j + q} \mathrel{+}=
        d\text{cols}_{(c,p,q),\,(i,j,n)}`, then the padding is cropped.
    """
    N, C, H, W = X_shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    Ho, Wo = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    d = dcols.reshape(C, k, k, Ho, Wo, N)
    dXp = np.zeros((C, Hp, Wp, N), dtype=dcols.dtype)
    for p in range(k):                   # k * k strided additions, not N H' W' loops
        for q in range(k):
            dXp[:, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += d[:, p, q]
    return dXp[:, padding:padding + H, padding:padding + W].transpose(3, 0, 1, 2)


class Conv2D(Layer):
    r"""2-D convolution (cross-correlation, as in PyTorch):
    :math:`Y_{n,f,i,j} = b_f + \sum_{c,p,q} W_{f,c,p,q}\,
    X^{pad}_{n,c,\,s i + p,\,s j + q}`.

    Shapes: X (N, C, H, W) -> Y (N, F, H', W') with
    :math:`H' = \lfloor (H + 2P - k)/s \rfloor + 1` (the same for W').

    Parameters
    ----------
    in_channels, out_channels : int
        :math:`C` and :math:`F`.
    kernel_size : int
        :math:`k` (square kernels).
    stride : int
        :math:`s`, the step between two patches.
    padding : int
        :math:`P` rows and columns of zeros on every side.
    init : {'he', 'xavier', 'normal', 'zeros'}
        Weight initialisation with fan-in :math:`C k^2` (and fan-out
        :math:`F k^2` for Xavier). The bias starts at zero.
    seed : int, numpy.random.Generator or None
    dtype : numpy dtype
        float64 (default) or float32.

    Attributes
    ----------
    params : {'W': (F, C, k, k), 'b': (F,)}
    grads : {'W': (F, C, k, k), 'b': (F,)}
    """

    input_ndim = 4

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 init="he", seed=None, dtype=np.float64):
        super().__init__()
        C, F, k = int(in_channels), int(out_channels), int(kernel_size)
        if min(C, F, k, int(stride)) < 1 or int(padding) < 0:
            raise ValueError("Conv2D: in_channels, out_channels, kernel_size and "
                             "stride must be >= 1 and padding >= 0, got "
                             f"{in_channels}, {out_channels}, {kernel_size}, "
                             f"{stride}, {padding}")
        self.C, self.F, self.k = C, F, k
        self.stride, self.padding = int(stride), int(padding)
        self.init, self.dtype = init, np.dtype(dtype)
        W = _init_kernel(F, C, k, init, seed).astype(self.dtype)
        self.params = {"W": W, "b": np.zeros(F, dtype=self.dtype)}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros(F, dtype=self.dtype)}
        self.X_shape = self.cols = self.out_hw = None
        self._dcols_out = None

    def forward(self, X):
        """X (N, C, H, W) -> Y (N, F, H', W'); keeps the im2col matrix for backward."""
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[1] != self.C:
            raise ShapeError(f"{self!r}.forward: X must have shape (N, {self.C}, H, "
                             f"W), got {shape_str(X.shape)}")
        k, s, P = self.k, self.stride, self.padding
        if min(X.shape[2:]) + 2 * P < k:
            raise ShapeError(f"{self!r}.forward: the {k}x{k} kernel does not fit in "
                             f"X {shape_str(X.shape)} with padding {P}")
        cols, (Ho, Wo) = im2col(X, k, s, P)
        Wm = self.params["W"].reshape(self.F, -1)               # (F, C k k)
        Y = Wm @ cols                                           # (F, H' W' N)
        Y += self.params["b"][:, None]
        self.X_shape, self.cols, self.out_hw = X.shape, cols, (Ho, Wo)
        return Y.reshape(self.F, Ho, Wo, X.shape[0]).transpose(3, 0, 1, 2)

    def backward(self, dY):
        r"""The Dense backward on the columns, then col2im:
        :math:`dW_{mat} = dY_{mat}\, \text{cols}^\top`, :math:`db_f =
        \sum_{n,i,j} dY_{n,f,i,j}` (summed over every position), :math:`dX =
        \text{col2im}(W_{mat}^\top dY_{mat})`.

        dY (N, F, H', W') -> dX (N, C, H, W)
        """
        dYm = self._param_grads(dY)                             # (F, H' W' N)
        dcols = self._dcols(dYm)                                # W_mat^T dY_mat
        return _col2im_unbuffered(dcols, self.X_shape, self.k, self.stride,
                                  self.padding)

    def backward_params(self, dY):
        """``backward`` without :math:`dX`: only ``grads['W']`` and ``grads['b']``.

        Training calls it for a first layer, whose :math:`dX` no update needs
        (here the product :math:`W_{mat}^\top dY_{mat}` and col2im, about half
        of the backward).
        """
        self._param_grads(dY)

    def _param_grads(self, dY):
        r""":math:`dW_{mat} = dY_{mat}\, \text{cols}^\top` and :math:`db` into
        ``grads``; returns :math:`dY_{mat}` (F, H' W' N), in the order of ``cols``."""
        if self.cols is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, (self.X_shape[0], self.F, *self.out_hw), "dY")
        dYm = _batch_last(dY).reshape(self.F, -1)
        # (cols dY_mat^T)^T is dY_mat cols^T; OpenBLAS runs this order faster here
        self.grads["W"][...] = (self.cols @ dYm.T).T.reshape(self.grads["W"].shape)
        self.grads["b"][...] = dYm.sum(axis=1)
        return dYm

    def _dcols(self, dYm):
        r""":math:`d\text{cols} = W_{mat}^\top dY_{mat}` (C k k, H' W' N), written into
        an array the layer keeps from one backward to the next.

        A fresh array of that size each time (4.7 MB for 8 channels on a float32
        digits batch of 256) can cost hundreds of page faults when the memory
        allocator has just given the space back to the system.
        """
        WmT = self.params["W"].reshape(self.F, -1).T
        shape, dtype = (WmT.shape[0], dYm.shape[1]), np.result_type(WmT, dYm)
        out = getattr(self, "_dcols_out", None)
        if out is None or out.shape != shape or out.dtype != dtype:
            out = self._dcols_out = np.empty(shape, dtype=dtype)
        return np.matmul(WmT, dYm, out=out)

    def __repr__(self):
        extra = f", stride={self.stride}" if self.stride != 1 else ""
        extra += f", padding={self.padding}" if self.padding else ""
        return f"Conv2D({self.C}→{self.F}, {self.k}x{self.k}{extra})"


def _init_kernel(F, C, k, init, seed):
    """Kernel (F, C, k, k) with fan-in C k^2 and fan-out F k^2."""
    rng = np.random.default_rng(seed)
    fan_in, fan_out = C * k * k, F * k * k
    if init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(F, C, k, k))
    if init == "xavier":
        a = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=(F, C, k, k))
    if init == "normal":
        return 0.01 * rng.standard_normal((F, C, k, k))
    if init == "zeros":
        return np.zeros((F, C, k, k))
    raise ValueError(f"Conv2D: unknown init {init!r}; choose 'he', 'xavier', "
                     "'normal' or 'zeros'")


def _batch_last(A, block=32):
    """(N, ...) -> (..., N), contiguous: ``A.transpose(1, ..., 0)`` copied.

    The copy goes ``block`` samples at a time, so that what it reads and what it
    writes stay in the cache (one transposed copy of a float32 digits batch of 256
    takes 1.7 times as long).
    """
    N = A.shape[0]
    rows = A.reshape(N, -1)
    out = np.empty((rows.shape[1], N), dtype=A.dtype)
    for start in range(0, N, block):
        out[:, start:start + block] = rows[start:start + block].T
    return out.reshape(*A.shape[1:], N)


def _col2im_unbuffered(dcols, X_shape, k, stride, padding):
    """:func:`col2im` with numpy's ufunc buffer set to 16 elements.

    numpy (2.4 measured) copies the operands of ``+=`` whose contiguous runs are
    shorter than its buffer (8 192 elements) into that buffer and back; col2im's
    runs are one row of the padded image (W' N elements), so with the default
    buffer each of its k * k additions takes three times as long.
    """
    old = np.setbufsize(16)
    try:
        return col2im(dcols, X_shape, k, stride, padding)
    finally:
        np.setbufsize(old)
