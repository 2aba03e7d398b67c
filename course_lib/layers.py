r"""Layers: the building blocks of a network.

Every layer has the same two-method interface:

* ``forward(X) -> Y`` computes the output for a batch ``X`` of shape ``(N, ...)`` and
  remembers what ``backward`` will need;
* ``backward(dY) -> dX`` receives the gradient of the loss with respect to the output
  and returns the gradient with respect to the input. A layer with parameters also
  stores the gradient of every parameter in ``layer.grads`` (same keys as
  ``layer.params``). Gradients are **overwritten**, never accumulated, and ``backward``
  never changes a weight: updating weights is the optimizer's job.

The arrays in ``params`` and ``grads`` are created once and then updated in place
(``grads["W"][...] = X.T @ dY``), so references to them (for example in
``Sequential.params`` or an optimizer) stay valid. Copy a gradient if you want to keep
it after the next ``backward``.

Names: ``n_in``/``n_out`` are constructor arguments (numbers of features);
``D_in``/``D_out`` are the same numbers when they appear in shapes,
``X (N, D_in)``, ``W (D_in, D_out)``, ``b (D_out,)``.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, shape_str

__all__ = ["INITS", "Dense", "Dropout", "Layer", "init_weights"]


class Layer:
    """Base class of every layer.

    Attributes
    ----------
    params : dict of str to ndarray
        Trainable arrays (empty for layers without parameters).
    grads : dict of str to ndarray
        Gradient of the loss with respect to each entry of ``params``, same shapes.
    training : bool
        True in training mode (dropout active), False in evaluation mode.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, X):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError

    def __call__(self, X):
        return self.forward(X)

    def train(self):
        """Switch to training mode; returns the layer."""
        self.training = True
        return self

    def eval(self):
        """Switch to evaluation mode; returns the layer."""
        self.training = False
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _check_dY(self, dY, cached, n_out=None):
        """Check ``backward``'s argument against what ``forward`` kept.

        ``cached`` is the array ``forward`` kept (None before the first forward);
        ``dY`` must have its shape, or ``(N, n_out)`` when ``n_out`` is given.
        """
        if cached is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self._check_grad(dY, cached.shape if n_out is None
                         else (cached.shape[0], n_out))

    def _check_grad(self, dY, expected_shape, what="dY"):
        """Raise ShapeError unless ``dY.shape == expected_shape``."""
        if dY.shape != expected_shape:
            raise ShapeError(
                f"{self!r}.backward: {what} must have shape "
                f"{shape_str(expected_shape)} (the shape of the forward output), "
                f"got {shape_str(dY.shape)}"
            )


INITS = ("xavier", "xavier_normal", "he", "he_uniform", "normal", "zeros")


def init_weights(n_in, n_out, init="xavier", rng=None, scale=0.01):
    r"""Draw an initial weight matrix ``W`` of shape ``(n_in, n_out)`` in float64.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out of the layer.
    init : str
        * ``'xavier'`` -- Glorot *uniform*:
          :math:`W_{ij} \sim U(-a, a),\ a = \sqrt{6 / (n_{in} + n_{out})}`
          (variance :math:`2 / (n_{in} + n_{out})`); suits tanh and sigmoid.
        * ``'xavier_normal'`` -- Glorot normal, std :math:`\sqrt{2/(n_{in}+n_{out})}`.
        * ``'he'`` -- He normal: :math:`W_{ij} \sim \mathcal{N}(0,\ 2 / n_{in})`;
          suits ReLU.
        * ``'he_uniform'`` -- He uniform, :math:`a = \sqrt{6 / n_{in}}`.
        * ``'normal'`` -- the classic ``scale * randn`` with ``scale=0.01``.
        * ``'zeros'`` -- all zeros (to show the symmetry problem).
    rng : numpy.random.Generator, int or None
        Source of randomness (anything ``np.random.default_rng`` accepts).
    scale : float
        Standard deviation for ``init='normal'``.

    Returns
    -------
    W : ndarray, shape (n_in, n_out), float64
    """
    rng = np.random.default_rng(rng)
    if init == "xavier":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))
    if init == "xavier_normal":
        return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))
    if init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    if init == "he_uniform":
        a = np.sqrt(6.0 / n_in)
        return rng.uniform(-a, a, size=(n_in, n_out))
    if init == "normal":
        return scale * rng.standard_normal(size=(n_in, n_out))
    if init == "zeros":
        return np.zeros((n_in, n_out))
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


