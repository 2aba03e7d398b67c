"""Reference computations shared by every test of the course: the graded tests
(public and hidden, ``tests/exercises``) and the engine's tests (``tests/package``).

Everything here is computed from first principles with plain numpy: centred
finite differences, the relative error, the sigmoid's closed form, the binary
cross-entropy formula, the XOR truth table. Nothing imports the student's code,
``solutions/`` or the engine in ``course_lib``, so a test that compares a
student's answer (or the engine) with these values compares it with an
independent oracle.

Public tests ask ``expected.expected(chapter, name, case, *inputs)``, which
calls the oracle registered here with ``@reference(chapter, name)``, or import
a data-only oracle by name; a student release holds their values as data
(``expected.json``, replayed by a generated ``oracles.py``), never this file.
Hidden tests and the engine's tests import it by name (``from oracles import
fd``): pytest puts ``tests/exercises`` on ``sys.path`` when it loads the
folder's conftest, and ``tests/package/conftest.py`` adds the folder too. The
Gradescope autograder, which students never see, ships it.
"""

import math

import numpy as np

#: ``{(chapter, exercise): oracle}``: what :func:`expected.expected` calls.
REFERENCES = {}


def reference(chapter, name):
    """Register ``fn`` as the oracle of exercise ``name`` of ``chapter``."""

    def register(fn):
        REFERENCES[(chapter, name)] = fn
        return fn

    return register

#: The four XOR inputs, shape (4, 2), and their targets, shape (4, 1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def fd(f, x, h=1e-6):
    """Centred finite differences of a scalar function at every entry of ``x``.

    ``g[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)``, one entry at a time; the
    error is O(h^2) for a smooth ``f``.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of ``x``, returns a float. It receives a
        working copy that is modified between calls, so it must not keep it.
    x : array_like, shape (...)
        Where to differentiate (not modified).
    h : float
        Step.

    Returns
    -------
    ndarray, shape like ``x``
        The estimated gradient of ``f`` at ``x``.
    """
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


#: the float64 gradient-check bar: a correct backward pass agrees with ``fd`` to
#: a relative error far below it, a wrong one is far above
GRAD_TOL = 1e-7


