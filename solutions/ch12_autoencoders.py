"""Chapter 12 exercises: an autoencoder in the learner's engine.

An autoencoder is trained to give back its input: an encoder maps X (N, D) to a
short code (N, n_code), a decoder maps the code back to X_hat (N, D), and the
loss compares X_hat with X itself. Here the pixels are scaled to [0, 1] and the
loss is the mean squared error over every entry.

You write the loss and its gradient, the pairs (input, target) of a denoising
autoencoder, and the training loop. The layers (``Dense``, ``Tanh``,
``Sigmoid``), the ``Adam`` optimizer and the ``Autoencoder`` model are given
below, in the learner's engine protocol: ``params`` and ``grads`` dicts,
``forward(X)``, ``backward(dY) -> dX``, ``step(params, grads)``. Use numpy
only. Check your work with ``course grade ch12``.
"""

import numpy as np


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


class Dense:
    """Z = X W + b, Xavier-uniform weights (given)."""

    def __init__(self, n_in, n_out, rng):
        a = np.sqrt(6.0 / (n_in + n_out))
        self.params = {"W": rng.uniform(-a, a, size=(n_in, n_out)),
                       "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, X):
        self.X = X
        return X @ self.params["W"] + self.params["b"]

    def backward(self, dZ):
        self.grads["W"][...] = self.X.T @ dZ
        self.grads["b"][...] = dZ.sum(axis=0)
        return dZ @ self.params["W"].T


class Tanh:
    """A = tanh(Z) (given)."""

    params = grads = {}

    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA):
        return dA * (1.0 - self.A ** 2)


class Sigmoid:
    """A = 1 / (1 + exp(-Z)), for outputs in [0, 1] (given)."""

    params = grads = {}

    def forward(self, Z):
        self.A = 0.5 * (1.0 + np.tanh(0.5 * Z))
        return self.A

    def backward(self, dA):
        return dA * self.A * (1.0 - self.A)


class Adam:
    """Adam with bias correction; ``step`` updates the arrays in place (given)."""

    def __init__(self, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        self.t += 1
        for k, p in params.items():
            g = grads[k]
            m = self.m.setdefault(k, np.zeros_like(p))
            v = self.v.setdefault(k, np.zeros_like(p))
            m[...] = self.beta1 * m + (1 - self.beta1) * g
            v[...] = self.beta2 * v + (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Autoencoder:
    """Encoder D -> hidden -> n_code (tanh, then linear code), decoder
    n_code -> hidden -> D (tanh, then sigmoid output) (given).

    ``params`` and ``grads`` are flat dicts over all layers (``"0.W"``, ...),
    the layers' own arrays.
    """

    def __init__(self, n_in, n_hidden, n_code, seed=0):
        rng = np.random.default_rng(seed)
        self.encoder = [Dense(n_in, n_hidden, rng), Tanh(),
                        Dense(n_hidden, n_code, rng)]
        self.decoder = [Dense(n_code, n_hidden, rng), Tanh(),
                        Dense(n_hidden, n_in, rng), Sigmoid()]
        layers = self.encoder + self.decoder
        self.params = {f"{i}.{k}": v for i, layer in enumerate(layers)
                       for k, v in layer.params.items()}
        self.grads = {f"{i}.{k}": v for i, layer in enumerate(layers)
                      for k, v in layer.grads.items()}

    def encode(self, X):
        for layer in self.encoder:
            X = layer.forward(X)
        return X

    def decode(self, code):
        for layer in self.decoder:
            code = layer.forward(code)
        return code

    def forward(self, X):
        return self.decode(self.encode(X))

    reconstruct = forward

    def backward(self, dX_hat):
        for layer in reversed(self.encoder + self.decoder):
            dX_hat = layer.backward(dX_hat)
        return dX_hat


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
