"""Models: a stack of layers (``Sequential``) and a ready-made ``MLP``."""

from __future__ import annotations

import copy as _copy
import itertools

import numpy as np

from . import training
from .activations import Sigmoid, Softmax, get_activation
from .errors import ShapeError, shape_str
from .layers import Dense, Dropout, Layer

__all__ = ["MLP", "Sequential"]


class Sequential(Layer):
    """Layers applied one after the other: ``A = layers[-1](...layers[0](X))``.

    Parameters
    ----------
    layers : list of Layer
        Each needs ``forward``, ``backward``, ``params`` and ``grads``.

    Attributes
    ----------
    layers : list of Layer
    params, grads : dict of str to ndarray
        Flat views keyed ``'<layer index>.<name>'`` (``'0.W'``, ``'0.b'``, ``'2.W'``,
        ...). The values are the layers' own arrays, not copies: an optimizer that
        updates ``model.params`` in place updates the layers.
    """

    def __init__(self, layers):
        self.training = True       # params/grads are properties, not dicts
        self.layers = list(layers)
        prev = None
        for i, layer in enumerate(self.layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential: layers[{i}] = {layer!r} is not a layer "
                                "(it needs forward and backward methods)")
            if isinstance(layer, Dense):
                if prev is not None and prev.n_out != layer.n_in:
                    raise ShapeError(f"Sequential: layer {i} {layer!r} expects "
                                     f"{layer.n_in} inputs but the previous Dense "
                                     f"layer {prev!r} gives {prev.n_out}")
                prev = layer

    # -- parameters ----------------------------------------------------------------
    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.grads.items()}

    @property
    def n_params(self):
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    @property
    def dtype(self):
        """Floating type of the parameters (float64 if there are none)."""
        for p in self.params.values():
            return p.dtype
        return np.dtype(np.float64)

    @property
    def n_in(self):
        """Number of input features (from the first Dense layer), or None when a
        layer before it takes images or sequences (``Conv2D``, ``RNN``...)."""
        for layer in self.layers:
            if isinstance(layer, Dense):
                return layer.n_in
            if getattr(layer, "input_ndim", 2) != 2:
                return None
        return None

    @property
    def input_ndim(self):
        """Dimensions of the input: 2 for (N, D), 4 for images (N, C, H, W) when
        the first layer is a ``Conv2D``, 3 for sequences (N, T, D)."""
        return getattr(self.layers[0], "input_ndim", 2) if self.layers else 2

    # -- forward / backward --------------------------------------------------------
    def forward(self, X):
        """X : (N, D_in) -> output of the last layer, (N, D_out)."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dY):
        """The chain rule through the layers, from the output down to the input.

        Each layer turns the gradient with respect to its output into the gradient
        with respect to its input, which is the output gradient of the layer below,
        and fills its own ``grads`` on the way.

        dY : (N, D_out) -> dX : (N, D_in)
        """
        for layer in reversed(self.layers):
            dY = layer.backward(dY)
        return dY

    def backward_params(self, dY):
        """``backward`` without the gradient with respect to the input: every
        layer's ``grads`` are filled, nothing is returned.

        ``fit`` calls it: no weight update needs :math:`dX`, and for a wide input or
        a first ``Conv2D`` it costs as much as the first layer's weight gradient.
        The first layer skips it when it has a ``backward_params`` method of its
        own (``Dense``, ``Conv2D``).
        """
        for layer in self.layers[:0:-1]:
            dY = layer.backward(dY)
        first = self.layers[0] if self.layers else None
        if hasattr(first, "backward_params"):
            first.backward_params(dY)
        elif first is not None:
            first.backward(dY)

    def train(self):
        """Training mode for every layer (dropout on); returns the model."""
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self):
        """Evaluation mode for every layer (dropout off); returns the model."""
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def _output_layer(self):
        for layer in reversed(self.layers):
            if not isinstance(layer, Dropout):
                return layer
        return None

    def _inference(self, X, keep_all=False):
        """Eval-mode forward that leaves the layers' caches and mode untouched."""
        saved = [dict(layer.__dict__) for layer in self.layers]
        X = np.asarray(X)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        outs = []
        try:
            for layer in self.layers:
                layer.eval()
                X = layer.forward(X)
                if keep_all:
                    outs.append(X.copy())
        finally:
            for layer, d in zip(self.layers, saved):
                layer.__dict__.clear()
                layer.__dict__.update(d)
        return outs if keep_all else X

    def activations(self, X):
        """Each layer's output for ``X`` (evaluation mode, no side effects).

        Returns
        -------
        list of ndarray
            ``out[i]`` is the output of ``layers[i]``, shape (N, D_i).
        """
        return self._inference(X, keep_all=True)

    def predict_proba(self, X):
        """Output probabilities, evaluation mode.

        One output unit: the probability of class 1, shape (N, 1) (a sigmoid is
        applied if the model ends in logits). Several outputs: softmax
        probabilities, shape (N, C) (applied if the model ends in logits).
        """
        from .activations import sigmoid, softmax

        out = self._inference(X)
        last = self._output_layer()
        if isinstance(last, (Sigmoid, Softmax)):
            return out
        return sigmoid(out) if out.shape[1] == 1 else softmax(out, axis=1)

    def predict(self, X):
        """Predicted labels, evaluation mode.

        Several outputs: ``argmax`` per row, shape (N,). One output: 0/1 of shape
        (N, 1), thresholded at 0.5 after a sigmoid output and at 0 otherwise
        (logits or a linear/tanh output).
        """
        out = self._inference(X)
        if out.shape[1] > 1:
            return out.argmax(axis=1)
        threshold = 0.5 if isinstance(self._output_layer(), Sigmoid) else 0.0
        return (out > threshold).astype(np.int64)

    def gradient_norms(self):
        """L2 norm of each weight gradient after the last ``backward``.

        Returns
        -------
        dict
            ``{'0.W': float, '2.W': float, ...}`` in layer order (biases left out).
        """
        return {f"{i}.W": float(np.linalg.norm(layer.grads["W"]))
                for i, layer in enumerate(self.layers) if "W" in layer.grads}

    # -- snapshots ------------------------------------------------------------------
    def get_weights(self):
        """Copies of all parameters, ``{'0.W': array, ...}``."""
        return {k: v.copy() for k, v in self.params.items()}

    def set_weights(self, weights):
        """Copy ``weights`` (as from ``get_weights``) into the parameters in place."""
        params = self.params
        missing = set(params) - set(weights)
        if missing:
            raise KeyError(f"set_weights: missing {sorted(missing)}")
        for k, p in params.items():
            w = np.asarray(weights[k])
            if w.shape != p.shape:
                raise ShapeError(f"set_weights: {k} must have shape "
                                 f"{shape_str(p.shape)}, got {shape_str(w.shape)}")
            p[...] = w
        return self

    def copy(self):
        """An independent deep copy (weights, optimizer-free)."""
        return _copy.deepcopy(self)

    def astype(self, dtype):
        """A deep copy whose parameters and gradients have type ``dtype``."""
        new = self.copy()
        for layer in new.layers:
            for k in list(layer.params):
                layer.params[k] = layer.params[k].astype(dtype)
                layer.grads[k] = layer.grads[k].astype(dtype)
            if hasattr(layer, "dtype"):
                layer.dtype = np.dtype(dtype)
        return new

    # -- training -----------------------------------------------------------------
    def fit(self, X, y, loss=None, optimizer="adam", epochs=100, **kwargs):
        """Train the model and return a History; see
        :func:`course_lib.training.fit` for every argument (``batch_size``,
        ``validation_data``, ``early_stopping``, ``clip_norm``, ``l2``, ``seed``,
        ``progress``, ``callback``, ``shuffle``)."""
        return training.fit(self, X, y, loss=loss, optimizer=optimizer,
                            epochs=epochs, **kwargs)

    def evaluate(self, X, y, loss):
        """Loss (and accuracy) on ``(X, y)``; see :func:`course_lib.training.evaluate`.
        """
        return training.evaluate(self, X, y, loss)

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for i, layer in enumerate(self.layers):
            shapes = ", ".join(f"{k} {shape_str(v.shape)}"
                               for k, v in layer.params.items())
            lines.append(f"  ({i}) {layer!r}" + (f"  {shapes}" if shapes else ""))
        lines.append(f")  {self.n_params} parameters, {self.dtype}")
        return "\n".join(lines)


