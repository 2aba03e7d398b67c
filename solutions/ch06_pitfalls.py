"""Chapter 6 exercises: your engine learns to avoid what goes wrong in training.

This file continues chapter 5's engine (it imports your
``ch05_hyperparameters.py``) with the tools of the chapter:

* initialisers that draw each ``Dense`` layer's weights from its own fan-in
  ``n_in`` and fan-out ``n_out`` (the shape ``(n_in, n_out)`` of its ``W``),
  applied to a whole model by the given :func:`initialize`;
* gradient clipping by the global norm of **all** the model's gradients,
  scaling the layers' own arrays in place;
* a count of dead ReLU units;
* a ``Dropout`` layer with a training and an evaluation mode. Every layer may
  have a ``training`` flag; the given ``Sequential.train()`` and
  ``Sequential.eval()`` set it on every layer, as ``course_lib`` (and PyTorch)
  do;
* ``train``, chapter 5's loop in training mode and with optional clipping, and
  ``evaluate``, which measures a loss in evaluation mode.

When chapter 6 is graded, the reference versions of chapters 1-5 may stand in
for yours; when you run your engine, your own files are used.

Use numpy only; take all randomness from the generator you are given. Check
your work with ``course grade ch06``.
"""

import ch05_hyperparameters as ch05
import numpy as np
from ch05_hyperparameters import (  # noqa: F401  (your engine, in one place)
    MSE,
    SGD,
    Adam,
    BinaryCrossEntropy,
    Dense,
    LeakyReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    iterate_minibatches,
)


def he_init(n_in, n_out, rng):
    r"""He (Kaiming) normal initialisation, for layers followed by a ReLU.

    .. math:: W_{ij} \sim \mathcal{N}\left(0, \frac{2}{n_{in}}\right)

    (the second argument is the variance: the standard deviation is
    :math:`\sqrt{2 / n_{in}}`). The factor 2 makes up for the half of the
    units that a ReLU switches off. ``n_in`` is the layer's fan-in, the
    number of inputs each of its units adds up.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and outputs of the layer (``W`` has shape
        ``(n_in, n_out)``).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    W : ndarray, shape (n_in, n_out)
    """
    # BEGIN SOLUTION: normal draws of the right shape with std sqrt(2 / n_in)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    # END SOLUTION


def xavier_init(n_in, n_out, rng):
    r"""Xavier (Glorot) uniform initialisation, for tanh or sigmoid layers.

    .. math:: W_{ij} \sim \mathcal{U}(-a, a), \qquad
              a = \sqrt{\frac{6}{n_{in} + n_{out}}}

    which gives the variance :math:`a^2 / 3 = 2 / (n_{in} + n_{out})`: the
    average of the layer's fan-in and fan-out stands in for both.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and outputs of the layer.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    W : ndarray, shape (n_in, n_out)
    """
    # BEGIN SOLUTION: uniform draws of the right shape on [-a, a]
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_in, n_out))
    # END SOLUTION


#: the initialisers :func:`initialize` knows by name
INITS = {"he": he_init, "xavier": xavier_init}


