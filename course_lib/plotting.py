"""Figures for the book: activations, losses, decision boundaries, diagnostics.

Every function draws with matplotlib only, takes an optional ``ax`` (or makes a
new figure) and returns the :class:`~matplotlib.axes.Axes` or
:class:`~matplotlib.figure.Figure` it drew on; nothing here calls ``plt.show()``.
Colours come from ``viridis``/``cividis`` or from a palette whose colours differ in
lightness, and classes differ by marker shape as well, so every figure stays
readable when printed in grey. Call :func:`use_course_style` once per notebook for
the course look.

This module imports matplotlib at import time; ``import course_lib`` does not
import it (``course_lib.plotting`` is loaded on first use).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "CLASS_MARKERS",
    "COURSE_COLORS",
    "activation_functions",
    "activation_histograms",
    "activation_pair",
    "confusion_matrix",
    "decision_boundary",
    "decision_boundary_grid",
    "decision_grid",
    "gradient_flow",
    "gradient_norms",
    "hidden_units",
    "image_grid",
    "loss_curve",
    "loss_surface",
    "training_curves",
    "update_ratios",
    "use_course_style",
]

# Okabe-Ito colours ordered so that neighbours differ in lightness (dark blue,
# light orange, mid green, black, pink, ...); lines also cycle through dash styles.
COURSE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#000000", "#CC79A7", "#56B4E9",
                 "#D55E00", "#F0E442")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)),
              (0, (1, 3)), (0, (8, 2, 1, 2)))
CLASS_MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*", "<", ">")
PATH_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
MAP_CMAP = "viridis"      # continuous maps: probabilities, activations, surfaces
MATRIX_CMAP = "cividis"   # confusion matrices

_COURSE_RC = {
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.family": "DejaVu Sans",      # ships with matplotlib: no web fonts
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
    "legend.frameon": False,
    "image.cmap": MAP_CMAP,
    "axes.prop_cycle": (cycler(color=list(COURSE_COLORS))
                        + cycler(linestyle=list(LINESTYLES))),
}


def use_course_style() -> dict:
    """Set matplotlib's rcParams to the course style (call once per notebook).

    Fonts are DejaVu Sans (bundled with matplotlib), lines cycle through colours
    that differ in lightness *and* through dash styles, images default to
    ``viridis``, grids are light and the top/right spines are hidden.

    Returns
    -------
    dict
        The rcParams that were set, e.g. for ``plt.rc_context(...)``.
    """
    mpl.rcParams.update(_COURSE_RC)
    return dict(_COURSE_RC)


# --------------------------------------------------------------------------- helpers


def _get_ax(ax: Axes | None, figsize=None) -> Axes:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _panel_grid(n: int, ncols: int, panel_size=(3.2, 3.0), sharex=False,
                sharey=False):
    """A figure with ``n`` panels on ``ceil(n / ncols)`` rows; spare panels hidden.

    Returns the figure and a flat list of the ``n`` axes in use.
    """
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=sharex,
                             sharey=sharey,
                             figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def _labels_1d(y: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` from labels ``(N,)``, ``(N, 1)`` or one-hot ``(N, K)``"""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return np.rint(y.reshape(-1)).astype(int)


def _class_colors(n_classes: int, cmap=MAP_CMAP) -> list:
    """``n_classes`` colours spread over ``cmap`` (so they differ in lightness)."""
    cmap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    if n_classes == 1:
        return [cmap(0.0)]
    return [cmap(k / (n_classes - 1)) for k in range(n_classes)]


def _scatter_classes(ax: Axes, X: np.ndarray, y, n_classes: int | None = None,
                     size: float = 30, legend: bool = True) -> None:
    """Scatter 2-D points ``X (N, 2)`` with one colour *and* marker per class."""
    X = np.asarray(X, dtype=float)
    labels = _labels_1d(y)
    classes = np.unique(labels)
    n_classes = max(n_classes or 0, int(classes.max()) + 1 if classes.size else 1)
    colors = _class_colors(n_classes)
    for k in classes:
        mask = labels == k
        ax.scatter(X[mask, 0], X[mask, 1], s=size, color=colors[k],
                   marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], edgecolors="black",
                   linewidths=0.7, label=f"class {k}", zorder=3)
    if legend:
        ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.8)


def _as_array_output(out) -> np.ndarray:
    """Model output as floats ``(N,)`` or ``(N, K)``; ``(N, 1)`` is flattened."""
    out = np.asarray(out, dtype=float)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return out


