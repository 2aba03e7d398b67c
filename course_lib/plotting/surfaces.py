"""A loss over two weights as a contour map, with optimizer paths drawn on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes

from .panels import get_ax
from .style import MAP_CMAP, series_style


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
    ax = get_ax(ax, figsize=(5.5, 4.5))
    w1 = np.linspace(xlim[0], xlim[1], resolution)
    w2 = np.linspace(ylim[0], ylim[1], resolution)
    W1, W2 = np.meshgrid(w1, w2)
    Z = _eval_surface(f, W1, W2)
    lev = _contour_levels(Z, levels, log_levels)
    # a light fill plus coloured contour lines keeps the paths on top readable
    filled = ax.contourf(W1, W2, Z, levels=lev, cmap=MAP_CMAP, alpha=0.35)
    ax.contour(W1, W2, Z, levels=lev, cmap=MAP_CMAP, linewidths=0.7)
    ax.figure.colorbar(filled, ax=ax, label="loss", format="%.2g")
    if paths is not None:
        _draw_paths(ax, paths, labels)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title("Loss surface")
    ax.grid(False)
    return ax


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


def _contour_levels(Z: np.ndarray, levels: int, log_levels: bool):
    """``levels`` contour levels of ``Z``, spaced geometrically above its minimum
    when ``log_levels`` (one more: the minimum itself), else matplotlib's choice."""
    finite = Z[np.isfinite(Z)]
    lo, hi = float(finite.min()), float(finite.max())
    if not (log_levels and hi > lo):
        return levels
    span = hi - lo
    return np.concatenate([[lo], lo + np.geomspace(span * 1e-4, span, levels)])


def _draw_paths(ax: Axes, paths: Sequence[np.ndarray], labels) -> None:
    """Each path ``(k, 2)`` as a line with markers, a hollow start and a crossed end."""
    if labels is not None and len(labels) != len(paths):
        raise ValueError(f"loss_surface: {len(paths)} paths but {len(labels)} "
                         "labels")
    for i, path in enumerate(paths):
        path = np.asarray(path, dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"loss_surface: paths[{i}] must have shape (k, 2), "
                             f"got {path.shape}")
        style = series_style(i)
        ax.plot(path[:, 0], path[:, 1], **style, markevery=max(1, len(path) // 15),
                markersize=5, markeredgecolor="black", markeredgewidth=0.5,
                label=labels[i] if labels is not None else f"path {i}")
        ax.plot(*path[0], marker="o", color="white", markeredgecolor="black",
                markersize=8, zorder=4)
        ax.plot(*path[-1], marker="X", color=style["color"], markeredgecolor="black",
                markersize=9, zorder=4)
    ax.legend(loc="best", frameon=True, framealpha=0.85, fontsize=8)