def initialize(model, init="he", seed=0):
    """Redraw the weights of every layer of ``model`` that has a ``"W"`` (given).

    Each such layer gets ``INITS[init](n_in, n_out, rng)`` with
    ``(n_in, n_out) = W.shape``, its own fan-in and fan-out, and a zero bias.
    One generator, ``np.random.default_rng(seed)``, serves the whole model,
    so two layers of the same shape get different weights. The new values
    are written into the layers' own arrays (``W[...] = ...``).

    Returns
    -------
    model
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if "W" in layer.params:
            W = layer.params["W"]
            W[...] = INITS[init](W.shape[0], W.shape[1], rng)
            if "b" in layer.params:
                layer.params["b"][...] = 0.0
    return model


def clip_by_global_norm(grads, max_norm):
    r"""Scale the gradients **in place** to a global norm of at most ``max_norm``.

    The global norm treats all the gradients as one long vector:

    .. math:: \|g\| = \sqrt{\sum_{k} \sum_{j} (g_k)_j^2}

    If :math:`\|g\| > \mathrm{max\_norm}`, multiply **every** gradient by the
    same factor :math:`\mathrm{max\_norm} / \|g\|` (the direction of the step
    is kept; only its length changes). Otherwise leave them as they are.

    Work on the arrays themselves (``g *= scale``): ``model.grads`` holds the
    layers' own arrays, so that clipping it clips what the optimizer reads.

    Parameters
    ----------
    grads : dict of str to ndarray
        Gradients of any shapes, e.g. ``model.grads``; modified in place.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    norm : float
        The global norm **before** clipping (useful for plotting).

    Examples
    --------
    >>> g = {"a": np.array([3.0]), "b": np.array([[4.0]])}
    >>> clip_by_global_norm(g, 1.0)
    5.0
    >>> g["a"], g["b"]
    (array([0.6]), array([[0.8]]))
    """
    # BEGIN SOLUTION: one norm over all arrays together; one common factor, in place
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm
    # END SOLUTION


def dead_relu_fraction(Z):
    r"""Fraction of ReLU units that are dead on a batch.

    A unit (a column of ``Z``) is *dead* on the batch when its pre-activation
    is ``<= 0`` for **every** example (every row): its output and its gradient
    are then zero for all of them, so its weights stop learning.

    Parameters
    ----------
    Z : ndarray, shape (N, H)
        Pre-activations of a ReLU layer for a batch of ``N`` examples.

    Returns
    -------
    float
        Number of dead units divided by ``H``, in ``[0, 1]``.

    Examples
    --------
    >>> Z = np.array([[-1.0, 2.0, 0.0],
    ...               [-3.0, -1.0, 0.0]])
    >>> round(dead_relu_fraction(Z), 4)      # columns 0 and 2 are dead
    0.6667
    """
    # BEGIN SOLUTION: a unit is dead when all its column is <= 0; average over units
    return float(np.mean(np.all(Z <= 0, axis=0)))
    # END SOLUTION


class Dropout:
    r"""Inverted dropout, a layer without parameters.

    In training mode each entry of the input is dropped (set to 0) with
    probability ``p`` and the kept ones are scaled by :math:`1 / (1 - p)`, so
    that the expected value of every entry is unchanged and nothing needs
    rescaling at test time. In evaluation mode the layer is the identity.

    Parameters
    ----------
    p : float
        Probability of dropping an entry, in ``[0, 1)``.
    seed : int or None
        Seed of the generator ``self.rng`` that draws the masks.

    Attributes
    ----------
    training : bool
        True (the start) in training mode, False in evaluation mode;
        ``Sequential.train()`` and ``Sequential.eval()`` set it.
    mask : ndarray or None
        The mask of the last ``forward`` (its backward needs it).
    """

    def __init__(self, p, seed=None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)
        self.params, self.grads = {}, {}
        self.training = True
        self.mask = None

    def forward(self, X):
        r"""Apply a new mask in training mode; the identity in evaluation mode.

        In training mode draw ``u = self.rng.random(X.shape)`` (a new draw at
        every call) and

        .. math:: M_{ij} = \frac{\mathbb{1}[u_{ij} \ge p]}{1 - p}, \qquad
                  Y = X \odot M

        In evaluation mode ``M`` is all ones, so ``Y`` equals ``X``. Keep
        ``M`` as ``self.mask`` either way.

        Parameters
        ----------
        X : ndarray, shape (N, D)

        Returns
        -------
        Y : ndarray, shape (N, D)
        """
        # BEGIN SOLUTION: a new scaled keep-mask when training, ones otherwise; cache it
        X = np.asarray(X, dtype=float)
        if self.training:
            self.mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)
        else:
            self.mask = np.ones_like(X)
        return X * self.mask
        # END SOLUTION

    def backward(self, dY):
        r"""Gradient with respect to the input: :math:`dX = dY \odot M`.

        ``M`` is the mask of the last ``forward``: an entry dropped on the way
        forward passes no gradient back, a kept one passes it scaled by the
        same :math:`1 / (1 - p)`.

        Parameters
        ----------
        dY : ndarray, shape (N, D)

        Returns
        -------
        dX : ndarray, shape (N, D)
        """
        # BEGIN SOLUTION: route dY through the mask that forward cached
        return dY * self.mask
        # END SOLUTION


class Sequential(ch05.Sequential):
    """Chapter 5's ``Sequential`` with a training and an evaluation mode (given)."""

    def train(self):
        """Training mode for every layer (dropout on); returns the model."""
        return self._set_training(True)

    def eval(self):
        """Evaluation mode for every layer (dropout off); returns the model."""
        return self._set_training(False)

    def _set_training(self, flag):
        self.training = flag
        for layer in self.layers:
            layer.training = flag
        return self


def train(model, loss, optimizer, X, y, epochs, batch_size, seed=0, clip=None):
    """Chapter 5's ``train`` in training mode, with optional gradient clipping.

    Switch ``model`` to training mode (``model.train()``) first. Then, as in
    chapter 5: one ``rng = np.random.default_rng(seed)`` for the whole run,
    each epoch's batches from ``iterate_minibatches(X, y, batch_size, rng)``,
    and per batch forward, ``loss.loss``, backward from ``loss.grad`` and
    ``model.step(optimizer)``. When ``clip`` is not None, clip
    ``model.grads`` to the global norm ``clip`` with
    :func:`clip_by_global_norm` between the backward pass and the step.

    Parameters
    ----------
    model : Sequential
        This chapter's ``Sequential`` (it has ``train()`` and ``eval()``).
    loss, optimizer
        As in chapter 5.
    X : ndarray, shape (N, D)
    y : ndarray, shape (N, K) (or (N,) for integer labels)
    epochs, batch_size : int
    seed : int
    clip : float or None
        Largest global gradient norm of a step, or None for no clipping.

    Returns
    -------
    list of float
        For each epoch, the mean of its batch losses weighted by batch size
        (each computed before that batch's step).
    """
    # BEGIN SOLUTION: model.train(); chapter 5's loop, clip between backward and step
    model.train()
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            y_hat = model.forward(X_batch)
            total += loss.loss(y_batch, y_hat) * len(X_batch)
            model.backward(loss.grad(y_batch, y_hat))
            if clip is not None:
                clip_by_global_norm(model.grads, clip)
            model.step(optimizer)
        history.append(total / len(X))
    return history
    # END SOLUTION


def evaluate(model, loss, X, y):
    """The loss of ``model`` on ``(X, y)`` in evaluation mode.

    Switch the model to evaluation mode (``model.eval()``: dropout off) and
    return ``loss.loss(y, y_hat)`` for its output ``y_hat`` on ``X``. The
    model stays in evaluation mode (``train`` switches it back).

    Parameters
    ----------
    model : Sequential
    loss : a loss object
    X : ndarray, shape (N, D)
    y : ndarray, shape (N, K) (or (N,) for integer labels)

    Returns
    -------
    float
    """
    # BEGIN SOLUTION: evaluation mode first, then one forward pass and the loss
    model.eval()
    return float(loss.loss(y, model.forward(X)))
    # END SOLUTION
