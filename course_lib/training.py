r"""The training loop: ``fit`` and ``evaluate``, and the ``History`` they record.

:func:`train_step` is one step of gradient descent on one batch: forward, the loss
and its gradient ``dY``, backward, (L2 and clipping), the optimizer's update.
:func:`fit` runs it over mini-batches (a random permutation of the indices, no Python
loop over samples) for a number of epochs; validation, early stopping, the callback
and the progress bar each have a small function of their own below it.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .activations import Identity, Sigmoid, Softmax
from .errors import DivergenceError, ShapeError, shape_str
from .layers import Dense
from .losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy, get_loss
from .optimizers import get_optimizer

__all__ = ["History", "evaluate", "fit", "train_step"]


class History:
    """What happened during ``fit``, one entry per epoch.

    Attributes
    ----------
    epochs : list of int
        Epoch numbers, starting at 1.
    loss : list of float
        Training loss: mean of the mini-batch losses seen during the epoch (weights
        change during the epoch, dropout is on; includes the L2 term if ``l2 > 0``).
    val_loss : list of float
        Loss on ``validation_data`` at the end of the epoch (empty without it).
    accuracy, val_accuracy : list of float
        Fraction of correct labels (only for classification losses, else empty).
    lr : list of float
        The optimizer's learning rate during the epoch.
    best_epoch : int or None
        Epoch with the lowest monitored loss (``val_loss`` if available, else
        ``loss``).
    stopped_epoch : int or None
        Epoch after which early stopping or the callback stopped training; None if
        all epochs ran.
    time : float
        Wall-clock seconds spent in ``fit``.
    """

    def __init__(self):
        self.epochs, self.loss, self.val_loss = [], [], []
        self.accuracy, self.val_accuracy, self.lr = [], [], []
        self.best_epoch = None
        self.stopped_epoch = None
        self.monitor = "loss"
        self.time = 0.0

    def as_dict(self):
        """All fields as a plain dict (lists copied)."""
        return {"epochs": list(self.epochs), "loss": list(self.loss),
                "val_loss": list(self.val_loss), "accuracy": list(self.accuracy),
                "val_accuracy": list(self.val_accuracy), "lr": list(self.lr),
                "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                "monitor": self.monitor, "time": self.time}

    @property
    def history(self):
        """Keras-style ``{'loss': [...], 'val_loss': [...], ...}`` (the same lists)."""
        return {"loss": self.loss, "val_loss": self.val_loss,
                "accuracy": self.accuracy, "val_accuracy": self.val_accuracy,
                "lr": self.lr, "epochs": self.epochs}

    def __getitem__(self, key):
        return self.as_dict()[key]

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        parts = [f"{len(self.epochs)} epochs", f"loss {self.loss[-1]:.4g}"]
        if self.val_loss:
            parts.append(f"val_loss {self.val_loss[-1]:.4g}")
        if self.val_accuracy:
            parts.append(f"val_accuracy {self.val_accuracy[-1]:.4g}")
        parts.append(f"best_epoch {self.best_epoch}")
        return f"History({', '.join(parts)})"


# ----------------------------------------------------------------------------------
# one step
# ----------------------------------------------------------------------------------

def train_step(model, loss, optimizer, X_batch, y_batch, l2=0.0, clip_norm=None):
    r"""One step of gradient descent on one batch, in place.

    forward :math:`\to` loss and :math:`dY = \partial L / \partial \hat y`
    :math:`\to` backward :math:`\to` (L2, clipping) :math:`\to` update.

    Parameters
    ----------
    model : Sequential
        Anything with ``forward``, ``backward``, ``params`` and ``grads``.
    loss : Loss
    optimizer : Optimizer
    X_batch : ndarray, shape (B, D_in)
    y_batch : ndarray
        Targets of the batch as the loss expects them, already checked (``fit``
        checks the whole data set once): (B, D_out), or labels (B,).
    l2 : float
        Weight decay :math:`\lambda`, see :func:`fit`.
    clip_norm : float or None
        Largest global gradient norm, see :func:`fit`.

    Returns
    -------
    value : float
        The batch's loss before the update (plus the L2 term if ``l2 > 0``).
    y_pred : ndarray, shape (B, D_out)
        The model's output for the batch.

    Raises
    ------
    DivergenceError
        If the loss is NaN or infinite (then nothing is updated).
    """
    y_pred = model.forward(X_batch)
    value, dY = _value_and_grad(loss, y_batch, y_pred)
    if not math.isfinite(value):
        raise DivergenceError(f"the loss became {value}")
    model.backward(dY)
    params, grads = model.params, model.grads
    if l2:
        value = _add_l2(value, params, grads, l2)
    if clip_norm is not None:
        _clip(grads, clip_norm)
    optimizer.step(params, grads)
    return value, y_pred


def _value_and_grad(loss, y_true, y_pred):
    """``(loss value, dY)``; a course loss skips the checks ``fit`` made once."""
    if isinstance(loss, Loss):
        return loss.value_and_grad(y_true, y_pred)
    return loss.loss(y_true, y_pred), loss.grad(y_true, y_pred)


def _add_l2(value, params, grads, l2):
    r"""``value`` plus :math:`\frac{\lambda}{2}\sum W^2`; adds :math:`\lambda W`
    to the gradient of every weight matrix (keys ending in ``W``; biases are free).
    """
    for key, W in params.items():
        if key.endswith("W"):
            grads[key] += l2 * W
            value += l2 / 2 * float((W * W).sum())
    return value


def _clip(grads, clip_norm):
    """Scale all gradients in place so that their global L2 norm <= clip_norm."""
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if total > clip_norm:
        scale = clip_norm / total
        for g in grads.values():
            g *= scale
    return total


# ----------------------------------------------------------------------------------
# fit: epochs of steps
# ----------------------------------------------------------------------------------

def fit(model, X, y, loss=None, optimizer="adam", epochs=100, batch_size=None,
        validation_data=None, early_stopping=None, clip_norm=None, l2=0.0,
        seed=None, progress=True, callback=None, shuffle=True):
    r"""Train ``model`` on ``(X, y)`` with mini-batch gradient descent.

    Parameters
    ----------
    model : Sequential
    X : array (N, D_in)
        Inputs; cast once to the model's dtype.
    y : array
        Targets as the loss expects them: (N, D_out) for MSE / BCE, labels (N,) or
        one-hot (N, C) for SoftmaxCrossEntropy.
    loss : Loss or str
        ``'mse'``, ``'bce'``, ``'cross_entropy'`` or a loss object (required).
    optimizer : Optimizer or str
        ``'sgd'``, ``'rmsprop'``, ``'adam'`` or an optimizer object.
    epochs : int >= 1
    batch_size : int or None
        None = full batch (one step per epoch).
    validation_data : tuple (X_val, y_val) or None
        Evaluated (eval mode) after every epoch.
    early_stopping : int or None
        Patience: stop after this many epochs without improvement of the monitored
        loss (``val_loss`` if validation data is given, else ``loss``); the model
        then gets back the weights of its best epoch.
    clip_norm : float or None
        Rescale all gradients together when their global norm
        :math:`\sqrt{\sum_k \lVert g_k \rVert^2}` exceeds ``clip_norm``.
    l2 : float
        L2 penalty :math:`\frac{\lambda}{2}\sum W^2` on weight matrices (keys ending
        in ``W``, not biases): adds :math:`\lambda W` to their gradients and
        :math:`\frac{\lambda}{2}\sum W^2` to the reported training loss.
    seed : int or None
        Seed of the shuffling generator.
    progress : bool
        Show a ``tqdm`` progress bar with the loss.
    callback : callable or None
        ``callback(epoch, model, history)`` after each epoch. Training stops when it
        returns a true value (``True``, ``np.True_`` from a comparison, ...);
        ``None`` (no return statement) and ``False`` carry on.
    shuffle : bool
        Shuffle the samples every epoch (mini-batch mode only).

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        If the loss or the weights become NaN or infinite (names the epoch).
    """
    loss, optimizer, epochs = _loss_optimizer_epochs(model, loss, optimizer, epochs)
    X, y = _prepare(model, X, y, loss, "fit")
    batch_size, best = _check_options(len(X), batch_size, early_stopping, l2,
                                      clip_norm)
    if validation_data is not None:
        validation_data = _prepare(model, *validation_data, loss,
                                   "fit(validation_data)")
    history = History()
    history.monitor = "loss" if validation_data is None else "val_loss"
    rng = np.random.default_rng(seed)
    net = _Trainee(model)
    bar = _progress_bar(epochs) if progress else None
    was_training = getattr(model, "training", True)
    t0 = time.perf_counter()
    try:
        with np.errstate(all="ignore"):      # non-finite values -> DivergenceError
            model.train()
            for epoch in range(1, epochs + 1):
                batches = _batches(X, y, batch_size, rng, shuffle)
                _train_epoch(net, loss, optimizer, batches, l2, clip_norm, epoch,
                             history)
                if epoch % 50 == 0 or epoch == epochs:
                    _check_weights(model.params, epoch, optimizer)
                if validation_data is not None:
                    _validate(model, *validation_data, loss, history)
                stop = best.update(model, history)
                if callback is not None:
                    stop = _callback_says_stop(callback(epoch, model, history)) or stop
                    model.train()
                if bar is not None:
                    _update_bar(bar, epoch, epochs, history, stop)
                if stop:
                    history.stopped_epoch = epoch
                    break
    finally:
        if bar is not None:
            bar.close()
        history.time = time.perf_counter() - t0
        model.train() if was_training else model.eval()
    best.restore(model)
    return history


def _check_options(N, batch_size, early_stopping, l2, clip_norm):
    """``fit``'s batch size (None: all ``N`` samples; at most ``N``) and its early
    stopping record, after checking the numbers that shape the steps."""
    batch_size = min(N, N if batch_size is None
                     else _positive_int("batch_size", batch_size))
    if l2 < 0 or (clip_norm is not None and not clip_norm > 0):
        raise ValueError(f"fit: l2 must be >= 0 and clip_norm > 0, got l2={l2}, "
                         f"clip_norm={clip_norm}")
    best = _Best(None if early_stopping is None
                 else _positive_int("early_stopping", early_stopping))
    return batch_size, best


class _Trainee:
    """``model`` as ``fit`` hands it to ``train_step``: the same arrays and the same
    steps, two costs fewer. Its ``params`` and ``grads`` dicts are built once per
    fit, not once per step (a model's layers do not change while it trains; the
    two dicts cost a small network 15% of its time), and its ``backward`` is the
    model's ``backward_params`` where there is one (no gradient with respect to
    the input, which no update needs)."""

    def __init__(self, model):
        self.forward = model.forward
        self.backward = getattr(model, "backward_params", model.backward)
        self.params, self.grads = model.params, model.grads


def _train_epoch(model, loss, optimizer, batches, l2, clip_norm, epoch, history):
    """One pass of ``train_step`` over ``batches``; appends the epoch to history."""
    classification = getattr(loss, "classification", False)
    total, correct, N = 0.0, 0, 0
    for X_batch, y_batch in batches:
        try:
            value, y_pred = train_step(model, loss, optimizer, X_batch, y_batch,
                                       l2, clip_norm)
        except DivergenceError as err:
            _diverged(epoch, str(err), optimizer)
        total += value * X_batch.shape[0]
        N += X_batch.shape[0]
        if classification:
            correct += _n_correct(loss, y_batch, y_pred)
    history.epochs.append(epoch)
    history.loss.append(total / N)
    history.lr.append(getattr(optimizer, "lr", None))
    if classification:
        history.accuracy.append(correct / N)


def _batches(X, y, batch_size, rng, shuffle):
    """``(X_batch, y_batch)`` pairs covering the data once (one epoch)."""
    N = X.shape[0]
    if batch_size >= N:
        return ((X, y),)
    order = rng.permutation(N) if shuffle else np.arange(N)
    return ((X[idx], y[idx]) for idx in
            (order[start:start + batch_size] for start in range(0, N, batch_size)))


def _validate(model, X_val, y_val, loss, history):
    """Evaluate on the validation data (eval mode) and append it to history."""
    result = _evaluate(model, X_val, y_val, loss)
    history.val_loss.append(result["loss"])
    if "accuracy" in result:
        history.val_accuracy.append(result["accuracy"])


class _Best:
    """The lowest monitored loss so far, for ``best_epoch`` and early stopping.

    ``patience`` None: only ``history.best_epoch`` is kept up to date. An int: the
    weights of the best epoch are kept too, and ``update`` says stop after
    ``patience`` epochs without improvement.
    """

    def __init__(self, patience):
        self.patience, self.value = patience, math.inf
        self.waited, self.weights = 0, None

    def update(self, model, history):
        """Take the epoch just recorded into account; True means stop."""
        monitored = getattr(history, history.monitor)[-1]
        if monitored < self.value:
            self.value, self.waited = monitored, 0
            history.best_epoch = history.epochs[-1]
            if self.patience is not None:
                self.weights = model.get_weights()
        else:
            self.waited += 1
        return self.patience is not None and self.waited >= self.patience

    def restore(self, model):
        """Give the model back the weights of its best epoch (early stopping)."""
        if self.weights is not None:
            model.set_weights(self.weights)


# ----------------------------------------------------------------------------------
# checks and evaluation
# ----------------------------------------------------------------------------------

def _loss_optimizer_epochs(model, loss, optimizer, epochs):
    """The loss and optimizer objects, and the number of epochs, checked."""
    if loss is None:
        raise ValueError("fit: give a loss, e.g. loss='mse', 'bce', 'cross_entropy' "
                         "or a loss object such as cl.BinaryCrossEntropy()")
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    epochs = _positive_int("epochs", epochs)
    _check_pairing(model, loss)
    return loss, optimizer, epochs


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
            value < 1:
        raise ValueError(f"fit: {name} must be a positive integer, got {value!r}")
    return int(value)


def _prepare(model, X, y, loss, where):
    """Cast ``X`` (and float targets) to the model's dtype and check them, once.

    Returns ``(X, y)`` ready for the inner loop (labels for SoftmaxCrossEntropy are
    turned into an integer array (N,)).
    """
    dtype = model.dtype
    X = np.asarray(X)
    ndim = getattr(model, "input_ndim", 2)       # 4 for images, 3 for sequences
    if X.ndim != ndim:
        hint = " (one feature? use X.reshape(-1, 1))" if X.ndim == 1 else ""
        want = {2: "2-D of shape (N, D)", 3: "3-D of shape (N, T, D)",
                4: "4-D of shape (N, C, H, W)"}.get(ndim, f"{ndim}-D")
        raise ShapeError(f"{where}: X must be {want}, got "
                         f"{shape_str(X.shape)}{hint}")
    if X.dtype != dtype:
        X = X.astype(dtype)
    if np.isnan(X).any():
        raise ValueError(f"{where}: X contains NaN")
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: X contains inf")
    n_in = getattr(model, "n_in", None)
    if n_in is not None and X.shape[1] != n_in:
        raise ShapeError(f"{where}: X must have shape (N, {n_in}) for this model, "
                         f"got {shape_str(X.shape)}")
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ShapeError(f"{where}: X and y must have the same number of rows, got "
                         f"X {shape_str(X.shape)} and y {shape_str(y.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{where}: X is empty (0 samples)")
    labels = isinstance(loss, SoftmaxCrossEntropy) and (
        y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1))
    if not labels and y.dtype.kind in "biuf" and y.dtype != dtype:
        y = y.astype(dtype)
    if isinstance(loss, Loss):       # full check against the real output, once
        y, _ = loss.check(y, model._inference(X))
    return X, y


def _check_pairing(model, loss):
    """Refuse a loss that does not fit the model's output layer, saying why."""
    last = model._output_layer() if hasattr(model, "_output_layer") else None
    if isinstance(loss, BinaryCrossEntropy) and not loss.from_logits and \
            isinstance(last, (Dense, Identity)):
        raise ValueError(
            "BinaryCrossEntropy() takes probabilities, but this model ends with a "
            f"linear layer ({last!r}) that outputs logits. Add output='sigmoid' or "
            "use BinaryCrossEntropy(from_logits=True).")
    if isinstance(loss, SoftmaxCrossEntropy) and isinstance(last, Softmax):
        raise ValueError(  # noqa: TRY004  (a wrong pairing, not a wrong type)
            "SoftmaxCrossEntropy takes logits, but this model already ends with a "
            "Softmax layer (softmax would be applied twice). Build the model with "
            "output=None (a linear output) and keep SoftmaxCrossEntropy.")
    if isinstance(loss, BinaryCrossEntropy) and loss.from_logits and \
            isinstance(last, Sigmoid):
        raise ValueError(
            "BinaryCrossEntropy(from_logits=True) takes logits, but this model ends "
            "with a Sigmoid. Use BinaryCrossEntropy() or a linear output.")


