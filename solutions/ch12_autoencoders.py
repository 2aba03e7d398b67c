"""Chapter 12 exercises: an autoencoder in the learner's engine.

An autoencoder is trained to give back its input: an encoder maps X (N, D) to a
short code (N, n_code), a decoder maps the code back to X_hat (N, D), and the
loss compares X_hat with X itself. Here the pixels are scaled to [0, 1] and the
loss is the mean squared error over every entry.

You write the loss and its gradient, the pairs (input, target) of a denoising
autoencoder, and the training loop. The model is built from *your* engine:
the ``Dense``, ``Tanh`` and ``Sigmoid`` layers of chapters 1 and 3, and the
``Sequential`` and ``Adam`` of chapter 5 (imported below); the
``Autoencoder`` class that assembles them is given. Use numpy only. Check
your work with ``course grade ch12``.
"""

import numpy as np
from ch05_hyperparameters import (  # noqa: F401  (your engine)
    Adam,
    Dense,
    Sequential,
    Sigmoid,
    Tanh,
)


def reconstruction_loss(X, X_hat):
    """Mean squared reconstruction error over every entry.

    .. math:: L = \\frac{1}{N D} \\sum_{n, d} (\\hat{X}_{nd} - X_{nd})^2

    Parameters
    ----------
    X : ndarray, shape (N, D)
        The target: the clean input.
    X_hat : ndarray, shape (N, D)
        The reconstruction.

    Returns
    -------
    float
    """
    # BEGIN SOLUTION: the mean, over all N * D entries, of the squared difference
    return float(np.mean((X_hat - X) ** 2))
    # END SOLUTION


def reconstruction_loss_grad(X, X_hat):
    """Gradient of :func:`reconstruction_loss` with respect to ``X_hat``.

    Returns
    -------
    dX_hat : ndarray, shape (N, D)
    """
    # BEGIN SOLUTION: the derivative of the mean of squares, entry by entry
    return 2.0 * (X_hat - X) / X.size
    # END SOLUTION


def denoising_pair(X, noise_std, rng):
    """The (input, target) pair of a denoising autoencoder.

    The input is X with Gaussian noise of standard deviation ``noise_std``
    added to every entry (drawn with ``rng.normal``); the target is the clean
    X, so the network must learn to remove the noise.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Not modified.
    noise_std : float
    rng : numpy.random.Generator

    Returns
    -------
    X_in : ndarray, shape (N, D)
    X_target : ndarray, shape (N, D)
    """
    # BEGIN SOLUTION: noisy copy as the input, the clean X as the target
    X_in = X + rng.normal(0.0, noise_std, size=X.shape)
    return X_in, X.copy()
    # END SOLUTION


class Autoencoder:
    """Encoder D -> hidden -> n_code (tanh, then a linear code), decoder
    n_code -> hidden -> D (tanh, then a sigmoid output), from your layers
    (given).

    ``layers`` holds the seven layers in order (the first three are the
    encoder); ``params`` and ``grads`` are the flat dicts of your
    ``Sequential`` of all of them (``"0.W"``, ...), the layers' own arrays.
    Layer ``k``'s weights are drawn with seed ``4 * seed + k``.
    """

    def __init__(self, n_in, n_hidden, n_code, seed=0):
        s = [4 * seed + k for k in range(4)]
        self.layers = [Dense(n_in, n_hidden, s[0]), Tanh(),
                       Dense(n_hidden, n_code, s[1]),
                       Dense(n_code, n_hidden, s[2]), Tanh(),
                       Dense(n_hidden, n_in, s[3]), Sigmoid()]
        self.net = Sequential(self.layers)

    @property
    def params(self):
        return self.net.params

    @property
    def grads(self):
        return self.net.grads

    def encode(self, X):
        for layer in self.layers[:3]:
            X = layer.forward(X)
        return X

    def decode(self, code):
        for layer in self.layers[3:]:
            code = layer.forward(code)
        return code

    def forward(self, X):
        return self.net.forward(X)

    reconstruct = forward

    def backward(self, dY):
        return self.net.backward(dY)


def train_autoencoder(X, n_code, seed=0):
    """Train an ``Autoencoder(D, 32, n_code, seed)`` to reconstruct ``X``.

    ``X`` holds digits scaled to [0, 1], shape (N, 64). Use your loss
    gradient, the model's ``forward`` and ``backward`` and ``Adam``, with
    mini-batches drawn with ``np.random.default_rng(seed)``. After each
    batch's backward, the update is

        optimizer.step(model.params, model.grads)

    The grader checks the reconstruction error on digits the model has not
    seen (for ``n_code = 8``: below 0.025) and that training takes less than
    about 10 seconds.

    Returns
    -------
    Autoencoder
        The trained model.
    """
    # BEGIN SOLUTION: mini-batches of 64, Adam(0.01), about 60 epochs; return the model
    model = Autoencoder(X.shape[1], 32, n_code, seed)
    optimizer = Adam(0.01)
    rng = np.random.default_rng(seed)
    for _ in range(60):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 64):
            Xb = X[order[start:start + 64]]
            model.backward(reconstruction_loss_grad(Xb, model.forward(Xb)))
            optimizer.step(model.params, model.grads)
    return model
    # END SOLUTION
