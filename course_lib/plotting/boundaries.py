"""Decision regions of a classifier over a 2-D input, alone or as small multiples.

The model is evaluated on a grid over the data (:func:`decision_grid`) through
the engine (``model.predict_proba``; see ``model_io``); one output is shaded as a
continuous map with the boundary ``output = threshold`` in black, several outputs
(or integer labels) as the regions of the predicted class.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .model_io import apply_weights, as_array_output, score_function, weights_restored
from .panels import (
    check_2d_inputs,
    class_colors,
    get_ax,
    input_grid,
    label_input_axes,
    labels_1d,
    panel_grid,
    scatter_classes,
)
from .style import MAP_CMAP


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
    X = check_2d_inputs(X, "decision_grid")
    xx, yy, grid = input_grid(X, resolution, padding)
    out = as_array_output(score_function(model)(grid))
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
        and scores ``(M,)``, ``(M, 1)`` or ``(M, K)``.
    X : ndarray of shape (N, 2)
        Points to draw.
    y : ndarray of shape (N,) or (N, 1), or one-hot (N, K)
        Their classes; each class gets its own colour and marker.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    resolution, padding : int, float
        Grid points per axis; margin around the data, in data units.
    proba : bool
        Shade the continuous output rather than the predicted class.
    title : str, optional
        Axes title; default "Decision boundary".
    threshold : float, optional
        Level of the boundary for a single output. Default: 0.5 when all outputs
        lie in [0, 1] (probabilities), otherwise 0 (scores / logits).
    colorbar, legend : bool
        Add a colour bar for the continuous output; show the class legend.

    Returns
    -------
    Axes
    """
    X = check_2d_inputs(X, "decision_boundary")
    ax = get_ax(ax, figsize=(5.0, 4.2))
    xx, yy, scores = decision_grid(model, X, resolution, padding)
    n_classes = int(labels_1d(y).max()) + 1
    if scores.ndim == 3 and scores.shape[2] == 2 and proba:
        scores = scores[:, :, 1]                 # P(class 1) of a 2-way softmax
    if scores.ndim == 2 and not _holds_labels(scores):   # one value per grid point
        _shade_output(ax, xx, yy, scores, proba, threshold, colorbar)
    else:                                        # K outputs or labels: classes
        n_classes = _shade_classes(ax, xx, yy, scores, n_classes)
    scatter_classes(ax, X, y, n_classes=max(n_classes, 2), legend=legend)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    label_input_axes(ax, title or "Decision boundary")
    return ax


def _holds_labels(scores: np.ndarray) -> bool:
    """True when one value per point looks like labels ``0 .. K-1`` with ``K > 2``."""
    return bool(scores.max() > 1 and np.array_equal(scores, np.round(scores))
                and scores.min() >= 0)


def _shade_output(ax: Axes, xx, yy, scores, proba: bool, threshold, colorbar: bool):
    """Shade one output per grid point ``scores (R, R)``; boundary at ``threshold``."""
    if threshold is None:
        in_unit = scores.min() >= 0.0 and scores.max() <= 1.0
        threshold = 0.5 if in_unit else 0.0
    if proba:
        filled = _shade_continuous(ax, xx, yy, scores, threshold)
    else:
        regions = (scores > threshold).astype(float)
        filled = ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5],
                             colors=class_colors(2), alpha=0.45)
    if scores.min() < threshold < scores.max():
        ax.contour(xx, yy, scores, levels=[threshold], colors="black", linewidths=2)
    if colorbar and proba:
        ax.figure.colorbar(filled, ax=ax, label="model output")


def _shade_continuous(ax: Axes, xx, yy, scores, threshold: float):
    """A continuous map of ``scores`` whose colour map is centred on ``threshold``."""
    lo, hi = float(scores.min()), float(scores.max())
    if threshold == 0.5 and lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0                        # probabilities: fixed scale
    norm = None
    if lo < threshold < hi:                      # boundary at the colour map's middle
        norm = mpl.colors.TwoSlopeNorm(threshold, lo, hi)
    levels = np.linspace(lo, hi, 21) if hi > lo else None
    return ax.contourf(xx, yy, scores, levels=levels, cmap=MAP_CMAP, norm=norm,
                       alpha=0.65)


def _shade_classes(ax: Axes, xx, yy, scores, n_classes: int) -> int:
    """Shade the predicted class: labels ``(R, R)`` or the argmax of ``(R, R, K)``.

    Returns the number of classes drawn (at least ``n_classes``).
    """
    if scores.ndim == 2:                         # predict() gave labels 0..K-1
        pred = scores
    else:
        pred = np.argmax(scores, axis=2).astype(float)
    n_classes = max(n_classes, int(pred.max()) + 1,
                    scores.shape[2] if scores.ndim == 3 else 0)
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xx, yy, pred, levels=levels, colors=class_colors(n_classes),
                alpha=0.45)
    ax.contour(xx, yy, pred, levels=levels[1:-1], colors="black", linewidths=1.2)
    return n_classes


def decision_boundary_grid(snapshots: Sequence, X: np.ndarray, y: np.ndarray,
                           titles: Sequence[str] | None = None, ncols: int = 4,
                           model=None, **kwargs) -> Figure:
    """Small multiples of :func:`decision_boundary`, e.g. at several epochs.

    * ``decision_boundary_grid([model_a, model_b, ...], X, y)``: each snapshot
      is a model (e.g. ``copy.deepcopy(model)`` taken during training) or a
      callable, as accepted by :func:`decision_boundary`;
    * ``decision_boundary_grid([w0, w1, ...], X, y, model=model)``: each
      snapshot is a set of weights (``model.get_weights()``, or a copy of the
      ``model.params`` dict); they are loaded into ``model`` one at a time and the
      model's own weights are restored afterwards.

    Parameters
    ----------
    snapshots : sequence
        Models/callables, or weight sets when ``model`` is given.
    X, y : ndarray of shape (N, 2) and (N,) or (N, 1)
        The data points drawn in every panel and their classes.
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
    fig, axes = panel_grid(n, ncols=ncols, panel_size=(3.0, 2.8))
    titles = [f"snapshot {i}" for i in range(n)] if titles is None else titles
    with weights_restored(model):
        for ax, snap, title in zip(axes, snapshots, titles):
            if model is not None:
                apply_weights(model, snap)
                snap = model
            decision_boundary(snap, X, y, ax=ax, title=title, **kwargs)
    fig.suptitle("Decision boundary")
    return fig