_OUTPUTS = ("sigmoid", "softmax", "identity", "linear", None)


def _activation_maker(activation):
    """A function of no arguments that returns a new hidden activation layer per call.

    A layer keeps what its last ``forward`` saw (``Z`` or ``A``) for ``backward``, so
    one object cannot serve two places in a network: every hidden layer needs its own.
    """
    if isinstance(activation, Layer):                  # an instance: copy it per use
        return lambda: _copy.deepcopy(activation)
    if isinstance(activation, str):
        get_activation(activation)                     # fail early on a bad name
        return lambda: get_activation(activation)
    if not callable(activation):
        raise TypeError(f"MLP: activation must be a name, a layer class, a layer or a "
                        f"function returning a layer, got {activation!r}")

    def make():                                        # a Layer class or a factory
        try:
            layer = activation()
        except TypeError as err:
            raise TypeError(
                f"MLP: activation={activation!r} cannot be called without arguments "
                f"({err}). Give a name ('relu'), a layer class (cl.LeakyReLU), a layer "
                "(cl.LeakyReLU(0.1)) or a function such as lambda: cl.LeakyReLU(0.1)"
            ) from err
        if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
            raise TypeError(f"MLP: activation={activation!r} returned {layer!r}, which "
                            "is not a layer (it needs forward and backward methods)")
        return layer

    return make