def rel_err(a, b):
    """``max |a - b| / max(max(|a| + |b|), 1e-12)``: one number for two arrays.

    The maxima over the whole array keep tiny entries, where rounding dominates,
    from raising false alarms; the floor only avoids 0 / 0 (two zero arrays give
    0). The same definition as ``course_lib.relative_error``, written separately.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def sigmoid(z):
    """``1 / (1 + exp(-z))`` entry by entry (for the moderate ``z`` of the tests).

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape like ``z``
    """
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def bce(y, y_hat):
    """Binary cross-entropy, the mean over every entry.

    Parameters
    ----------
    y : ndarray, shape (N, K)
        Targets in {0, 1}.
    y_hat : ndarray, shape (N, K)
        Predicted probabilities, strictly between 0 and 1.

    Returns
    -------
    float
    """
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def dense_grads(X, W, b, dZ):
    """Finite-difference gradients of a dense layer, for an upstream ``dZ``.

    They are the gradients of ``L = sum(dZ * (X W + b))``, whose gradient with
    respect to ``Z = X W + b`` is exactly ``dZ``: what ``dense_backward(dZ, X,
    W)`` must return.

    Parameters
    ----------
    X : ndarray, shape (N, D_in)
    W : ndarray, shape (D_in, D_out)
    b : ndarray, shape (D_out,)
    dZ : ndarray, shape (N, D_out)

    Returns
    -------
    dX : ndarray, shape (N, D_in)
    dW : ndarray, shape (D_in, D_out)
    db : ndarray, shape (D_out,)
    """

    def loss(X_, W_, b_):
        return float(np.sum(dZ * (X_ @ W_ + b_)))

    return (fd(lambda x: loss(x, W, b), X), fd(lambda w: loss(X, w, b), W),
            fd(lambda v: loss(X, W, v), b))


# ---------------------------------------------------------------- chapter 10
# Convolution (cross-correlation, dilated) and max pooling from the formula,
# one output entry at a time; their gradients by finite differences of these
# loops.


def conv2d_loops(X, W, b, stride, padding, dilation=1):
    """Y[n, f, i, j] = b[f] + sum_{c,p,q} W[f, c, p, q] Xp[n, c, s i + d p, s j + d q].

    The patch under the kernel spans ``d (k - 1) + 1`` pixels, every ``d``-th
    one read.
    """
    P, d = padding, dilation
    Xp = np.pad(np.asarray(X, float), ((0, 0), (0, 0), (P, P), (P, P)))
    N, F, k = X.shape[0], W.shape[0], W.shape[2]
    span = d * (k - 1) + 1
    Ho = (Xp.shape[2] - span) // stride + 1
    Wo = (Xp.shape[3] - span) // stride + 1
    Y = np.zeros((N, F, Ho, Wo))
    for n, f, i, j in np.ndindex(N, F, Ho, Wo):
        r, c = i * stride, j * stride
        patch = Xp[n, :, r:r + span:d, c:c + span:d]
        Y[n, f, i, j] = b[f] + np.sum(W[f] * patch)
    return Y


def conv2d_grads(dY, X, W, b, stride, padding, dilation=1):
    """(dX, dW, db) of sum(dY * conv2d_loops(...)) by finite differences."""

    def loss(x, w, v):
        return float(np.sum(dY * conv2d_loops(x, w, v, stride, padding, dilation)))

    return (fd(lambda x: loss(x, W, b), X), fd(lambda w: loss(X, w, b), W),
            fd(lambda v: loss(X, W, v), b))


def conv2d_db(dY, X, W, b, stride, padding, dilation=1):
    """db of sum(dY * conv2d_loops(...)) by finite differences (b only)."""
    return fd(lambda v: float(np.sum(
        dY * conv2d_loops(X, W, v, stride, padding, dilation))), b)


def maxpool2d_loops(X, size, stride):
    """Y[n, c, i, j] = max of the window X[n, c, s i : s i + size, s j : s j + size]."""
    N, C, H, W_in = X.shape
    Ho, Wo = (H - size) // stride + 1, (W_in - size) // stride + 1
    Y = np.zeros((N, C, Ho, Wo))
    for n, c, i, j in np.ndindex(N, C, Ho, Wo):
        r, q = i * stride, j * stride
        Y[n, c, i, j] = X[n, c, r:r + size, q:q + size].max()
    return Y


def maxpool2d_grad(dY, X, size, stride):
    """dX of sum(dY * maxpool2d_loops(X)) by finite differences (X without ties)."""
    return fd(lambda x: float(np.sum(dY * maxpool2d_loops(x, size, stride))), X)


# ---------------------------------------------------------------- chapter 11
# The tanh recurrence written from the formula, entry by entry, and its
# gradients by finite differences.


def rnn_step_formula(x, h_prev, Wx, Wh, b):
    """h[n, j] = tanh(sum_d x[n, d] Wx[d, j] + sum_i h_prev[n, i] Wh[i, j] + b[j])."""
    N, H = h_prev.shape
    h = np.zeros((N, H))
    for n, j in np.ndindex(N, H):
        z = b[j] + sum(x[n, d] * Wx[d, j] for d in range(x.shape[1]))
        z += sum(h_prev[n, i] * Wh[i, j] for i in range(H))
        h[n, j] = np.tanh(z)
    return h


def rnn_sequence_formula(X, Wx, Wh, b):
    """States (N, T, H) of the recurrence from h_0 = 0, one step at a time."""
    h = np.zeros((X.shape[0], Wh.shape[0]))
    states = []
    for t in range(X.shape[1]):
        h = rnn_step_formula(X[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1)


def rnn_step_grads(dY, x, h_prev, Wx, Wh, b):
    """(dx, dh_prev, dWx, dWh, db) of sum(dY * step) by finite differences."""
    args = [x, h_prev, Wx, Wh, b]

    def grad(i):
        def f(v):
            a = list(args)
            a[i] = v
            return float(np.sum(dY * rnn_step_formula(*a)))

        return fd(f, args[i])

    return tuple(grad(i) for i in range(5))


def rnn_sequence_grads(dY, X, Wx, Wh, b):
    """(dX, dWx, dWh, db) of sum(dY * states) by finite differences."""
    args = [X, Wx, Wh, b]

    def grad(i):
        def f(v):
            a = list(args)
            a[i] = v
            return float(np.sum(dY * rnn_sequence_formula(*a)))

        return fd(f, args[i])

    return tuple(grad(i) for i in range(4))


def rnn_step_db_tanh_of_output(dY, h):
    """db of the classic slip tanh'(h) = 1 - tanh(h)**2, taken of the output."""
    return (dY * (1.0 - np.tanh(h) ** 2)).sum(axis=0)