def _score_function(model) -> Callable[[np.ndarray], np.ndarray]:
    """Turn a model or a callable into ``f(X) -> scores``.

    Preference order: ``predict_proba`` (course_lib models: probabilities, in eval
    mode, without touching the layers' caches); a single layer (``forward`` and
    ``backward``), run by the engine as a one-layer ``Sequential`` in the same way;
    ``predict`` (labels); and finally the object itself if it is callable.
    """
    if hasattr(model, "predict_proba"):
        return model.predict_proba
    if hasattr(model, "forward") and hasattr(model, "backward"):
        from .models import Sequential

        return lambda X: Sequential([model]).activations(X)[-1]
    if hasattr(model, "predict"):
        return model.predict
    if callable(model):
        return model
    raise TypeError("decision_boundary: model must have predict_proba(X), forward(X) "
                    "or predict(X), or be a callable f(X) -> scores; got "
                    f"{type(model).__name__}")


def _check_2d_inputs(X, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name}: X must have shape (N, 2), got {X.shape}")
    return X


# ------------------------------------------------------------------- activations


_ACTIVATION_TITLES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
                      "leaky_relu": "leaky ReLU", "identity": "identity",
                      "softplus": "softplus"}


def activation_pair(name: str) -> tuple[Callable, Callable]:
    """An activation ``f`` and its derivative ``f'`` from ``course_lib.activations``.

    Parameters
    ----------
    name : str
        ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"`` or ``"identity"``
        (any ``name`` for which the module has ``name`` and ``name_prime``).

    Returns
    -------
    (f, df) : tuple of callables
        ``course_lib.activations.<name>`` and ``<name>_prime``; each maps an array
        ``z`` to an array of the same shape.
    """
    from course_lib import activations

    key = name.lower().replace("-", "_")
    f = getattr(activations, key, None)
    df = getattr(activations, key + "_prime", None)
    if f is None or df is None:
        known = sorted(k[:-6] for k in dir(activations) if k.endswith("_prime"))
        raise ValueError(f"unknown activation {name!r}; choose one of {known}")
    return f, df


def activation_functions(names: Sequence[str] = ("sigmoid", "tanh", "relu",
                                                 "leaky_relu"),
                         z: np.ndarray | None = None,
                         derivatives: bool = True) -> Figure:
    """One panel per activation function with ``f(z)`` and, optionally, ``f'(z)``.

    Parameters
    ----------
    names : sequence of str
        Activations to draw (see :func:`activation_pair`), one panel each.
    z : ndarray of shape (n,), optional
        Pre-activation values; default ``np.linspace(-5, 5, 401)``.
    derivatives : bool
        Also draw the derivative ``f'(z)`` (dashed).

    Returns
    -------
    Figure
        ``len(names)`` panels in one row.
    """
    z = np.linspace(-5.0, 5.0, 401) if z is None else np.asarray(z, dtype=float)
    fig, axes = _panel_grid(len(names), ncols=len(names), panel_size=(3.0, 2.8),
                            sharey=False)
    for ax, name in zip(axes, names):
        f, df = activation_pair(name)
        ax.plot(z, f(z), color=COURSE_COLORS[0], linestyle="-", label="$f(z)$")
        if derivatives:
            ax.plot(z, df(z), color=COURSE_COLORS[1], linestyle="--",
                    label="$f'(z)$")
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.set_title(_ACTIVATION_TITLES.get(name.lower(), name))
        ax.set_xlabel("pre-activation $z$")
        ax.set_ylabel("value")
        ax.legend(loc="upper left", fontsize=8)
    return fig


# ------------------------------------------------------------------------ history


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
    ax = _get_ax(ax)
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
    fig, axes = _panel_grid(len(metrics), ncols=2, panel_size=(4.5, 3.2))
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


# --------------------------------------------------------------- decision regions


def decision_grid(model, X: np.ndarray, resolution: int = 200, padding: float = 0.5):
    """Evaluate ``model`` on a regular grid covering the 2-D points ``X``.

    Parameters
    ----------
    model : object or callable
        Anything with ``predict_proba(X)`` (course_lib models, scikit-learn
        classifiers), ``forward(X)`` (evaluated in eval mode) or ``predict(X)``, or
        a plain callable ``f(X_grid) -> scores``.
    X : ndarray of shape (N, 2)
        The data; the grid spans its bounding box plus ``padding`` on each side.
    resolution : int
        Grid points per axis, ``R``.
    padding : float
        Margin added around the data, in data units.

    Returns
    -------
    xx, yy : ndarray of shape (R, R)
        Grid coordinates (``np.meshgrid``; rows follow the second feature).
    scores : ndarray of shape (R, R) or (R, R, K)
        The model's output at each grid point: one value per point for a single
        output, ``K`` values for ``K`` outputs.
    """
    X = _check_2d_inputs(X, "decision_grid")
    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out = _as_array_output(_score_function(model)(grid))
    if out.shape[0] != grid.shape[0]:
        raise ValueError(f"decision_grid: model returned {out.shape[0]} rows for "
                         f"{grid.shape[0]} grid points")
    return xx, yy, out.reshape((resolution, resolution) + out.shape[1:])


