"""Chapter 1 exercises: the forward pass. The first pieces of your engine.

You are building a small neural-network engine, one chapter at a time. This
file holds its first pieces: a stable sigmoid, activation layers and the
dense layer. Chapter 3 adds their backward passes, chapter 4 assembles them
into a network that solves XOR, and chapter 7 trains your engine on
handwritten digits.

The engine's protocol (every layer of the course follows it):

* batch-first shapes: a batch of ``N`` examples with ``D_in`` features is an
  array ``X`` of shape ``(N, D_in)``; a dense layer's weights ``W`` have shape
  ``(D_in, D_out)`` and its bias ``b`` shape ``(D_out,)``;
* a layer with parameters keeps them in a dict ``self.params`` and their
  gradients in a dict ``self.grads`` with the same keys and shapes;
* ``forward(X)`` returns the layer's output and keeps (caches) what the
  backward pass of chapter 3 will need.

Use numpy only. Check your work with ``course grade ch01`` in a terminal or
``course_lib.grading.check("ch01")`` in a notebook.
"""

import numpy as np


def sigmoid(z):
    r"""Logistic sigmoid, applied element by element, without overflow.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}}

    The formula as written computes ``exp(-z)``, which overflows (with a
    ``RuntimeWarning``) for ``z`` around ``-710`` and below. Rewrite it so that
    ``exp`` only ever sees a number ``<= 0``: for ``z < 0`` use the equal form
    :math:`\sigma(z) = e^{z} / (1 + e^{z})`. It must return finite values and
    raise no warning for ``|z|`` up to ``1e4``.

    Parameters
    ----------
    z : ndarray of any shape (or a float)
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        Values in ``[0, 1]``.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 2.0, -1000.0]))
    array([0.5       , 0.88079708, 0.        ])
    """
    # BEGIN SOLUTION: compute exp only of -|z|, then pick the right form by sign
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END SOLUTION


class Sigmoid:
    """Sigmoid activation layer (given: it uses your :func:`sigmoid`).

    ``forward(Z)`` returns ``A = sigmoid(Z)`` and caches it as ``self.A``: the
    sigmoid's derivative is a function of its output, ``A (1 - A)``.
    """

    def __init__(self):
        self.params, self.grads = {}, {}
        self.A = None

    def forward(self, Z):
        self.A = sigmoid(Z)
        return self.A


class Tanh:
    """Hyperbolic tangent activation layer (given).

    ``forward(Z)`` returns ``A = tanh(Z)`` and caches it as ``self.A``.
    """

    def __init__(self):
        self.params, self.grads = {}, {}
        self.A = None

    def forward(self, Z):
        self.A = np.tanh(np.asarray(Z, dtype=float))
        return self.A


class LeakyReLU:
    r"""Leaky rectified linear unit: a ReLU whose negative side keeps a small slope.

    .. math:: f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}

    Parameters
    ----------
    alpha : float
        Slope for ``z <= 0`` (default 0.01).
    """

    def __init__(self, alpha=0.01):
        self.params, self.grads = {}, {}
        self.alpha = float(alpha)
        self.Z = None

    def forward(self, Z):
        """Apply the leaky ReLU element by element and cache the input.

        Parameters
        ----------
        Z : ndarray, shape (N, H)
            Pre-activations; must not be changed.

        Returns
        -------
        A : ndarray, shape (N, H)
            A new array. Keep ``Z`` as ``self.Z`` (its backward needs it).

        Examples
        --------
        >>> LeakyReLU(0.1).forward(np.array([[-2.0, 0.0, 3.0]]))
        array([[-0.2,  0. ,  3. ]])
        """
        # BEGIN SOLUTION: keep Z where it is positive, scale it by alpha elsewhere
        Z = np.asarray(Z, dtype=float)
        self.Z = Z
        return np.where(Z > 0, Z, self.alpha * Z)
        # END SOLUTION


class Dense:
    r"""Fully connected layer :math:`Z = X W + b` for a whole batch.

    Parameters
    ----------
    n_in, n_out : int
        Sizes of the layer's input (``D_in``) and output (``D_out``).
    seed : int or None
        Seed of the generator that draws the starting weights.

    Attributes
    ----------
    params : dict
        ``"W"`` of shape ``(n_in, n_out)``, ``"b"`` of shape ``(n_out,)``.
    grads : dict
        Same keys and shapes as ``params`` (filled by chapter 3's backward).
    X : ndarray or None
        The input of the last forward pass (its backward needs it).
    """

    def __init__(self, n_in, n_out, seed=None):
        r"""Create the parameters and zero gradients.

        ``W`` is drawn from a normal distribution with mean 0 and standard
        deviation :math:`1/\sqrt{n_\text{in}}` using
        ``np.random.default_rng(seed)``; ``b`` starts at zero. ``grads`` holds
        zero arrays of the same shapes, **separate** arrays from ``params``.

        Examples
        --------
        >>> layer = Dense(2, 3, seed=0)
        >>> layer.params["W"].shape, layer.params["b"].shape
        ((2, 3), (3,))
        """
        # BEGIN SOLUTION: W normal, std 1/sqrt(n_in), from seed; b and grads zero
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out)),
                       "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        # END SOLUTION
        self.X = None

    def forward(self, X):
        """Forward pass for a batch; keeps ``X`` as ``self.X``.

        Parameters
        ----------
        X : ndarray, shape (N, n_in)
            A batch of ``N`` inputs, one per row.

        Returns
        -------
        Z : ndarray, shape (N, n_out)
            ``X W + b``: the bias is added to every row.
        """
        # BEGIN SOLUTION: cache X; one matrix product (mind the order) plus b
        self.X = np.asarray(X, dtype=float)
        return self.X @ self.params["W"] + self.params["b"]
        # END SOLUTION


def forward(layers, X):
    """Run a batch through a list of layers, first to last.

    Parameters
    ----------
    layers : list
        Layers with a ``forward`` method, e.g.
        ``[Dense(2, 4), Sigmoid(), Dense(4, 1), Sigmoid()]``.
    X : ndarray, shape (N, D_in)
        A batch of inputs.

    Returns
    -------
    ndarray
        The last layer's output, e.g. ``(N, 1)`` for the network above.

    Examples
    --------
    >>> layers = [Dense(2, 4, seed=0), Sigmoid(), Dense(4, 1, seed=1), Sigmoid()]
    >>> forward(layers, np.ones((3, 2))).shape
    (3, 1)
    """
    # BEGIN SOLUTION: feed each layer's output to the next one
    out = X
    for layer in layers:
        out = layer.forward(out)
    return out
    # END SOLUTION