def rnn_without_carry(dY, X, Hs, Wx, Wh):
    """(dX, dWx, dWh, db) when each step gets only its own dY[:, t] (nothing
    carried from step t + 1): what BPTT without the carry gives."""
    dZ = dY * (1.0 - Hs ** 2)
    H_prev = np.concatenate([np.zeros_like(Hs[:, :1]), Hs[:, :-1]], axis=1)
    return (dZ @ Wx.T, np.einsum("ntd,nth->dh", X, dZ),
            np.einsum("nti,ntj->ij", H_prev, dZ), dZ.sum(axis=(0, 1)))


def rnn_last_step_dWh(dY, Hs):
    """The last step's own contribution h_{T-1}^T dz_T to dWh (no step after it
    sends a gradient back, so dz_T = dY[:, T] (1 - h_T**2))."""
    return Hs[:, -2].T @ (dY[:, -1] * (1.0 - Hs[:, -1] ** 2))


def summed_and_clipped(step_grads, max_norm):
    """Sum the per-step dicts key by key, then scale all by one factor."""
    total = {}
    for g in step_grads:
        for k, v in g.items():
            total[k] = total.get(k, 0.0) + np.asarray(v, float)
    norm = float(np.sqrt(sum(float(np.sum(v * v)) for v in total.values())))
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: v * factor for k, v in total.items()}, norm


# ---------------------------------------------------------------- chapter 12


def squared_error_mean(X, X_hat):
    """(1 / (N D)) sum over every entry of (X_hat - X)^2, as a loop."""
    diffs = [(a - b) ** 2 for a, b in zip(np.ravel(X_hat), np.ravel(X))]
    return sum(diffs) / len(diffs)


def squared_error_grad(X, X_hat):
    """Finite differences of :func:`squared_error_mean` with respect to X_hat."""
    return fd(lambda p: squared_error_mean(X, p), X_hat)