def decision_boundary(model, X: np.ndarray, y: np.ndarray, ax: Axes | None = None,
                      resolution: int = 200, padding: float = 0.5,
                      proba: bool = True, title: str | None = None,
                      threshold: float | None = None, colorbar: bool = False,
                      legend: bool = True) -> Axes:
    """Filled contour of a classifier's output with the data points on top.

    * One output (e.g. a sigmoid unit, or a score function): with ``proba=True``
      the output is shaded continuously (``viridis``) and the decision boundary
      ``output = threshold`` is drawn as a black line; with ``proba=False`` only
      the two predicted regions are shaded.
    * Several outputs: the regions of the predicted class (argmax) are shaded,
      with black lines between them. For two outputs and ``proba=True`` the
      second output (``P(class 1)``) is shaded instead.
    * Integer labels ``0 .. K-1`` with ``K > 2`` (a ``predict``-only model): the
      regions of each label are shaded.

    Parameters
    ----------
    model : object or callable
        Anything with ``predict_proba(X)``, ``forward(X)`` or ``predict(X)`` (tried
        in that order), or a callable ``f(X_grid) -> scores`` with ``X_grid (M, 2)``
        and scores
        ``(M,)``, ``(M, 1)`` or ``(M, K)``.
    X : ndarray of shape (N, 2)
        Points to draw.
    y : ndarray of shape (N,) or (N, 1), or one-hot (N, K)
        Their classes; each class gets its own colour and marker.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    resolution : int
        Grid points per axis.
    padding : float
        Margin around the data, in data units.
    proba : bool
        Shade the continuous output rather than the predicted class.
    title : str, optional
        Axes title; default "Decision boundary".
    threshold : float, optional
        Level of the boundary for a single output. Default: 0.5 when all outputs
        lie in [0, 1] (probabilities), otherwise 0 (scores / logits).
    colorbar : bool
        Add a colour bar for the continuous output.
    legend : bool
        Show the class legend.

    Returns
    -------
    Axes
    """
    X = _check_2d_inputs(X, "decision_boundary")
    ax = _get_ax(ax, figsize=(5.0, 4.2))
    xx, yy, scores = decision_grid(model, X, resolution, padding)
    n_classes = int(_labels_1d(y).max()) + 1
    if scores.ndim == 3 and scores.shape[2] == 2 and proba:
        scores = scores[:, :, 1]                 # P(class 1) of a 2-way softmax
    labels_out = (scores.ndim == 2 and scores.max() > 1
                  and np.array_equal(scores, np.round(scores)) and scores.min() >= 0)
    if scores.ndim == 2 and not labels_out:      # one value per grid point
        if threshold is None:
            in_unit = scores.min() >= 0.0 and scores.max() <= 1.0
            threshold = 0.5 if in_unit else 0.0
        if proba:
            lo, hi = float(scores.min()), float(scores.max())
            if threshold == 0.5 and lo >= 0.0 and hi <= 1.0:
                lo, hi = 0.0, 1.0                # probabilities: fixed scale
            norm = None
            if lo < threshold < hi:              # boundary at the colour map's middle
                norm = mpl.colors.TwoSlopeNorm(threshold, lo, hi)
            levels = np.linspace(lo, hi, 21) if hi > lo else None
            filled = ax.contourf(xx, yy, scores, levels=levels, cmap=MAP_CMAP,
                                 norm=norm, alpha=0.65)
        else:
            regions = (scores > threshold).astype(float)
            filled = ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5],
                                 colors=_class_colors(2), alpha=0.45)
        if scores.min() < threshold < scores.max():
            ax.contour(xx, yy, scores, levels=[threshold], colors="black",
                       linewidths=2)
        if colorbar and proba:
            ax.figure.colorbar(filled, ax=ax, label="model output")
    else:                                        # K outputs or labels: classes
        if labels_out:                           # predict() gave labels 0..K-1
            pred = scores
        else:
            pred = np.argmax(scores, axis=2).astype(float)
        n_classes = max(n_classes, int(pred.max()) + 1,
                        scores.shape[2] if scores.ndim == 3 else 0)
        levels = np.arange(n_classes + 1) - 0.5
        ax.contourf(xx, yy, pred, levels=levels, colors=_class_colors(n_classes),
                    alpha=0.45)
        ax.contour(xx, yy, pred, levels=levels[1:-1], colors="black",
                   linewidths=1.2)
    _scatter_classes(ax, X, y, n_classes=max(n_classes, 2), legend=legend)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "Decision boundary")
    ax.grid(False)
    return ax


