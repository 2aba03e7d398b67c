"""Chapter 11 exercises: a recurrent layer with backpropagation through time.

A tanh recurrent layer reads a sequence one step at a time:

    h_t = tanh(x_t Wx + h_{t-1} Wh + b),    h_0 = 0 (before the first step)

with x_t of shape (N, D), h_t of shape (N, H), Wx (D, H), Wh (H, H), b (H,).
A whole sequence is X of shape (N, T, D) and its states H of shape (N, T, H);
``H[:, t]`` is h after reading ``X[:, t]``.

You write one step forward and backward, then backpropagation through time
(BPTT) over a sequence, then the accumulation and global clipping of BPTT's
per-step gradients. ``rnn_forward`` and the class ``RNN`` at the end (a layer
of the learner's engine) are given and use your functions. Use numpy only.
Check your work with ``course grade ch11``.
"""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of the recurrence.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        The inputs of this step.
    h_prev : ndarray, shape (N, H)
        The state after the previous step (zeros before the first).
    Wx : ndarray, shape (D, H)
    Wh : ndarray, shape (H, H)
    b : ndarray, shape (H,)

    Returns
    -------
    h : ndarray, shape (N, H)
        ``tanh(x Wx + h_prev Wh + b)``.
    """
    # BEGIN SOLUTION: the sums of x and h_prev weighted, plus b, through tanh
    return np.tanh(x @ Wx + h_prev @ Wh + b)
    # END SOLUTION


def rnn_step_backward(dY, x, h_prev, h, Wx, Wh):
    """Backward through one step, given the gradient ``dY`` reaching its output.

    With ``z = x Wx + h_prev Wh + b`` and ``h = tanh(z)``, the derivative of
    tanh is ``1 - tanh(z)**2``, which is ``1 - h**2``: you are given ``h``,
    the step's *output*.

    Parameters
    ----------
    dY : ndarray, shape (N, H)
        Gradient of the loss with respect to h.
    x, h_prev, h : ndarray, shapes (N, D), (N, H), (N, H)
        The step's input, previous state and output.
    Wx, Wh : ndarray, shapes (D, H), (H, H)

    Returns
    -------
    dx : (N, D)
    dh_prev : (N, H)
        The gradient that this step sends back to the previous state.
    dWx : (D, H)
    dWh : (H, H)
    db : (H,)
    """
    # BEGIN SOLUTION: dz from dY and tanh' at h; then a dense layer's rules
    dz = dY * (1.0 - h ** 2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
    # END SOLUTION


def rnn_forward(X, Wx, Wh, b):
    """Run the recurrence over a sequence (given, not an exercise).

    X (N, T, D) -> H (N, T, H), starting from h_0 = 0.
    """
    N, T, _ = X.shape
    H = np.zeros((N, T, Wh.shape[0]))
    h = np.zeros((N, Wh.shape[0]))
    for t in range(T):
        h = rnn_step_forward(X[:, t], h, Wx, Wh, b)
        H[:, t] = h
    return H


def rnn_backward(dY, X, H, Wx, Wh):
    """Backpropagation through time over a whole sequence.

    The loss may depend on the state of every step: ``dY[:, t]`` is the
    gradient of the loss with respect to ``H[:, t]`` *through the output at
    step t only*. The total gradient reaching h_t also contains what step
    t + 1 sends back. Walk the steps from last to first; the same weights
    are used at every step, so their gradients add up over the steps.

    Parameters
    ----------
    dY : ndarray, shape (N, T, H)
    X : ndarray, shape (N, T, D)
    H : ndarray, shape (N, T, H)
        The states from ``rnn_forward``.
    Wx, Wh : ndarray, shapes (D, H), (H, H)

    Returns
    -------
    dX : (N, T, D)
    dWx : (D, H)
    dWh : (H, H)
    db : (H,)
    """
    # BEGIN SOLUTION: last step first: dY[:, t] plus what step t+1 sent
    N, T, _ = X.shape
    dX = np.zeros(X.shape)
    dWx, dWh = np.zeros(Wx.shape), np.zeros(Wh.shape)
    db = np.zeros(Wh.shape[0])
    from_next = np.zeros((N, Wh.shape[0]))
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 else np.zeros((N, Wh.shape[0]))
        dx, from_next, gWx, gWh, gb = rnn_step_backward(
            dY[:, t] + from_next, X[:, t], h_prev, H[:, t], Wx, Wh)
        dX[:, t] = dx
        dWx += gWx
        dWh += gWh
        db += gb
    return dX, dWx, dWh, db
    # END SOLUTION


def clip_bptt_gradients(step_grads, max_norm):
    """Sum BPTT's per-step gradients, then clip the total by its global norm.

    Parameters
    ----------
    step_grads : list of dict of str to ndarray
        One dict per time step, all with the same keys and shapes (for
        example ``{"Wx": ..., "Wh": ..., "b": ...}``): the contribution of
        that step to each weight's gradient.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    grads : dict of str to ndarray
        The sums over the steps, all multiplied by the same factor
        ``max_norm / norm`` if ``norm > max_norm`` (unchanged otherwise).
    norm : float
        The global norm of the summed gradients before clipping:
        ``sqrt(sum over keys of sum(g**2))``.
    """
    # BEGIN SOLUTION: sum over steps; one norm over all keys, one factor
    total = {k: sum(np.asarray(g[k], dtype=float) for g in step_grads)
             for k in step_grads[0]}
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in total.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: g * scale for k, g in total.items()}, norm
    # END SOLUTION


class RNN:
    """A tanh recurrent layer of the learner's engine, built on your functions.

    ``params`` and ``grads``: ``{"Wx": (D, H), "Wh": (H, H), "b": (H,)}``,
    weights uniform on +-1/sqrt(H) from ``np.random.default_rng(seed)``.
    X (N, T, D) -> H (N, T, H).
    """

    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        a = 1.0 / np.sqrt(n_hidden)
        self.params = {"Wx": rng.uniform(-a, a, size=(n_in, n_hidden)),
                       "Wh": rng.uniform(-a, a, size=(n_hidden, n_hidden)),
                       "b": np.zeros(n_hidden)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, X):
        self.X = X
        self.H = rnn_forward(X, self.params["Wx"], self.params["Wh"],
                             self.params["b"])
        return self.H

    def backward(self, dY):
        dX, dWx, dWh, db = rnn_backward(dY, self.X, self.H, self.params["Wx"],
                                        self.params["Wh"])
        for key, g in (("Wx", dWx), ("Wh", dWh), ("b", db)):
            self.grads[key][...] = g
        return dX