class Dense(Layer):
    r"""Fully connected layer: :math:`Z = X W + b`.

    Parameters
    ----------
    n_in, n_out : int
        Number of input features ``D_in`` and of output units ``D_out``.
    init : str
        Weight initialisation, see :func:`init_weights` (``'xavier'`` is Glorot
        uniform, ``'he'`` is He normal, ``'normal'`` is ``scale * randn``).
        The bias starts at zero.
    seed : int, numpy.random.Generator or None
        Seed of the initialisation.
    dtype : numpy dtype
        Floating type of ``W`` and ``b`` (float64 by default; float32 allowed).
    scale : float
        Standard deviation for ``init='normal'`` (default 0.01).

    Attributes
    ----------
    params : {'W': (D_in, D_out), 'b': (D_out,)}
    grads : {'W': (D_in, D_out), 'b': (D_out,)}
    X : ndarray (N, D_in) or None
        The input of the last ``forward``, kept for ``backward``.
    """

    def __init__(self, n_in, n_out, init="xavier", seed=None, dtype=np.float64,
                 scale=0.01):
        super().__init__()
        if int(n_in) < 1 or int(n_out) < 1:
            raise ValueError(f"Dense: n_in and n_out must be >= 1, got {n_in}, {n_out}")
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        self.dtype = np.dtype(dtype)
        W = init_weights(self.n_in, self.n_out, init, seed, scale).astype(self.dtype)
        self.params = {"W": W, "b": np.zeros(self.n_out, dtype=self.dtype)}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros(self.n_out, self.dtype)}
        self.X = None

    def forward(self, X):
        r"""Affine map :math:`Z = X W + b`.

        Parameters
        ----------
        X : ndarray, shape (N, D_in)

        Returns
        -------
        Z : ndarray, shape (N, D_out)
        """
        if not isinstance(X, np.ndarray):
            X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            hint = " (one sample? use X.reshape(1, -1))" if X.ndim == 1 else ""
            raise ShapeError(f"{self!r}.forward: X must have shape (N, {self.n_in}), "
                             f"got {shape_str(X.shape)}{hint}")
        self.X = X
        return X @ self.params["W"] + self.params["b"]

    def backward(self, dY):
        r"""Gradients of :math:`Z = XW + b`:
        :math:`dW = X^\top dY,\ db = \sum_n dY_n,\ dX = dY\, W^\top`.

        Parameters
        ----------
        dY : ndarray, shape (N, D_out)
            Gradient of the loss with respect to the layer's output
            :math:`Z` (the upstream gradient, called :math:`dZ` in chapter 3).

        Returns
        -------
        dX : ndarray, shape (N, D_in)
            Gradient with respect to the input. ``grads['W']`` (D_in, D_out) and
            ``grads['b']`` (D_out,) are overwritten in place.
        """
        X, W = self.X, self.params["W"]
        self._check_dY(dY, X, self.n_out)
        self.grads["W"][...] = X.T @ dY
        self.grads["b"][...] = dY.sum(axis=0)
        return dY @ W.T

    def backward_params(self, dY):
        """``backward`` without :math:`dX`: only ``grads['W']`` and ``grads['b']``.

        Training calls it for the first layer of a network, whose :math:`dX` no
        update needs (for a wide input that product costs as much as :math:`dW`).
        The two products are written straight into the gradient arrays, which saves
        a copy each; the numbers are the same as ``backward``'s to the last bit.
        """
        self._check_dY(dY, self.X, self.n_out)
        np.matmul(self.X.T, dY, out=self.grads["W"])
        np.add.reduce(dY, axis=0, out=self.grads["b"])

    def __repr__(self):
        return f"Dense({self.n_in}→{self.n_out})"


class Dropout(Layer):
    r"""Inverted dropout: :math:`Y = X \odot M / (1 - p)`, :math:`M_{ij} \sim
    \mathrm{Bernoulli}(1 - p)`.

    In training mode each unit is zeroed with probability ``p`` and the survivors are
    scaled by :math:`1/(1-p)`, so the expected activation is unchanged. In evaluation
    mode the layer is the identity. ``backward`` reuses the mask of the last forward.

    Parameters
    ----------
    p : float in [0, 1)
        Probability of dropping a unit.
    seed : int, numpy.random.Generator or None
        Seed of the masks.
    """

    def __init__(self, p, seed=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)
        self.mask = None

    def forward(self, X):
        """X : (N, D) -> Y : (N, D); the mask (N, D) is kept for backward."""
        if not self.training or self.p == 0.0:
            self.mask = None
            return X
        keep = self.rng.random(X.shape) >= self.p
        self.mask = keep.astype(X.dtype) / X.dtype.type(1.0 - self.p)
        return X * self.mask

    def backward(self, dY):
        r""":math:`dX = dY \odot M / (1 - p)` (the same mask as forward).

        dY : (N, D) -> dX : (N, D)
        """
        if self.mask is None:
            return dY
        self._check_dY(dY, self.mask)
        return dY * self.mask

    def __repr__(self):
        return f"Dropout(p={self.p:g})"