def _apply_weights(model, weights) -> None:
    """Load one snapshot of weights into ``model`` (in place)."""
    if hasattr(model, "set_weights"):
        model.set_weights(weights)
    elif isinstance(weights, Mapping):
        for key, value in weights.items():
            model.params[key][...] = value
    else:
        raise TypeError("decision_boundary_grid: model has no set_weights(); "
                        "pass weights as a dict {name: array} like model.params")


def _copy_weights(model):
    """A copy of ``model``'s weights in the form :func:`_apply_weights` accepts."""
    if hasattr(model, "get_weights"):
        weights = model.get_weights()
        if isinstance(weights, Mapping):
            return {k: np.array(v, copy=True) for k, v in weights.items()}
        return [np.array(w, copy=True) for w in weights]
    return {k: np.array(v, copy=True) for k, v in model.params.items()}


def decision_boundary_grid(snapshots: Sequence, X: np.ndarray, y: np.ndarray,
                           titles: Sequence[str] | None = None, ncols: int = 4,
                           model=None, **kwargs) -> Figure:
    """Small multiples of :func:`decision_boundary`, e.g. at several epochs.

    Two ways to call it:

    * ``decision_boundary_grid([model_a, model_b, ...], X, y)`` -- each snapshot
      is a model (e.g. ``copy.deepcopy(model)`` taken during training) or a
      callable, as accepted by :func:`decision_boundary`;
    * ``decision_boundary_grid([w0, w1, ...], X, y, model=model)`` -- each
      snapshot is a set of weights (``model.get_weights()``, or a copy of the
      ``model.params`` dict); they are loaded into ``model`` one at a time and the
      model's own weights are restored afterwards.

    Parameters
    ----------
    snapshots : sequence
        Models/callables, or weight sets when ``model`` is given.
    X : ndarray of shape (N, 2)
        The data points drawn in every panel.
    y : ndarray of shape (N,) or (N, 1)
        Their classes (colour and marker).
    titles : sequence of str, optional
        One title per panel (e.g. ``"epoch 100"``); default ``"snapshot i"``.
    ncols : int
        Panels per row.
    model : model, optional
        The model the weight snapshots belong to.
    **kwargs
        Passed on to :func:`decision_boundary` (``resolution``, ``proba``...);
        the default resolution here is 100.

    Returns
    -------
    Figure
        ``len(snapshots)`` panels.

    Examples
    --------
    Keep the weights at a few epochs with ``fit``'s callback::

        snaps, titles = [], []

        def keep(epoch, model, history):
            if epoch in (1, 50, 200, 1000):
                snaps.append(model.get_weights())
                titles.append(f"epoch {epoch}")

        model.fit(X, y, loss="bce", epochs=1000, callback=keep, progress=False)
        decision_boundary_grid(snaps, X, y, titles=titles, model=model)
    """
    kwargs.setdefault("resolution", 100)
    kwargs.setdefault("legend", False)
    n = len(snapshots)
    if titles is not None and len(titles) != n:
        raise ValueError(f"decision_boundary_grid: {n} snapshots but "
                         f"{len(titles)} titles")
    fig, axes = _panel_grid(n, ncols=ncols, panel_size=(3.0, 2.8))
    saved = _copy_weights(model) if model is not None else None
    try:
        for i, (ax, snap) in enumerate(zip(axes, snapshots)):
            if model is not None:
                _apply_weights(model, snap)
                snap = model
            title = titles[i] if titles is not None else f"snapshot {i}"
            decision_boundary(snap, X, y, ax=ax, title=title, **kwargs)
    finally:
        if saved is not None:
            _apply_weights(model, saved)
    fig.suptitle("Decision boundary")
    return fig


# ------------------------------------------------------------------- hidden units


def _dense_positions(model) -> list[int]:
    """Indices in ``model.layers`` of the layers that hold a weight matrix ``W``."""
    return [i for i, layer in enumerate(model.layers)
            if "W" in getattr(layer, "params", {})]


def _all_layer_outputs(model, X) -> list[np.ndarray]:
    """Output of every layer of ``model`` for ``X``, in evaluation mode, from the
    engine's ``Sequential.activations`` (no side effects on the layers)."""
    if hasattr(model, "activations"):
        return list(model.activations(X))
    from .models import Sequential

    return Sequential(model.layers).activations(X)