def digits_scaled():
    """The 8x8 digits scaled to [0, 1] and split 80/20 (seeded, stratified by
    label): (X_train, X_test), shapes (1437, 64) and (360, 64)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = data.data / 16.0, data.target
    rng = np.random.default_rng(12)
    test = np.zeros(len(y), dtype=bool)
    for label in range(10):
        idx = rng.permutation(np.flatnonzero(y == label))
        test[idx[: len(idx) // 5]] = True
    return X[~test], X[test]


# ---------------------------------------------------------------- the oracles
# Each takes the inputs a public test passes to ``expected(chapter, name, case,
# *inputs)`` (data only: arrays, numbers, strings, lists and dicts of them) and
# returns the reference value the test compares with. ``name`` is the exercise
# as the scorecard writes it (``MSE_grad``). A bundle gets the values, never
# this code: ``fd`` is the answer to exercise 3.4, the loops below are the
# formulas the learner turns into numpy.


def sigmoid_by_sign(z):
    """The sigmoid of every entry with ``math.exp`` of ``-|z|`` only:
    ``1 / (1 + e^-z)`` for z >= 0, ``e^z / (1 + e^z)`` below."""
    z = np.asarray(z, dtype=float)
    out = np.zeros(z.shape)
    for idx in np.ndindex(z.shape):
        e = math.exp(-abs(z[idx]))
        out[idx] = 1.0 / (1.0 + e) if z[idx] >= 0 else e / (1.0 + e)
    return out


def leaky_relu_definition(Z, alpha):
    """``z`` where z > 0, ``alpha z`` elsewhere, entry by entry."""
    out = np.zeros(np.shape(Z))
    for idx in np.ndindex(out.shape):
        out[idx] = Z[idx] if Z[idx] > 0 else alpha * Z[idx]
    return out


def dense_loops(X, W, b):
    """Z[i, j] = sum_k X[i, k] W[k, j] + b[j], one neuron at a time."""
    n, d_in = X.shape
    Z = np.zeros((n, W.shape[1]))
    for i, j in np.ndindex(Z.shape):
        Z[i, j] = sum(X[i, k] * W[k, j] for k in range(d_in)) + b[j]
    return Z


@reference("ch01", "sigmoid")
def _sigmoid(z):
    return sigmoid_by_sign(z)


@reference("ch01", "LeakyReLU_forward")
def _leaky_forward(Z, alpha):
    return leaky_relu_definition(Z, alpha)


@reference("ch01", "Dense_forward")
def _dense_forward(X, W, b):
    return dense_loops(X, W, b)


@reference("ch01", "forward")
def _forward_layers(params, X, alpha):
    """Dense, LeakyReLU(alpha), Dense, Sigmoid, each by its definition."""
    A1 = leaky_relu_definition(dense_loops(X, params["W1"], params["b1"]), alpha)
    return sigmoid_by_sign(dense_loops(A1, params["W2"], params["b2"]))


def mse_formula(y_true, y_pred):
    """The MSE as a loop over every entry: sum of squared differences / count."""
    total = sum((p - t) ** 2 for p, t in zip(y_pred.ravel(), y_true.ravel()))
    return total / y_true.size


def bce_formula(y_true, y_pred):
    """The binary cross-entropy as a loop over every entry, with ``math.log``."""
    terms = [-(t * math.log(p) + (1 - t) * math.log(1 - p))
             for t, p in zip(y_true.ravel(), y_pred.ravel())]
    return sum(terms) / len(terms)


def softmax_rows(z):
    """Softmax of each row, entry by entry (exponentials of ``z - max(row)``)."""
    out = np.zeros_like(z, dtype=float)
    for i, row in enumerate(z):
        m = max(row)
        e = [math.exp(v - m) for v in row]
        out[i] = [v / sum(e) for v in e]
    return out


def cross_entropy_rows(labels, logits):
    """Mean of -log softmax(z_i)[y_i], with log-sum-exp done in exact steps."""
    losses = []
    for row, label in zip(logits, labels):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        losses.append(lse - row[label])
    return sum(losses) / len(losses)


@reference("ch02", "MSE_loss")
def _mse(y_true, y_pred):
    return mse_formula(y_true, y_pred)


@reference("ch02", "MSE_grad")
def _mse_grad(y_true, y_pred):
    return fd(lambda p: mse_formula(y_true, p), y_pred)


@reference("ch02", "BinaryCrossEntropy_loss")
def _bce(y_true, y_pred):
    return bce_formula(y_true, y_pred)


@reference("ch02", "BinaryCrossEntropy_grad")
def _bce_grad(y_true, y_pred):
    return fd(lambda p: bce_formula(y_true, p), y_pred)


@reference("ch02", "softmax")
def _softmax(z):
    return softmax_rows(z)


@reference("ch02", "SoftmaxCrossEntropy_loss")
def _ce(labels, logits):
    return cross_entropy_rows(labels, logits)


@reference("ch02", "SoftmaxCrossEntropy_grad")
def _ce_grad(labels, logits):
    return fd(lambda z: cross_entropy_rows(labels, z), logits)


@reference("ch03", "Tanh_backward")
def _tanh_backward(Z, dY):
    """dL/dZ of ``L = sum(dY * tanh(Z))`` by finite differences."""
    return fd(lambda z: float(np.sum(dY * np.tanh(z))), Z)


@reference("ch03", "LeakyReLU_backward")
def _leaky_backward(Z, dY, alpha):
    """The definition entry by entry: slope 1 where z > 0, alpha where z <= 0."""
    out = np.zeros(Z.shape)
    for idx in np.ndindex(Z.shape):
        out[idx] = dY[idx] if Z[idx] > 0 else alpha * dY[idx]
    return out


def tanh_sigmoid_net(params, X):
    """``sigmoid(tanh(X W1 + b1) W2 + b2)``: chapter 3's and 4's network.

    Parameters
    ----------
    params : dict
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, K), ``b2`` (K,).
    X : ndarray, shape (N, D)

    Returns
    -------
    y_hat : ndarray, shape (N, K)
    """
    return sigmoid(np.tanh(X @ params["W1"] + params["b1"]) @ params["W2"]
                   + params["b2"])


def _grads_of(loss, params):
    """``{key: dloss/dparams[key]}`` by finite differences, one key at a time."""

    def of(key):
        def f(value):
            q = dict(params)
            q[key] = value
            return loss(q)

        return f

    return {key: fd(of(key), params[key]) for key in params}


@reference("ch03", "backward")
def _backward_layers(params, X, dY):
    """(dX, dW1) of ``L = sum(dY * tanh_sigmoid_net(params, X))``."""

    def loss(p, X_=X):
        return float(np.sum(dY * tanh_sigmoid_net(p, X_)))

    return fd(lambda x: loss(params, x), X), _grads_of(loss, params)["W1"]


@reference("ch04", "NeuralNetwork_feedforward")
def _feedforward(params, X):
    return tanh_sigmoid_net(params, X)


@reference("ch04", "NeuralNetwork_backpropagate")
def _backpropagate(params, X, y):
    """(BCE of the network, its gradient per parameter by finite differences)."""

    def loss(p):
        return bce(y, tanh_sigmoid_net(p, X))

    return loss(params), _grads_of(loss, params)


@reference("ch04", "NeuralNetwork_predict")
def _predict(params, X):
    """1 where the network's output is above one half, 0 elsewhere."""
    return (tanh_sigmoid_net(params, X) > 0.5).astype(int)


