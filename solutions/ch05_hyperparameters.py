"""Chapter 5 exercises: your engine at any depth, with optimizer objects.

This file generalises chapter 4's ``NeuralNetwork``: a ``Sequential`` model
holds any list of your layers, optimizer objects update its parameters, and
``train`` runs epochs of shuffled mini-batches. The protocol:

* ``model.params`` and ``model.grads`` are flat dicts keyed
  ``"<layer index>.<name>"`` (``"0.W"``, ``"0.b"``, ``"2.W"``, ...) whose
  values are **the layers' own arrays** (not copies), so that an optimizer
  that updates ``params`` in place updates the layers;
* an optimizer's ``step(params, grads)`` updates every array of ``params``
  in place and keeps a separate state (velocity, moments) **per key**.

When chapter 5 is graded, the reference versions of chapters 1-4 may stand in
for yours; when you run your engine, your own files are used.

Use numpy only. Check your work with ``course grade ch05``.
"""

import numpy as np
from ch02_loss import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy  # noqa: F401
from ch03_chain_rule import (  # noqa: F401  (your engine, in one place)
    Dense,
    LeakyReLU,
    Sigmoid,
    Tanh,
    backward,
    forward,
)


def iterate_minibatches(X, y, batch_size, rng):
    r"""Yield shuffled mini-batches that cover every example once (one epoch).

    Draw one random permutation of the ``N`` row indices with
    ``rng.permutation(N)`` and cut it into consecutive chunks of
    ``batch_size``; the last chunk is smaller when ``batch_size`` does not
    divide ``N``. Index ``X`` **and** ``y`` with the same chunk, so each input
    stays with its own target.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Inputs.
    y : ndarray, shape (N,) or (N, K)
        Targets.
    batch_size : int
        Number of examples per batch (the last batch may have fewer).
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(0)``.

    Yields
    ------
    X_batch : ndarray, shape (B, D)
    y_batch : ndarray, shape (B,) or (B, K)
        With ``B = batch_size`` except possibly for the last batch.

    Examples
    --------
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> sizes = [len(yb) for _, yb in
    ...          iterate_minibatches(X, y, 2, np.random.default_rng(0))]
    >>> sizes
    [2, 2, 1]
    """
    # BEGIN SOLUTION: one permutation of the indices, sliced batch_size at a time
    n = X.shape[0]
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
    # END SOLUTION


class Sequential:
    """A network of any depth: a list of layers run in order.

    Parameters
    ----------
    layers : list
        Your layers, e.g. ``[Dense(2, 16), Tanh(), Dense(16, 1), Sigmoid()]``.
    """

    def __init__(self, layers):
        self.layers = list(layers)

    def forward(self, X):
        """The last layer's output for a batch ``X``."""
        return forward(self.layers, X)

    def backward(self, dY):
        """Backward through every layer (each fills its ``grads``); returns dX."""
        return backward(self.layers, dY)

    @property
    def params(self):
        """Flat dict ``{"<i>.<name>": array}`` of every layer's parameters."""
        return self._flat("params")

    @property
    def grads(self):
        """Flat dict of every layer's gradients, with the keys of ``params``."""
        return self._flat("grads")

    def step(self, optimizer):
        """One optimizer step on the model's own arrays (after a backward pass)."""
        optimizer.step(self.params, self.grads)

    def _flat(self, name):
        """Collect the dict ``layer.<name>`` of every layer under flat keys.

        Parameters
        ----------
        name : str
            ``"params"`` or ``"grads"``.

        Returns
        -------
        dict
            ``{f"{i}.{key}": array}`` for layer ``i`` and each ``key`` of its
            dict, in layer order; the arrays are the layers' own (no copies).
            Layers without parameters contribute nothing.

        Examples
        --------
        For ``[Dense(2, 3), Tanh(), Dense(3, 1)]`` the keys are
        ``["0.W", "0.b", "2.W", "2.b"]``.
        """
        # BEGIN SOLUTION: every layer's dict, keys prefixed by the layer's index
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers)
                for key, value in getattr(layer, name).items()}
        # END SOLUTION