def hidden_units(model, X: np.ndarray, y: np.ndarray, layer: int = 0,
                 resolution: int = 120, padding: float = 0.5,
                 ncols: int = 5) -> Figure:
    """What each hidden unit of one Dense layer computes, over a 2-D input.

    One panel per unit shows its activation ``a_j(x)`` (filled contour) and its
    zero level ``z_j(x) = 0`` (black line; for the first layer this is the line
    ``w_j . x + b_j = 0``); a last panel shows the network's decision boundary.

    Parameters
    ----------
    model : Sequential
        A model with ``.layers`` (Dense layers have ``params["W"]``), 2 inputs.
    X : ndarray of shape (N, 2)
        The data points drawn in every panel.
    y : ndarray of shape (N,) or (N, 1)
        Their classes (colour and marker).
    layer : int
        Which Dense layer, counting Dense layers only (0 = the first).
    resolution : int
        Grid points per axis.
    padding : float
        Margin around the data.
    ncols : int
        Panels per row.

    Returns
    -------
    Figure
        ``n_units + 1`` panels.
    """
    X = _check_2d_inputs(X, "hidden_units")
    dense = _dense_positions(model)
    if not 0 <= layer < len(dense) - 1:
        raise ValueError(f"hidden_units: layer must be a hidden Dense layer, 0 .. "
                         f"{len(dense) - 2}; got {layer}")
    pos = dense[layer]
    act = model.layers[pos + 1] if pos + 1 < len(model.layers) else None
    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    xx, yy = np.meshgrid(xs, ys)
    outputs = _all_layer_outputs(model, np.column_stack([xx.ravel(), yy.ravel()]))
    Z = np.asarray(outputs[pos], dtype=float)                  # (R*R, n_units)
    A = np.asarray(outputs[pos + 1], dtype=float) if act is not None else Z
    n_units = Z.shape[1]
    fig, axes = _panel_grid(n_units + 1, ncols=ncols, panel_size=(2.8, 2.6))
    labels = _labels_1d(y)
    # one colour scale for all units, so that their activations can be compared
    levels = np.linspace(A.min(), A.max(), 21) if A.max() > A.min() else None
    for j, ax in enumerate(axes[:-1]):
        a = A[:, j].reshape(xx.shape)
        z = Z[:, j].reshape(xx.shape)
        ax.contourf(xx, yy, a, levels=levels, cmap=MAP_CMAP, alpha=0.7)
        if z.min() < 0 < z.max():
            ax.contour(xx, yy, z, levels=[0.0], colors="black", linewidths=1.5)
        _scatter_classes(ax, X, labels, n_classes=2, size=30, legend=False)
        ax.set_title(f"unit {j}")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    decision_boundary(model, X, y, ax=axes[-1], resolution=resolution,
                      padding=padding, title="output", legend=False)
    fig.suptitle(f"Hidden units of Dense layer {layer}: activation (dark = "
                 f"{A.min():.2g}, light = {A.max():.2g}) and zero level (black)")
    return fig


# ------------------------------------------------------------- gradient diagnostics


def _per_layer_series(values):
    """Normalise a dict / list of dicts / model into (kind, names, array)."""
    if isinstance(values, Mapping):
        names = list(values)
        return "bar", names, np.array([float(values[k]) for k in names])
    values = list(values)
    if not values:
        raise ValueError("expected a dict {layer: value} or a non-empty list of them")
    names = list(dict.fromkeys(k for row in values for k in row))
    table = np.array([[float(row.get(k, np.nan)) for k in names] for row in values])
    return "lines", names, table


def _plot_per_layer(values, ax, log, ylabel, title, reference=None) -> Axes:
    kind, names, data = _per_layer_series(values)
    ax = _get_ax(ax)
    if kind == "bar":
        colors = _class_colors(len(names), MAP_CMAP)
        ax.bar(np.arange(len(names)), data, color=colors, edgecolor="black",
               linewidth=0.6)
        ax.set_xticks(np.arange(len(names)), names,
                      rotation=45 if len(names) > 6 else 0)
        ax.set_xlabel("parameter (layer.name)")
    else:
        steps = np.arange(1, data.shape[0] + 1)
        markevery = max(1, data.shape[0] // 10)
        for j, name in enumerate(names):
            ax.plot(steps, data[:, j], label=name,
                    color=COURSE_COLORS[j % len(COURSE_COLORS)],
                    linestyle=LINESTYLES[j % len(LINESTYLES)],
                    marker=PATH_MARKERS[j % len(PATH_MARKERS)],
                    markevery=markevery, markersize=4)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8, ncols=2 if len(names) > 5 else 1)
    if reference is not None:
        ax.axhline(reference, color="0.4", linestyle=":", linewidth=1)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def gradient_norms(norms, ax: Axes | None = None, log: bool = True) -> Axes:
    """Per-layer gradient norms: a bar chart for one step, lines over epochs.

    Parameters
    ----------
    norms : dict, list of dicts, History or model
        ``{name: norm}`` (e.g. ``model.gradient_norms()``, keys like ``"0.W"``)
        gives a bar chart; a list of such dicts (one per epoch) gives one line per
        parameter. A model with ``gradient_norms()`` or ``grads`` is read directly;
        a History with a ``"grad_norms"`` series is drawn over epochs.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    log : bool
        Logarithmic y axis (vanishing gradients span orders of magnitude).

    Returns
    -------
    Axes

    Examples
    --------
    Record the norms after every epoch with ``fit``'s callback (the gradients of
    the epoch's last mini-batch)::

        norms = []
        model.fit(X, y, loss="bce", epochs=50, progress=False,
                  callback=lambda epoch, m, h: norms.append(m.gradient_norms()))
        gradient_norms(norms)
    """
    norms = _norms_from(norms)
    return _plot_per_layer(norms, ax, log, "gradient norm $\\|\\partial L/\\partial"
                           " \\theta\\|_2$", "Gradient norm per layer")


