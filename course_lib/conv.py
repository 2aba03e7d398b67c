r"""Convolution layer ``Conv2D``, computed with im2col.

im2col ("image to columns") copies every patch the kernel visits into one row of
a matrix, so that the whole convolution becomes one matrix product, the same
product as a Dense layer's:

.. math::
    \text{cols} \in \mathbb{R}^{(N H' W') \times (C k k)}, \qquad
    Y = \text{cols}\; W_{mat}^\top + b, \qquad W_{mat} \in \mathbb{R}^{F \times C k k}.

The backward is that of a Dense layer on the rows of ``cols``
(:math:`dW_{mat} = dY^\top \text{cols}`, :math:`db = \sum dY`,
:math:`d\text{cols} = dY\, W_{mat}`), followed by col2im, which adds every row of
:math:`d\text{cols}` back onto the patch it came from. A pixel that lies in several
patches collects a sum; the padding is cut off at the end.
``course_lib.conv_reference`` computes the same numbers with loops.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str
from .layers import Layer

__all__ = ["Conv2D", "col2im", "im2col"]


def _pad(X, padding):
    if padding == 0:
        return X
    return np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col(X, k, stride=1, padding=0):
    r"""Every ``k x k`` patch of ``X`` as one row.

    Parameters
    ----------
    X : (N, C, H, W)
    k, stride, padding : int

    Returns
    -------
    cols : (N * H' * W', C * k * k)
        Row :math:`(n, i, j)` holds the patch
        :math:`X^{pad}_{n,\,:,\,s i : s i + k,\,s j : s j + k}`, flattened in the
        order (channel, row, column) of ``W[f]``.
    (H', W') : tuple of int
    """
    N, C = X.shape[:2]
    Xp = _pad(X, padding)
    windows = np.lib.stride_tricks.sliding_window_view(Xp, (k, k), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]             # (N, C, H', W', k, k)
    Ho, Wo = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * k * k)
    return cols, (Ho, Wo)


def col2im(dcols, X_shape, k, stride=1, padding=0):
    r"""The adjoint of :func:`im2col`: add every row back onto its patch.

    Parameters
    ----------
    dcols : (N * H' * W', C * k * k)
    X_shape : (N, C, H, W)
    k, stride, padding : int

    Returns
    -------
    dX : (N, C, H, W)
        :math:`dX^{pad}_{n,c,\,s i + p,\,s j + q} \mathrel{+}=
        d\text{cols}_{(n,i,j),\,(c,p,q)}`, then the padding is cropped.
    """
    N, C, H, W = X_shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    Ho, Wo = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    d = dcols.reshape(N, Ho, Wo, C, k, k).transpose(0, 3, 4, 5, 1, 2)
    dXp = np.zeros((N, C, Hp, Wp), dtype=dcols.dtype)
    for p in range(k):                   # k * k strided additions, not N H' W' loops
        for q in range(k):
            rows, cols = slice(p, p + stride * Ho, stride), slice(q, q + stride * Wo,
                                                                   stride)
            dXp[:, :, rows, cols] += d[:, :, p, q]
    return dXp[:, :, padding:padding + H, padding:padding + W]


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
    skips_dX = True          # backward(dY, need_dX=False) is supported

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
        Y = cols @ Wm.T                                         # (N H' W', F)
        Y += self.params["b"]
        self.X_shape, self.cols, self.out_hw = X.shape, cols, (Ho, Wo)
        return Y.reshape(X.shape[0], Ho, Wo, self.F).transpose(0, 3, 1, 2)

    def backward(self, dY, need_dX=True):
        r""":math:`dW_{mat} = dY^\top \text{cols}`, :math:`db_f = \sum_{n,i,j}
        dY_{n,f,i,j}` (summed over every position), :math:`dX =
        \text{col2im}(dY\, W_{mat})`.

        dY (N, F, H', W') -> dX (N, C, H, W), or None with ``need_dX=False``.
        """
        if self.cols is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, (self.X_shape[0], self.F, *self.out_hw), "dY")
        dYm = dY.transpose(0, 2, 3, 1).reshape(-1, self.F)     # (N H' W', F)
        np.matmul(dYm.T, self.cols, out=self.grads["W"].reshape(self.F, -1))
        np.add.reduce(dYm, axis=0, out=self.grads["b"])
        if not need_dX:
            return None
        dcols = dYm @ self.params["W"].reshape(self.F, -1)     # (N H' W', C k k)
        return col2im(dcols, self.X_shape, self.k, self.stride, self.padding)

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
