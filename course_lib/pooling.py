r"""Max pooling ``MaxPool2D`` and ``Flatten``, the glue between convolutions and
Dense layers.

Max pooling keeps the largest value of every ``size x size`` window,
:math:`Y_{n,c,i,j} = \max_{p,q < size} X_{n,c,\,s i + p,\,s j + q}`, and its
backward sends each window's gradient to the one entry that was the maximum (the
first one, on ties); the other entries of the window did not affect the output
and get zero. ``course_lib.conv_reference`` has the same two functions as loops.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str
from .layers import Layer

__all__ = ["Flatten", "MaxPool2D"]


class MaxPool2D(Layer):
    r"""Max pooling over ``size x size`` windows with step ``stride``.

    Shapes: X (N, C, H, W) -> Y (N, C, H', W'), :math:`H' = \lfloor (H - k)/s
    \rfloor + 1`. No parameters.

    Parameters
    ----------
    size : int
        Window side :math:`k`.
    stride : int or None
        Step :math:`s` between windows; None means ``size`` (windows that do not
        overlap, the usual choice). Rows or columns that do not fill a window at
        the end are dropped, as in PyTorch.
    """

    input_ndim = 4

    def __init__(self, size, stride=None):
        super().__init__()
        self.size = int(size)
        self.stride = self.size if stride is None else int(stride)
        if self.size < 1 or self.stride < 1:
            raise ValueError(f"MaxPool2D: size and stride must be >= 1, got {size}, "
                             f"{stride}")
        self.X_shape = self.argmax = None

    def forward(self, X):
        """X (N, C, H, W) -> Y (N, C, H', W'); remembers where each maximum was."""
        X = np.asarray(X)
        k, s = self.size, self.stride
        if X.ndim != 4 or min(X.shape[2:]) < k:
            raise ShapeError(f"{self!r}.forward: X must have shape (N, C, H, W) with "
                             f"H, W >= {k}, got {shape_str(X.shape)}")
        windows = np.lib.stride_tricks.sliding_window_view(X, (k, k), axis=(2, 3))
        windows = windows[:, :, ::s, ::s]                    # (N, C, H', W', k, k)
        flat = windows.reshape(*windows.shape[:4], k * k)
        self.argmax = flat.argmax(axis=-1)                   # (N, C, H', W')
        self.X_shape = X.shape
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dY):
        r""":math:`dX_{n,c,\,s i + p^*,\,s j + q^*} \mathrel{+}= dY_{n,c,i,j}` at the
        window's maximum :math:`(p^*, q^*)`; zero elsewhere.

        dY (N, C, H', W') -> dX (N, C, H, W)
        """
        if self.argmax is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, self.argmax.shape, "dY")
        k, s = self.size, self.stride
        N, C, H, W = self.X_shape
        Ho, Wo = self.argmax.shape[2:]
        p, q = np.divmod(self.argmax, k)            # the maximum's offset in its window
        rows = s * np.arange(Ho)[:, None] + p       # (N, C, H', W'): its row in X
        cols = s * np.arange(Wo) + q                # and its column
        flat = (np.arange(N * C).reshape(N, C, 1, 1) * H + rows) * W + cols
        # the += as one scatter: bincount adds the dY of every window an entry won
        dX = np.bincount(flat.ravel(), weights=dY.ravel(), minlength=N * C * H * W)
        return dX.reshape(self.X_shape).astype(dY.dtype, copy=False)

    def __repr__(self):
        extra = f", stride={self.stride}" if self.stride != self.size else ""
        return f"MaxPool2D({self.size}{extra})"


class Flatten(Layer):
    """Flatten every sample into one row: X (N, d1, d2, ...) -> (N, d1 * d2 * ...).

    The backward reshapes the gradient back. No parameters.
    """

    def __init__(self):
        super().__init__()
        self.X_shape = None

    def forward(self, X):
        """X (N, ...) -> (N, D), D the product of the other dimensions."""
        X = np.asarray(X)
        self.X_shape = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, dY):
        """dY (N, D) -> dX with the shape of the forward input."""
        if self.X_shape is None:
            raise RuntimeError("Flatten().backward called before forward")
        self._check_grad(dY, (self.X_shape[0], int(np.prod(self.X_shape[1:]))))
        return dY.reshape(self.X_shape)