class MLP(Sequential):
    """Multi-layer perceptron: Dense layers with an activation between them.

    ``MLP([2, 4, 1])`` is ``Dense(2→4), Tanh, Dense(4→1), Sigmoid``.

    Parameters
    ----------
    sizes : list of int
        Layer widths ``[n_in, n_hidden..., n_out]`` (at least two numbers).
    activation : str, Layer class, Layer or callable
        Hidden activation: a name (``'relu'``, see
        :func:`~course_lib.activations.get_activation`), a layer class
        (``cl.LeakyReLU``), a layer (``cl.LeakyReLU(0.1)``, deep-copied for every
        hidden layer) or a function of no arguments returning a new layer
        (``lambda: cl.LeakyReLU(0.1)``). Every hidden layer gets its own object.
    output : {'sigmoid', 'softmax', 'identity', 'linear', None}
        Output activation. ``'identity'``, ``'linear'`` and None add no layer: the
        model outputs logits, which is what ``SoftmaxCrossEntropy`` (and
        ``BinaryCrossEntropy(from_logits=True)``) expect.
    init : str
        Weight initialisation of the Dense layers (``'xavier'``, ``'he'``,
        ``'normal'``, ... see :func:`~course_lib.layers.init_weights`).
    seed : int or None
        Master seed; each Dense and Dropout layer gets its own seed derived
        deterministically from it (``np.random.SeedSequence(seed).spawn``).
    dtype : numpy dtype
        float64 (default) or float32, for all parameters.
    dropout : float in [0, 1)
        If > 0, a ``Dropout(dropout)`` after every hidden activation.
    output_init : str or None
        Initialisation of the last Dense layer; None (default) uses ``init``. For
        example ``init='he', output_init='xavier'`` for ReLU hidden layers and a
        sigmoid output.
    init_scale : float
        Standard deviation of ``init='normal'`` (default 0.01), for every Dense
        layer that uses it.
    """

    def __init__(self, sizes, activation="tanh", output="sigmoid", init="xavier",
                 seed=0, dtype=np.float64, dropout=0.0, output_init=None,
                 init_scale=0.01):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError("MLP: sizes must list at least two positive widths, "
                             f"e.g. [2, 4, 1]; got {sizes}")
        if output not in _OUTPUTS:
            raise ValueError(f"MLP: unknown output {output!r}; choose one of "
                             "'sigmoid', 'softmax', 'identity'/'linear'/None")
        new_activation = _activation_maker(activation)
        n_dense = len(sizes) - 1
        seeds = np.random.SeedSequence(seed).spawn(2 * n_dense)
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            last = i == n_dense - 1
            layer_init = output_init if last and output_init is not None else init
            layers.append(Dense(n_in, n_out, init=layer_init, seed=seeds[i],
                                dtype=dtype, scale=init_scale))
            if not last:
                act = new_activation()
                if any(act is other for other in layers):   # a factory gave it twice
                    act = _copy.deepcopy(act)
                layers.append(act)
                if dropout > 0:
                    layers.append(Dropout(dropout, seed=seeds[n_dense + i]))
        if output in ("sigmoid", "softmax"):
            layers.append(get_activation(output))
        super().__init__(layers)
        self.sizes, self.activation, self.output = sizes, activation, output
        self.init, self.seed = init, seed
        self.output_init, self.init_scale = output_init, init_scale