def deep_net(layers, X):
    """Tanh after every ``(W, b)`` of ``layers`` but the last, sigmoid after it."""
    A = X
    for i, (W, b) in enumerate(layers):
        Z = A @ W + b
        A = np.tanh(Z) if i < len(layers) - 1 else sigmoid(Z)
    return A


@reference("ch05", "train")
def _gradient_descent(layers, X, y, lr, batches):
    """Plain gradient descent on each batch of indices in turn.

    Returns the ``(W, b)`` of every layer after the last step and, per batch,
    ``(BCE before its step, batch size)``; the gradients are finite
    differences of the BCE of :func:`deep_net`.
    """
    params = [(np.array(W, float), np.array(b, float)) for W, b in layers]
    n = len(params)
    losses = []
    for idx in batches:
        Xb, yb = X[idx], y[idx]
        flat = {f"{i}{k}": v for i, Wb in enumerate(params) for k, v in zip("Wb", Wb)}

        def loss(p, Xb=Xb, yb=yb):
            return bce(yb, deep_net([(p[f"{i}W"], p[f"{i}b"]) for i in range(n)], Xb))

        losses.append((loss(flat), len(idx)))
        grads = _grads_of(loss, flat)
        params = [(W - lr * grads[f"{i}W"], b - lr * grads[f"{i}b"])
                  for i, (W, b) in enumerate(params)]
    return params, losses


@reference("ch07", "standardize")
def _standardize(X_fit, X, ddof):
    """``X`` with each column shifted by the mean of ``X_fit``'s and divided by
    its standard deviation (``ddof``; 1 where it is 0), one column at a time."""
    out = np.zeros(X.shape)
    n = X_fit.shape[0]
    for j in range(X.shape[1]):
        col = [float(v) for v in X_fit[:, j]]
        mean = sum(col) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in col) / (n - ddof))
        for i in range(X.shape[0]):
            out[i, j] = (X[i, j] - mean) / (std if std > 0 else 1.0)
    return out


@reference("ch07", "accuracy")
def _accuracy(y_true, y_pred):
    """The fraction of labels predicted right, counted one by one."""
    return sum(int(a == b) for a, b in zip(y_true, y_pred)) / len(y_true)


@reference("ch07", "confusion_matrix")
def _confusion(y_true, y_pred, n_classes):
    """C[t, p] = the number of examples of true class t predicted p."""
    C = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        C[t, p] += 1
    return C


# ---------------------------------------------------------------- chapter 8
# Batch normalization from its definition, per channel: the rows of the
# (M, C) matrix of each channel's values; gradients by finite differences.


def _channel_rows(A):
    """(N, C) or (N, C, H, W) -> (M, C): one row per value of each channel."""
    return A if A.ndim == 2 else A.transpose(0, 2, 3, 1).reshape(-1, A.shape[1])


def _channel_unrows(R, shape):
    if len(shape) == 2:
        return R
    N, C, H, W = shape
    return R.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def batch_norm_definition(X, gamma, beta, eps):
    """(Y, mean, var): y = gamma (x - mean) / sqrt(var + eps) + beta per channel."""
    R = _channel_rows(X)
    mean = R.mean(axis=0)
    var = ((R - mean) ** 2).mean(axis=0)
    Y = _channel_unrows(gamma * (R - mean) / np.sqrt(var + eps) + beta, X.shape)
    return Y, mean, var


def batch_norm_grads(G, X, gamma, beta, eps):
    """(dX, dgamma, dbeta) of sum(G * Y) by finite differences of the definition."""

    def loss(x, g, b):
        return float(np.sum(G * batch_norm_definition(x, g, b, eps)[0]))

    return (fd(lambda x: loss(x, gamma, beta), X),
            fd(lambda g: loss(X, g, beta), gamma),
            fd(lambda b: loss(X, gamma, b), beta))