def evaluate(model, X, y, loss):
    """Loss, and accuracy for classification losses, of ``model`` on ``(X, y)``.

    Runs in evaluation mode (no dropout) without touching gradients.

    Parameters
    ----------
    X : (N, D_in)
    y : targets as the loss expects them ((N, D_out), or labels (N,))
    loss : Loss or str

    Returns
    -------
    dict
        ``{'loss': float}`` plus ``'accuracy'`` for classification losses.
    """
    loss = get_loss(loss)
    X, y = _prepare(model, X, y, loss, "evaluate")
    return _evaluate(model, X, y, loss)


def _evaluate(model, X, y, loss):
    """``evaluate`` on data that ``_prepare`` has checked already."""
    out = model._inference(X)
    value = loss._loss(y, out) if isinstance(loss, Loss) else float(loss.loss(y, out))
    result = {"loss": value}
    if getattr(loss, "classification", False):
        result["accuracy"] = _n_correct(loss, y, out) / len(y)
    return result


def _n_correct(loss, y_true, y_pred):
    """Number of correctly labelled samples in a batch (a float for multi-output BCE).

    y_pred is the model output: logits (N, C) for SoftmaxCrossEntropy, probabilities
    (or logits with ``from_logits``) (N, D) for BinaryCrossEntropy.
    """
    if isinstance(loss, SoftmaxCrossEntropy):
        labels = y_true if y_true.ndim == 1 else y_true.argmax(axis=1)
        return int(np.count_nonzero(y_pred.argmax(axis=1) == labels))
    threshold = 0.0 if loss.from_logits else 0.5
    hits = np.count_nonzero((y_pred > threshold) == (y_true > 0.5))
    return hits / (y_true.size // max(y_true.shape[0], 1))


# ----------------------------------------------------------------------------------
# callback, progress bar, divergence
# ----------------------------------------------------------------------------------

def _callback_says_stop(result):
    """True when a callback's return value is true (None and False carry on)."""
    try:
        return bool(result)
    except ValueError as err:             # e.g. an array of several booleans
        raise TypeError(
            f"fit: the callback returned {type(result).__name__} {result!r}, which is "
            "neither true nor false; return True (or any true value) to stop "
            "training, None or False to carry on") from err


def _update_bar(bar, epoch, epochs, history, stop):
    bar.update(1)
    if epoch % max(1, epochs // 100) == 0 or stop or epoch == epochs:
        postfix = {"loss": f"{history.loss[-1]:.4g}"}
        if history.val_loss:
            postfix["val_loss"] = f"{history.val_loss[-1]:.4g}"
        bar.set_postfix(postfix, refresh=False)


def _progress_bar(epochs):
    try:
        from tqdm.auto import tqdm
    except ImportError:              # tqdm is optional: train without a bar
        return None
    return tqdm(total=epochs, desc="epochs", unit="ep", leave=False, mininterval=0.2)


def _diverged(epoch, what, optimizer):
    lr = getattr(optimizer, "lr", None)
    lr_text = f" (lr={lr:g})" if lr is not None else ""
    what = f"the loss became {what}" if isinstance(what, float) else what
    raise DivergenceError(
        f"training diverged at epoch {epoch}: {what}. Try a smaller "
        f"learning rate{lr_text}, gradient clipping (clip_norm=...) or scaled inputs.")


def _check_weights(params, epoch, optimizer):
    if not math.isfinite(sum(float(p.sum()) for p in params.values())):
        _diverged(epoch, "some weights became NaN or infinite (checked every 50 "
                  "epochs)", optimizer)
