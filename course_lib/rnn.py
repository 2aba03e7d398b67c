r"""Recurrent layers on sequences: a tanh ``RNN``, an ``LSTM``, and ``LastStep``.

Both layers read ``X`` of shape (N, T, D), one time step after the other, and
return every hidden state, ``H`` of shape (N, T, n_hidden); the state starts at
zero. Their ``backward`` is backpropagation through time (BPTT): the unrolled
network is a deep network with one layer per step and the *same* weights in every
layer, so each weight gradient is a sum over the steps, and the gradient reaching
:math:`h_t` comes both from the output at step :math:`t` and from step
:math:`t + 1`.

``truncate=k`` stops that second path every ``k`` steps (truncated BPTT: the
sequence is cut into chunks of ``k`` steps; the forward pass still carries the
state across chunks, the backward pass does not). After each backward,
``layer.step_grad_norms`` (T,) holds :math:`\lVert \partial L / \partial h_t
\rVert` for every step, the quantity that vanishes or explodes.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str
from .layers import Layer

__all__ = ["LSTM", "RNN", "LastStep"]


def _uniform(rng, shape, n_hidden, dtype):
    a = 1.0 / np.sqrt(n_hidden)                       # PyTorch's default range
    return rng.uniform(-a, a, size=shape).astype(dtype)


class _Recurrent(Layer):
    input_ndim = 3

    def __init__(self, n_in, n_hidden, gates, seed, truncate, dtype):
        super().__init__()
        self.n_in, self.n_hidden = int(n_in), int(n_hidden)
        if self.n_in < 1 or self.n_hidden < 1:
            raise ValueError(f"{type(self).__name__}: n_in and n_hidden must be >= 1, "
                             f"got {n_in}, {n_hidden}")
        if truncate is not None and int(truncate) < 1:
            raise ValueError(f"{type(self).__name__}: truncate must be None or >= 1, "
                             f"got {truncate}")
        self.truncate = None if truncate is None else int(truncate)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        G, Hd = gates * self.n_hidden, self.n_hidden
        self.params = {"Wx": _uniform(rng, (self.n_in, G), Hd, self.dtype),
                       "Wh": _uniform(rng, (Hd, G), Hd, self.dtype),
                       "b": _uniform(rng, (G,), Hd, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.X = None
        self.step_grad_norms = None

    def _check_input(self, X):
        X = np.asarray(X)
        if X.ndim != 3 or X.shape[2] != self.n_in:
            raise ShapeError(f"{self!r}.forward: X must have shape (N, T, "
                             f"{self.n_in}), got {shape_str(X.shape)}")
        return X

    def _cut(self, t):
        """True when truncated BPTT stops the recurrent gradient below step t."""
        return self.truncate is not None and t % self.truncate == 0

    def __repr__(self):
        cut = f", truncate={self.truncate}" if self.truncate else ""
        return f"{type(self).__name__}({self.n_in}→{self.n_hidden}{cut})"


class RNN(_Recurrent):
    r"""Elman recurrent layer: :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)`,
    :math:`h_0 = 0`.

    Shapes: X (N, T, D) -> H (N, T, H).

    Parameters
    ----------
    n_in, n_hidden : int
        :math:`D` and :math:`H`.
    seed : int, numpy.random.Generator or None
        Weights start uniform on :math:`\pm 1/\sqrt{H}` (as in PyTorch).
    truncate : int or None
        Truncated BPTT every ``truncate`` steps (None: full BPTT).
    dtype : numpy dtype

    Attributes
    ----------
    params, grads : {'Wx': (D, H), 'Wh': (H, H), 'b': (H,)}
    """

    def __init__(self, n_in, n_hidden, seed=None, truncate=None, dtype=np.float64):
        super().__init__(n_in, n_hidden, 1, seed, truncate, dtype)

    def forward(self, X):
        """X (N, T, D) -> H (N, T, H); keeps X and H for backward."""
        X = self._check_input(X)
        N, T, _ = X.shape
        Wh = self.params["Wh"]
        Zx = X @ self.params["Wx"] + self.params["b"]         # every step at once
        H = np.empty((N, T, self.n_hidden), dtype=Zx.dtype)
        h = np.zeros((N, self.n_hidden), dtype=Zx.dtype)
        for t in range(T):
            h = np.tanh(Zx[:, t] + h @ Wh)
            H[:, t] = h
        self.X, self.H = X, H
        return H

    def backward(self, dY):
        r"""BPTT. With :math:`g_t = dY_t + (dz_{t+1} W_h^\top)` the gradient reaching
        :math:`h_t` and :math:`dz_t = g_t \odot (1 - h_t^2)`:
        :math:`dW_x = \sum_t x_t^\top dz_t`, :math:`dW_h = \sum_t h_{t-1}^\top dz_t`,
        :math:`db = \sum_t \sum_n dz_t`, :math:`dX_t = dz_t W_x^\top`.

        dY (N, T, H), the gradient with respect to every returned state
        (:math:`dY_t = \partial L / \partial h_t` from the layers above)
        -> dX (N, T, D).
        """
        if self.X is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, self.H.shape, "dY")
        N, T, _ = self.X.shape
        Wh, H = self.params["Wh"], self.H
        dZ = np.empty_like(H)
        norms = np.empty(T)
        carry = np.zeros((N, self.n_hidden), dtype=H.dtype)
        for t in reversed(range(T)):
            g = dY[:, t] + carry
            norms[t] = np.sqrt(np.vdot(g, g))
            dZ[:, t] = g * (1.0 - H[:, t] ** 2)                # tanh' from h itself
            carry = 0.0 * carry if self._cut(t) else dZ[:, t] @ Wh.T
        H_prev = np.concatenate([np.zeros_like(H[:, :1]), H[:, :-1]], axis=1)
        dZ2 = dZ.reshape(N * T, -1)
        np.matmul(self.X.reshape(N * T, -1).T, dZ2, out=self.grads["Wx"])
        np.matmul(H_prev.reshape(N * T, -1).T, dZ2, out=self.grads["Wh"])
        np.add.reduce(dZ2, axis=0, out=self.grads["b"])
        self.step_grad_norms = norms
        return dZ @ self.params["Wx"].T


class LSTM(_Recurrent):
    r"""Long short-term memory layer (gates in PyTorch's order i, f, g, o):

    .. math::
        [z_i, z_f, z_g, z_o] = x_t W_x + h_{t-1} W_h + b, \quad
        i, f, o = \sigma(z_{i,f,o}), \quad g = \tanh(z_g),

        c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t),

    with :math:`h_0 = c_0 = 0`. The cell :math:`c` is the path that keeps
    gradients alive: :math:`\partial c_t / \partial c_{t-1} = f`, a gate, not a
    product with a weight matrix and a squashing derivative.

    Shapes: X (N, T, D) -> H (N, T, H).

    Parameters
    ----------
    n_in, n_hidden : int
    seed : int, numpy.random.Generator or None
    truncate : int or None
        Truncated BPTT every ``truncate`` steps.
    forget_bias : float
        Added to the forget gate's bias at initialisation (1.0: the cell starts
        by remembering, a common choice; PyTorch starts at 0).
    dtype : numpy dtype

    Attributes
    ----------
    params, grads : {'Wx': (D, 4H), 'Wh': (H, 4H), 'b': (4H,)}
    """

    def __init__(self, n_in, n_hidden, seed=None, truncate=None, forget_bias=1.0,
                 dtype=np.float64):
        super().__init__(n_in, n_hidden, 4, seed, truncate, dtype)
        self.params["b"][self.n_hidden:2 * self.n_hidden] += forget_bias

    def forward(self, X):
        """X (N, T, D) -> H (N, T, H); keeps the gates and cells for backward."""
        X = self._check_input(X)
        N, T, _ = X.shape
        Hd, Wh = self.n_hidden, self.params["Wh"]
        Zx = X @ self.params["Wx"] + self.params["b"]
        gates = np.empty((N, T, 4 * Hd), dtype=Zx.dtype)      # i, f, g, o
        C = np.empty((N, T, Hd), dtype=Zx.dtype)
        H = np.empty_like(C)
        h = np.zeros((N, Hd), dtype=Zx.dtype)
        c = np.zeros_like(h)
        # one tanh for all four gates: sigmoid(z) = 0.5 tanh(z / 2) + 0.5
        scale = np.full(4 * Hd, 0.5, dtype=Zx.dtype)
        scale[2 * Hd:3 * Hd] = 1.0
        shift = 1.0 - scale
        shift[2 * Hd:3 * Hd] = 0.0
        for t in range(T):
            z = Zx[:, t] + h @ Wh
            a = np.tanh(z * scale) * scale + shift          # i, f, g, o
            gates[:, t] = a
            c = a[:, Hd:2 * Hd] * c + a[:, :Hd] * a[:, 2 * Hd:3 * Hd]
            h = a[:, 3 * Hd:] * np.tanh(c)
            C[:, t], H[:, t] = c, h
        self.X, self.gates, self.C, self.H = X, gates, C, H
        return H

    def backward(self, dY):
        r"""BPTT through the gates. With :math:`g_h` and :math:`g_c` the gradients
        reaching :math:`h_t` and :math:`c_t`: :math:`g_c \mathrel{+}= g_h \odot o
        \odot (1 - \tanh^2 c_t)`, then :math:`dz_o = g_h \tanh c_t\, o(1-o)`,
        :math:`dz_i = g_c\, g\, i(1-i)`, :math:`dz_f = g_c\, c_{t-1} f(1-f)`,
        :math:`dz_g = g_c\, i (1 - g^2)`; to the previous step go
        :math:`g_c \odot f` (the cell path) and :math:`dz W_h^\top`.

        dY (N, T, H), the gradient with respect to every returned state
        -> dX (N, T, D).
        """
        if self.X is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, self.H.shape, "dY")
        N, T, _ = self.X.shape
        Hd, Wh = self.n_hidden, self.params["Wh"]
        dZ = np.empty_like(self.gates)
        norms = np.empty(T)
        carry_h = np.zeros((N, Hd), dtype=self.H.dtype)
        carry_c = np.zeros_like(carry_h)
        for t in reversed(range(T)):
            a = self.gates[:, t]
            i, f, g, o = a[:, :Hd], a[:, Hd:2 * Hd], a[:, 2 * Hd:3 * Hd], a[:, 3 * Hd:]
            c_prev = self.C[:, t - 1] if t > 0 else 0.0
            gh = dY[:, t] + carry_h
            norms[t] = np.sqrt(np.vdot(gh, gh))
            tc = np.tanh(self.C[:, t])
            gc = carry_c + gh * o * (1.0 - tc ** 2)
            dz = dZ[:, t]
            dz[:, :Hd] = gc * g * i * (1.0 - i)
            dz[:, Hd:2 * Hd] = gc * c_prev * f * (1.0 - f)
            dz[:, 2 * Hd:3 * Hd] = gc * i * (1.0 - g ** 2)
            dz[:, 3 * Hd:] = gh * tc * o * (1.0 - o)
            if self._cut(t):
                carry_h, carry_c = 0.0 * carry_h, 0.0 * carry_c
            else:
                carry_h, carry_c = dz @ Wh.T, gc * f
        H_prev = np.concatenate([np.zeros_like(self.H[:, :1]), self.H[:, :-1]], axis=1)
        dZ2 = dZ.reshape(N * T, -1)
        np.matmul(self.X.reshape(N * T, -1).T, dZ2, out=self.grads["Wx"])
        np.matmul(H_prev.reshape(N * T, -1).T, dZ2, out=self.grads["Wh"])
        np.add.reduce(dZ2, axis=0, out=self.grads["b"])
        self.step_grad_norms = norms
        return dZ @ self.params["Wx"].T


class LastStep(Layer):
    """The hidden state of the last step: H (N, T, H) -> (N, H).

    Its backward puts the gradient at step T and zeros at every other step, so a
    loss on the last output reaches the earlier steps only through the recurrence.
    """

    input_ndim = 3

    def __init__(self):
        super().__init__()
        self.shape = None

    def forward(self, X):
        """X (N, T, H) -> X[:, -1] (N, H)."""
        X = np.asarray(X)
        if X.ndim != 3:
            raise ShapeError(f"LastStep().forward: X must have shape (N, T, H), got "
                             f"{shape_str(X.shape)}")
        self.shape = X.shape
        return X[:, -1]

    def backward(self, dY):
        """dY (N, H) -> dX (N, T, H), zero except at the last step."""
        if self.shape is None:
            raise RuntimeError("LastStep().backward called before forward")
        self._check_grad(dY, (self.shape[0], self.shape[2]))
        dX = np.zeros(self.shape, dtype=dY.dtype)
        dX[:, -1] = dY
        return dX