def _norms_from(obj):
    """Gradient norms (a dict or a list of dicts) from what gradient_norms accepts."""
    if hasattr(obj, "gradient_norms") and callable(obj.gradient_norms):
        return obj.gradient_norms()
    if hasattr(obj, "grads") and isinstance(obj.grads, Mapping):
        return {k: float(np.linalg.norm(g)) for k, g in obj.grads.items()}
    store = getattr(obj, "history", None)
    if isinstance(store, Mapping):
        for key in ("grad_norms", "gradient_norms"):
            if key in store:
                return list(store[key])
        raise ValueError("gradient_norms: this History has no 'grad_norms' series")
    return obj


def gradient_flow(model_or_norms, ax: Axes | None = None, log: bool = True) -> Axes:
    """Alias of :func:`gradient_norms` (the name used in the course design)."""
    return gradient_norms(model_or_norms, ax=ax, log=log)


def update_ratios(ratios, ax: Axes | None = None, log: bool = True) -> Axes:
    r"""Ratio of update size to weight size per parameter, :math:`\|\Delta W\|/\|W\|`.

    A rule of thumb puts healthy training near ``1e-3`` (dotted line): much
    smaller and the layer barely learns, much larger and it is unstable.

    Parameters
    ----------
    ratios : dict or list of dicts
        ``{name: ratio}`` for one step (bars) or one dict per epoch (lines).
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    log : bool
        Logarithmic y axis.

    Returns
    -------
    Axes
    """
    return _plot_per_layer(ratios, ax, log, "$\\|\\Delta W\\| / \\|W\\|$",
                           "Update-to-weight ratio", reference=1e-3)


def _layer_activations(model, X) -> list[tuple[str, np.ndarray]]:
    """(name, output) of every activation layer (no parameters, not Dropout)."""
    outputs = _all_layer_outputs(model, X)
    return [(f"{i}: {type(layer).__name__}", np.asarray(a))
            for i, (layer, a) in enumerate(zip(model.layers, outputs))
            if not getattr(layer, "params", None)
            and type(layer).__name__ != "Dropout"]


def _activation_stats(name: str, a: np.ndarray) -> str:
    """One line about zeros / dead units / saturation of activations ``a (N, D)``."""
    a2 = a.reshape(a.shape[0], -1)
    if "Sigmoid" in name:
        return f"{np.mean((a2 < 0.01) | (a2 > 0.99)):.0%} saturated"
    if "Tanh" in name:
        return f"{np.mean(np.abs(a2) > 0.99):.0%} saturated"
    dead = int(np.sum(np.all(a2 == 0.0, axis=0)))
    return f"{np.mean(a2 == 0.0):.0%} zeros, {dead} dead of {a2.shape[1]} units"


def activation_histograms(model, X: np.ndarray, axes=None, bins: int = 50) -> Figure:
    """Histogram of each activation layer's outputs on a batch ``X``.

    Dead ReLUs show up as a spike at 0; saturated sigmoid/tanh units pile up at
    the ends. Each panel's title gives the fraction of exact zeros and the number
    of *dead* units (zero for every example in ``X``), or for sigmoid/tanh the
    fraction of saturated values (within 0.01 of the asymptotes).

    Parameters
    ----------
    model : Sequential
        Its layers' outputs come from ``model.activations(X)`` (one array
        ``(N, D_i)`` per layer, evaluation mode) when the model has it, else from
        running the layers one by one; the outputs of the layers without
        parameters (activations; Dropout excluded) are drawn.
    X : ndarray of shape (N, D_in)
        A batch of inputs (e.g. the training set).
    axes : sequence of Axes, optional
        One Axes per activation layer; a new figure otherwise.
    bins : int
        Histogram bins.

    Returns
    -------
    Figure
        One panel per activation layer.
    """
    acts = _layer_activations(model, X)
    if not acts:
        raise ValueError("activation_histograms: the model has no activation layers")
    if axes is None:
        fig, axes = _panel_grid(len(acts), ncols=min(len(acts), 4),
                                panel_size=(3.2, 2.6))
    else:
        axes = list(np.ravel(axes))
        if len(axes) < len(acts):
            raise ValueError(f"activation_histograms: {len(acts)} activation layers "
                             f"but {len(axes)} axes")
        fig = axes[0].figure
    for ax, (name, a) in zip(axes, acts):
        ax.hist(a.ravel(), bins=bins, color=COURSE_COLORS[0], edgecolor="white",
                linewidth=0.3)
        ax.set_title(f"{name}\n{_activation_stats(name, a)}", fontsize=9)
        ax.set_xlabel("activation value")
        ax.set_ylabel("count")
    fig.suptitle("Activation distributions")
    return fig


