"""Chapter 6 exercises: tools against what goes wrong in training.

Initialisation that keeps signals at a healthy scale, gradient clipping, a
diagnostic for dead ReLUs, and (inverted) dropout.

Use numpy only; take all randomness from the ``rng`` you are given (a
``numpy.random.Generator``). Check your work with ``course grade ch06``.
"""

import numpy as np


def he_init(n_in, n_out, rng):
    r"""He (Kaiming) normal initialisation, for layers followed by a ReLU.

    .. math:: W_{ij} \sim \mathcal{N}\left(0, \frac{2}{n_{in}}\right)

    (the second argument is the variance: the standard deviation is
    :math:`\sqrt{2 / n_{in}}`). The factor 2 makes up for the half of the
    units that a ReLU switches off.

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
    # BEGIN SOLUTION: normal draws of the right shape with std sqrt(2 / n_in)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    # END SOLUTION


def xavier_init(n_in, n_out, rng):
    r"""Xavier (Glorot) uniform initialisation, for tanh or sigmoid layers.

    .. math:: W_{ij} \sim \mathcal{U}(-a, a), \qquad
              a = \sqrt{\frac{6}{n_{in} + n_{out}}}

    which gives the variance :math:`a^2 / 3 = 2 / (n_{in} + n_{out})`.

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


def clip_by_global_norm(grads, max_norm):
    r"""Rescale a set of gradients so that their global norm is at most ``max_norm``.

    The global norm treats all the gradients as one long vector:

    .. math:: \|g\| = \sqrt{\sum_{k} \sum_{j} (g_k)_j^2}

    If :math:`\|g\| > \mathrm{max\_norm}`, multiply **every** gradient by the
    same factor :math:`\mathrm{max\_norm} / \|g\|` (the direction of the step
    is kept; only its length changes). Otherwise return them unchanged.

    Parameters
    ----------
    grads : dict of str to ndarray
        Gradients of any shapes, e.g. ``{"dW1": ..., "db1": ...}``. Do not
        modify these arrays.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    clipped : dict of str to ndarray
        A new dict with the same keys and new arrays of the same shapes.
    norm : float
        The global norm **before** clipping (useful for plotting).

    Examples
    --------
    >>> g = {"a": np.array([3.0]), "b": np.array([[4.0]])}
    >>> clipped, norm = clip_by_global_norm(g, 1.0)
    >>> norm, clipped["a"], clipped["b"]
    (5.0, array([0.6]), array([[0.8]]))
    """
    # BEGIN SOLUTION: one norm over all arrays together; one common scale factor
    norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {name: np.asarray(g, dtype=float) * scale for name, g in grads.items()}, norm
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


def dropout_forward(X, p, rng, training=True):
    r"""Inverted dropout.

    In training, drop each entry of ``X`` independently with probability
    ``p`` and scale the kept ones by :math:`1 / (1 - p)`, so that the expected
    value of every entry is unchanged and nothing needs rescaling at test
    time:

    .. math:: \mathrm{mask}_{ij} = \frac{\mathbb{1}[u_{ij} \ge p]}{1 - p},
              \quad u_{ij} \sim \mathcal{U}[0, 1), \qquad
              \mathrm{out} = X \odot \mathrm{mask}

    (``u = rng.random(X.shape)``). When ``training`` is false, dropout is the
    identity: return ``X`` unchanged (a copy) and a mask of ones.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Activations.
    p : float
        Probability of dropping an entry, in ``[0, 1)``.
    rng : numpy.random.Generator
        Source of randomness.
    training : bool, optional
        Whether the network is training.

    Returns
    -------
    out : ndarray, shape (N, D)
        ``X * mask``.
    mask : ndarray of float, shape (N, D)
        ``0`` for dropped entries and ``1 / (1 - p)`` for kept ones (all ones
        when not training); the backward pass multiplies by it.
    """
    # BEGIN SOLUTION: in training draw a keep mask and scale it by 1/(1-p); else ones
    X = np.asarray(X, dtype=float)
    if not training:
        return X.copy(), np.ones_like(X)
    mask = (rng.random(X.shape) >= p) / (1.0 - p)
    return X * mask, mask
    # END SOLUTION