class SGD:
    r"""Gradient descent with (heavy-ball) momentum.

    .. math:: v \leftarrow \mu v - \mathrm{lr}\, g, \qquad w \leftarrow w + v

    (the velocity is the step itself, as in ``course_lib.SGD``). With
    ``momentum=0`` it is plain gradient descent.

    Parameters
    ----------
    lr : float
        Learning rate.
    momentum : float
        The coefficient :math:`\mu` in ``[0, 1)``.
    """

    def __init__(self, lr, momentum=0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.velocity = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place.

        Parameters
        ----------
        params : dict of ndarray
            Updated in place (``params[k][...] = ...`` or ``params[k] += ...``).
        grads : dict of ndarray
            Same keys and shapes.

        Each key keeps its own velocity in ``self.velocity[key]`` (zeros of the
        parameter's shape before its first step).
        """
        # BEGIN SOLUTION: per key: its velocity (zeros at first), then the in-place step
        for key, param in params.items():
            v = self.velocity.get(key, np.zeros_like(param))
            v = self.momentum * v - self.lr * grads[key]
            self.velocity[key] = v
            param += v
        # END SOLUTION


class Adam:
    r"""Adam: momentum and per-coordinate scaling, with bias correction.

    For each parameter, at step :math:`t = 1, 2, \dots` (one ``step`` call):

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
        \hat m = \frac{m}{1 - \beta_1^t}, \quad
        \hat v = \frac{v}{1 - \beta_2^t}, \quad
        w \leftarrow w - \mathrm{lr}\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    Parameters
    ----------
    lr, beta1, beta2, eps : float
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v = {}, {}
        self.t = 0

    def step(self, params, grads):
        """Update every array of ``params`` in place (one Adam step, ``t += 1``).

        ``self.m[key]`` and ``self.v[key]`` hold each parameter's own moments
        (zeros before its first step); ``self.t`` counts the calls.
        """
        # BEGIN SOLUTION: t += 1; per key: both moments, their bias correction, the step
        self.t += 1
        for key, param in params.items():
            g = grads[key]
            zero = np.zeros_like(param)
            m = self.beta1 * self.m.get(key, zero) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(key, zero) + (1 - self.beta2) * g * g
            self.m[key], self.v[key] = m, v
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION


def train(model, loss, optimizer, X, y, epochs, batch_size, seed=0):
    """Train ``model`` with mini-batches; return the loss of every epoch.

    One ``rng = np.random.default_rng(seed)`` for the whole run; each epoch
    draws its batches with ``iterate_minibatches(X, y, batch_size, rng)``, and
    each batch makes one step: forward, ``loss.loss``, backward from
    ``loss.grad``, ``model.step(optimizer)``.

    Parameters
    ----------
    model : Sequential
    loss : a loss object (``loss`` and ``grad``)
    optimizer : an optimizer object (``step``)
    X : ndarray, shape (N, D)
    y : ndarray, shape (N, K) (or (N,) for integer labels)
    epochs, batch_size : int
    seed : int

    Returns
    -------
    list of float
        For each epoch, the mean of its batch losses weighted by batch size
        (each computed before that batch's step).
    """
    # BEGIN SOLUTION: one rng; per epoch, per batch: forward, loss, backward, step
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            y_hat = model.forward(X_batch)
            total += loss.loss(y_batch, y_hat) * len(X_batch)
            model.backward(loss.grad(y_batch, y_hat))
            model.step(optimizer)
        history.append(total / len(X))
    return history
    # END SOLUTION


def exponential_decay(lr0, epoch, rate):
    r"""Learning rate after ``epoch`` epochs of exponential decay.

    .. math:: \mathrm{lr}(e) = \mathrm{lr}_0 \cdot \mathrm{rate}^{e}

    (the same as :math:`\mathrm{lr}_0\, e^{-k e}` with
    :math:`k = -\ln \mathrm{rate}`). Epoch 0 uses ``lr0`` itself.

    Parameters
    ----------
    lr0 : float
        Initial learning rate.
    epoch : int or ndarray of int
        Epoch number(s), from 0.
    rate : float
        Decay factor per epoch, in ``(0, 1]``.

    Returns
    -------
    float or ndarray
        The learning rate (an array of rates when ``epoch`` is an array).

    Examples
    --------
    >>> exponential_decay(0.1, 2, 0.5)
    0.025
    """
    # BEGIN SOLUTION: multiply lr0 by rate once per epoch (a power)
    return lr0 * rate**epoch
    # END SOLUTION


def early_stopping_epoch(val_losses, patience):
    r"""The epoch at which early stopping ends training.

    After each epoch ``e`` (counted from 0) the validation loss
    ``val_losses[e]`` is compared with the best loss seen so far. It is an
    *improvement* only if it is strictly lower. Training stops at the first
    epoch that ends ``patience`` consecutive epochs without improvement; if
    that never happens, training runs to the last epoch,
    ``len(val_losses) - 1``.

    Parameters
    ----------
    val_losses : sequence of float, length E
        Validation loss after each epoch.
    patience : int
        Number of epochs without improvement to tolerate, at least 1.

    Returns
    -------
    int
        Index of the epoch after which training stops.

    Examples
    --------
    The best loss is at epoch 1; epochs 2 and 3 do not improve on it, so with
    ``patience=2`` training stops after epoch 3:

    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
    3

    With ``patience=3`` epoch 4 improves in time and training runs to the end:

    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=3)
    4
    """
    # BEGIN SOLUTION: track the best loss and a counter of epochs since it improved
    best = np.inf
    waited = 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best = loss
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return len(val_losses) - 1
    # END SOLUTION