# --------------------------------------------------------------------- surfaces


def _eval_surface(f, W1, W2) -> np.ndarray:
    """``f(W1, W2)`` on a grid, falling back to a loop if ``f`` is not vectorised."""
    try:
        Z = np.asarray(f(W1, W2), dtype=float)
        if Z.shape == W1.shape:
            return Z
    except (TypeError, ValueError):
        pass
    return np.array([[float(f(a, b)) for a, b in zip(r1, r2)]
                     for r1, r2 in zip(W1, W2)])


def loss_surface(f: Callable, xlim: tuple[float, float], ylim: tuple[float, float],
                 ax: Axes | None = None, levels: int = 30,
                 paths: Sequence[np.ndarray] | None = None,
                 labels: Sequence[str] | None = None, log_levels: bool = True,
                 resolution: int = 200) -> Axes:
    """Contour plot of a loss ``f(w1, w2)`` with optional optimizer paths.

    Parameters
    ----------
    f : callable
        ``f(W1, W2) -> L`` for grids ``W1, W2`` of shape ``(R, R)`` (vectorised);
        a scalar-only ``f`` also works, more slowly.
    xlim, ylim : (float, float)
        Range of ``w1`` and ``w2``.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    levels : int
        Number of contour levels.
    paths : sequence of ndarray of shape (k, 2), optional
        Optimizer trajectories ``[(w1, w2), ...]``, drawn as lines with markers;
        start marked with a hollow circle, end with a cross.
    labels : sequence of str, optional
        Legend entry for each path (e.g. ``["SGD", "Adam"]``).
    log_levels : bool
        Space the levels geometrically above the minimum (shows detail near it).
    resolution : int
        Grid points per axis, ``R``.

    Returns
    -------
    Axes
    """
    ax = _get_ax(ax, figsize=(5.5, 4.5))
    w1 = np.linspace(xlim[0], xlim[1], resolution)
    w2 = np.linspace(ylim[0], ylim[1], resolution)
    W1, W2 = np.meshgrid(w1, w2)
    Z = _eval_surface(f, W1, W2)
    finite = Z[np.isfinite(Z)]
    lo, hi = float(finite.min()), float(finite.max())
    if log_levels and hi > lo:
        span = hi - lo
        lev = lo + np.geomspace(span * 1e-4, span, levels)
        lev = np.concatenate([[lo], lev])
    else:
        lev = levels
    # a light fill plus coloured contour lines keeps the paths on top readable
    filled = ax.contourf(W1, W2, Z, levels=lev, cmap=MAP_CMAP, alpha=0.35)
    ax.contour(W1, W2, Z, levels=lev, cmap=MAP_CMAP, linewidths=0.7)
    ax.figure.colorbar(filled, ax=ax, label="loss", format="%.2g")
    if paths is not None:
        if labels is not None and len(labels) != len(paths):
            raise ValueError(f"loss_surface: {len(paths)} paths but {len(labels)} "
                             "labels")
        for i, path in enumerate(paths):
            path = np.asarray(path, dtype=float)
            if path.ndim != 2 or path.shape[1] != 2:
                raise ValueError(f"loss_surface: paths[{i}] must have shape (k, 2), "
                                 f"got {path.shape}")
            color = COURSE_COLORS[i % len(COURSE_COLORS)]
            every = max(1, len(path) // 15)
            ax.plot(path[:, 0], path[:, 1], color=color,
                    linestyle=LINESTYLES[i % len(LINESTYLES)],
                    marker=PATH_MARKERS[i % len(PATH_MARKERS)], markevery=every,
                    markersize=5, markeredgecolor="black", markeredgewidth=0.5,
                    label=labels[i] if labels is not None else f"path {i}")
            ax.plot(*path[0], marker="o", color="white", markeredgecolor="black",
                    markersize=8, zorder=4)
            ax.plot(*path[-1], marker="X", color=color, markeredgecolor="black",
                    markersize=9, zorder=4)
        ax.legend(loc="best", frameon=True, framealpha=0.85, fontsize=8)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title("Loss surface")
    ax.grid(False)
    return ax


# ------------------------------------------------------------ classification output


def confusion_matrix(cm: np.ndarray, ax: Axes | None = None,
                     labels: Sequence | None = None,
                     normalize: bool = False) -> Axes:
    """Confusion matrix as an annotated heat map (rows: true class, columns: predicted).

    Parameters
    ----------
    cm : ndarray of shape (K, K)
        Counts; ``cm[i, j]`` = number of examples of class ``i`` predicted as ``j``
        (non-integer entries, e.g. fractions, are printed with two decimals).
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    labels : sequence of length K, optional
        Class names; default ``0 .. K-1``.
    normalize : bool
        Divide each row by its total (per-class recall) and print fractions.

    Returns
    -------
    Axes
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion_matrix: cm must have shape (K, K), got {cm.shape}")
    k = cm.shape[0]
    labels = list(range(k)) if labels is None else list(labels)
    if len(labels) != k:
        raise ValueError(f"confusion_matrix: {k} classes but {len(labels)} labels")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        values = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)
    else:
        values = cm
    ax = _get_ax(ax, figsize=(0.5 * k + 2.5, 0.5 * k + 2.0))
    image = ax.imshow(values, cmap=MATRIX_CMAP, vmin=0,
                      vmax=1 if normalize else max(values.max(), 1))
    mid = (image.norm.vmin + image.norm.vmax) / 2
    integers = np.allclose(values, np.round(values))
    for i in range(k):
        for j in range(k):
            v = values[i, j]
            text = f"{v:.0f}" if integers and not normalize else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="black" if v > mid else "white")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix" + (" (row-normalised)" if normalize else ""))
    ax.grid(False)
    return ax


def _fmt_label(value):
    """A class label for a title: ``3.0`` -> ``3``, other values unchanged."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


def image_grid(images: np.ndarray, labels: np.ndarray | None = None,
               predictions: np.ndarray | None = None, shape: tuple[int, int] = (8, 8),
               ncols: int = 10, cmap: str = "gray_r",
               title: str | None = None) -> Figure:
    """Small images in a grid, titled with their label or ``true→pred``.

    Misclassified images (``predictions != labels``) get the title
    ``"true→pred"`` and a thick frame so they stand out in grey too.

    Parameters
    ----------
    images : ndarray of shape (n, h*w) or (n, h, w)
        E.g. 8x8 digits flattened to 64 features.
    labels : ndarray of shape (n,) or (n, 1), optional
        True classes.
    predictions : ndarray of shape (n,) or (n, 1), optional
        Predicted classes.
    shape : (int, int)
        ``(h, w)`` of one image when ``images`` is flattened.
    ncols : int
        Images per row.
    cmap : str
        Grey-scale colour map (``"gray_r"``: ink is dark).
    title : str, optional
        Figure title; a default describes what is shown.

    Returns
    -------
    Figure
        One panel per image.
    """
    images = np.asarray(images, dtype=float)
    n = images.shape[0]
    if n == 0:
        raise ValueError("image_grid: no images to show")
    images = images.reshape((n,) + tuple(shape)) if images.ndim == 2 else images
    fig, axes = _panel_grid(n, ncols=ncols, panel_size=(1.1, 1.25))
    labels = None if labels is None else [_fmt_label(v) for v in np.ravel(labels)]
    if predictions is not None:
        predictions = [_fmt_label(v) for v in np.ravel(predictions)]
    wrong = 0
    for i, ax in enumerate(axes):
        ax.imshow(images[i], cmap=cmap, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if labels is not None and predictions is not None:
            ok = labels[i] == predictions[i]
            wrong += not ok
            ax.set_title(f"{labels[i]}" if ok else f"{labels[i]}→{predictions[i]}",
                         fontsize=9, fontweight="normal" if ok else "bold",
                         color="black" if ok else "#D55E00")
            if not ok:
                for spine in ax.spines.values():
                    spine.set_visible(True)
                    spine.set_linewidth(2.5)
                    spine.set_color("#D55E00")
        elif labels is not None:
            ax.set_title(f"{labels[i]}", fontsize=9, fontweight="normal")
        elif predictions is not None:
            ax.set_title(f"pred {predictions[i]}", fontsize=9, fontweight="normal")
    if title is None:
        title = (f"{wrong} of {n} misclassified (true→predicted)"
                 if labels is not None and predictions is not None else
                 f"{n} images")
    fig.suptitle(title)
    return fig
