"""Learning curves: a metric per epoch from a History, a dict or a plain array."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .panels import get_ax, panel_grid


def _history_series(history, key: str) -> np.ndarray | None:
    """One per-epoch series (``(epochs,)``) from a History, a dict or an array.

    Looks, in order, at ``history.history[key]`` (Keras style), ``history[key]``
    for a dict and the attribute ``history.<key>`` (course_lib's History); returns
    None when the series does not exist or is empty.
    """
    if history is None:
        return None
    store = getattr(history, "history", None)
    if isinstance(store, Mapping) and key in store:
        values = store[key]
    elif isinstance(history, Mapping):
        values = history.get(key)
    else:
        values = getattr(history, key, None)
    if values is None or callable(values):
        return None
    values = np.asarray(values, dtype=float).reshape(-1)
    return values if values.size else None


def _epochs(history, n: int) -> np.ndarray:
    """Epoch numbers ``(n,)``: ``history.epochs`` if it has them, else 1 .. n."""
    epochs = _history_series(history, "epochs")
    if epochs is not None and len(epochs) == n:
        return epochs
    return np.arange(1, n + 1)


def _field(history, key: str):
    """A scalar field (``best_epoch``, ``stopped_epoch``) of a History or dict."""
    if isinstance(history, Mapping):
        return history.get(key)
    return getattr(history, key, None)


def loss_curve(history, ax: Axes | None = None, val: bool = True, log: bool = False,
               metric: str = "loss", label: str | None = None) -> Axes:
    """Training (and validation) ``metric`` against the epoch.

    Parameters
    ----------
    history : History, dict or array_like of shape (epochs,)
        A ``course_lib`` History (``history.history["loss"]``, ``"val_loss"``...), a
        dict of such lists, or simply the per-epoch values.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    val : bool
        Also draw ``"val_" + metric`` when the history has it.
    log : bool
        Logarithmic y axis (useful for losses that keep shrinking).
    metric : str
        Which series: ``"loss"``, ``"accuracy"``, ...
    label : str, optional
        Legend label of the training curve (default ``"train"``); handy when
        several runs are drawn on the same axes.

    Returns
    -------
    Axes
    """
    ax = get_ax(ax)
    if isinstance(history, (list, tuple, np.ndarray)):
        train, valid = np.asarray(history, dtype=float).reshape(-1), None
    else:
        train = _history_series(history, metric)
        valid = _history_series(history, "val_" + metric) if val else None
        if train is None and valid is None:
            raise ValueError(f"loss_curve: history has no {metric!r} series")
    if train is not None:
        ax.plot(_epochs(history, len(train)), train, label=label or "train")
    if valid is not None:
        prefix = f"{label}, " if label else ""
        ax.plot(_epochs(history, len(valid)), valid, linestyle="--",
                label=prefix + "validation")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if not ax.get_title():
        ax.set_title(f"{metric} during training")
    if valid is not None or label is not None:
        ax.legend()
    return ax


def training_curves(history, log: bool = False) -> Figure:
    """Loss and accuracy side by side, training vs validation.

    When training stopped early (``history.stopped_epoch`` set) or there is a
    validation curve, the best epoch (``history.best_epoch``, 1-based: the one
    whose weights early stopping restores) is marked with a dotted vertical line.

    Parameters
    ----------
    history : History or dict
        With series ``"loss"`` (and optionally ``"val_loss"``, ``"accuracy"``,
        ``"val_accuracy"``), each of shape ``(epochs,)``, and optionally
        ``best_epoch`` / ``stopped_epoch``.
    log : bool
        Logarithmic y axis for the loss panel.

    Returns
    -------
    Figure
        Two panels, or one when the history has no accuracy.
    """
    metrics = ["loss"]
    if (_history_series(history, "accuracy") is not None
            or _history_series(history, "val_accuracy") is not None):
        metrics.append("accuracy")
    fig, axes = panel_grid(len(metrics), ncols=2, panel_size=(4.5, 3.2))
    best = _field(history, "best_epoch")
    stopped = _field(history, "stopped_epoch")
    has_val = _history_series(history, "val_loss") is not None
    mark = best is not None and (stopped is not None or has_val)
    for ax, metric in zip(axes, metrics):
        loss_curve(history, ax=ax, metric=metric, log=log and metric == "loss")
        ax.set_title(metric)
        if mark:
            ax.axvline(int(best), color="0.3", linestyle=":",
                       label=f"best epoch ({int(best)})")
            ax.legend()
    fig.suptitle("Training curves")
    return fig

