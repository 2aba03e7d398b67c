"""Axes, panels and points: the pieces every figure of the course is built from.

``get_ax`` and ``panel_grid`` make the axes, ``scatter_classes`` draws labelled
2-D points (one colour *and* one marker per class), ``input_grid`` lays a regular
grid over 2-D data for the maps of ``boundaries`` and ``units``.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .style import CLASS_MARKERS, MAP_CMAP


def get_ax(ax: Axes | None, figsize=None) -> Axes:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def panel_grid(n: int, ncols: int, panel_size=(3.2, 3.0), sharex=False,
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


def labels_1d(y: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` from labels ``(N,)``, ``(N, 1)`` or one-hot ``(N, K)``"""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return np.rint(y.reshape(-1)).astype(int)


def class_colors(n_classes: int, cmap=MAP_CMAP) -> list:
    """``n_classes`` colours spread over ``cmap`` (so they differ in lightness)."""
    cmap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    if n_classes == 1:
        return [cmap(0.0)]
    return [cmap(k / (n_classes - 1)) for k in range(n_classes)]


def scatter_classes(ax: Axes, X: np.ndarray, y, n_classes: int | None = None,
                    size: float = 30, legend: bool = True) -> None:
    """Scatter 2-D points ``X (N, 2)`` with one colour *and* marker per class."""
    X = np.asarray(X, dtype=float)
    labels = labels_1d(y)
    classes = np.unique(labels)
    n_classes = max(n_classes or 0, int(classes.max()) + 1 if classes.size else 1)
    colors = class_colors(n_classes)
    for k in classes:
        mask = labels == k
        ax.scatter(X[mask, 0], X[mask, 1], s=size, color=colors[k],
                   marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], edgecolors="black",
                   linewidths=0.7, label=f"class {k}", zorder=3)
    if legend:
        ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.8)


def check_2d_inputs(X, name: str) -> np.ndarray:
    """``X`` as floats, or a ValueError naming ``name`` unless it is ``(N, 2)``."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name}: X must have shape (N, 2), got {X.shape}")
    return X


def input_grid(X: np.ndarray, resolution: int, padding: float):
    """A ``resolution x resolution`` grid over the bounding box of ``X (N, 2)``.

    The box is widened by ``padding`` on each side. Returns ``xx, yy`` of shape
    ``(R, R)`` (``np.meshgrid``; rows follow the second feature) and the grid
    points as one batch ``(R*R, 2)``, ready for a model.
    """
    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def label_input_axes(ax: Axes, title: str) -> None:
    """Title a map over the input plane, name its axes x_1, x_2, drop the grid."""
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