def batch_norm_running(batches, momentum):
    """(running_mean, running_var) after training-mode passes over ``batches``.

    From mean 0 and variance 1: ``r = momentum r + (1 - momentum) s`` per
    batch, with the batch mean and the *unbiased* batch variance of each
    channel (written as sums over the rows of the channel matrix).
    """
    C = batches[0].shape[1]
    mean, var = np.zeros(C), np.ones(C)
    for X in batches:
        R = _channel_rows(np.asarray(X, float))
        m = R.sum(axis=0) / len(R)
        v = ((R - m) ** 2).sum(axis=0) / (len(R) - 1)
        mean = momentum * mean + (1 - momentum) * m
        var = momentum * var + (1 - momentum) * v
    return mean, var


def batch_norm_eval(X, gamma, beta, mean, var, eps):
    """Evaluation mode: y = gamma (x - mean) / sqrt(var + eps) + beta, per channel,
    with fixed statistics ``mean``, ``var`` (C,)."""
    R = _channel_rows(np.asarray(X, float))
    return _channel_unrows(gamma * (R - mean) / np.sqrt(var + eps) + beta, X.shape)


def batch_norm_eval_grads(G, X, gamma, beta, mean, var, eps):
    """(dX, dgamma, dbeta) of sum(G * batch_norm_eval(...)) by finite differences."""

    def loss(x, g, b):
        return float(np.sum(G * batch_norm_eval(x, g, b, mean, var, eps)))

    return (fd(lambda x: loss(x, gamma, beta), X),
            fd(lambda g: loss(X, g, beta), gamma),
            fd(lambda b: loss(X, gamma, b), beta))


# ---------------------------------------------------------------- chapter 9
# Expression graphs as data: a spec is a list of nodes, ("leaf", x) or
# (op, i, j) for "+", "*", ("*c", i, c), ("**", i, n), (op, i) for "tanh",
# "log", "relu", "exp"; inputs come first. Values by evaluating the spec,
# gradients by nudging one node at a time. The small MLP of Values as
# numpy from its flat parameter list.

_UNARY = {"tanh": math.tanh, "log": math.log, "exp": math.exp,
          "relu": lambda v: max(v, 0.0)}


def _graph_eval(spec, nudge=None):
    vals = []
    for k, node in enumerate(spec):
        op = node[0]
        if op == "leaf":
            v = float(node[1])
        elif op == "+":
            v = vals[node[1]] + vals[node[2]]
        elif op == "*":
            v = vals[node[1]] * vals[node[2]]
        elif op == "*c":
            v = vals[node[1]] * node[2]
        elif op == "**":
            v = vals[node[1]] ** node[2]
        else:
            v = _UNARY[op](vals[node[1]])
        if nudge is not None and nudge[0] == k:
            v += nudge[1]
        vals.append(v)
    return vals


def graph_values(spec):
    """The value of every node of ``spec`` (a list of floats)."""
    return _graph_eval(spec)


def graph_grads(spec, h=1e-6):
    """d(output) / d(node) for every node: the output recomputed with that
    node's value nudged by +-h (centred differences)."""
    return [(_graph_eval(spec, (k, h))[-1] - _graph_eval(spec, (k, -h))[-1]) / (2 * h)
            for k in range(len(spec))]


def _mlp_eval(theta, sizes, X):
    A, k = np.asarray(X, dtype=float), 0
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        W = np.asarray(theta[k:k + n_in * n_out]).reshape(n_in, n_out)
        k += n_in * n_out
        b = np.asarray(theta[k:k + n_out])
        k += n_out
        A = A @ W + b
        if layer < len(sizes) - 2:
            A = np.tanh(A)
    return A


def mlp_outputs(theta, sizes, X):
    """Outputs (N, sizes[-1]) of the tanh MLP whose parameters, layer by layer
    (W row by row, then b), are the flat list ``theta``."""
    return _mlp_eval(theta, sizes, X)


def mlp_grads(theta, sizes, x, k):
    """d(output k for one input x) / d(theta) by finite differences."""
    theta = np.asarray(theta, dtype=float)
    return fd(lambda t: float(_mlp_eval(t, sizes, [x])[0, k]), theta)


# Last: while a release records (COURSE_RECORD_EXPECTED), calls from the public
# tests are kept, so that a bundle can replay them (see expected.py).
from expected import record_calls  # noqa: E402

record_calls(globals())
