"""Figures drawn as images: the confusion matrix and grids of small images (digits)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .panels import get_ax, panel_grid
from .style import MATRIX_CMAP

MISTAKE_COLOR = "#D55E00"   # the palette's vermilion: titles and frames of mistakes


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
    ax = get_ax(ax, figsize=(0.5 * k + 2.5, 0.5 * k + 2.0))
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
    fig, axes = panel_grid(n, ncols=ncols, panel_size=(1.1, 1.25))
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
        wrong += not _title_image(ax, i, labels, predictions)
    if title is None:
        title = (f"{wrong} of {n} misclassified (true→predicted)"
                 if labels is not None and predictions is not None else
                 f"{n} images")
    fig.suptitle(title)
    return fig


def _title_image(ax: Axes, i: int, labels, predictions) -> bool:
    """Title panel ``i`` with its label, prediction or ``true→pred``; frame a mistake.

    Returns False when image ``i`` is misclassified, True otherwise.
    """
    if labels is not None and predictions is not None:
        ok = labels[i] == predictions[i]
        ax.set_title(f"{labels[i]}" if ok else f"{labels[i]}→{predictions[i]}",
                     fontsize=9, fontweight="normal" if ok else "bold",
                     color="black" if ok else MISTAKE_COLOR)
        if not ok:
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_linewidth(2.5)
                spine.set_color(MISTAKE_COLOR)
        return ok
    if labels is not None:
        ax.set_title(f"{labels[i]}", fontsize=9, fontweight="normal")
    elif predictions is not None:
        ax.set_title(f"pred {predictions[i]}", fontsize=9, fontweight="normal")
    return True
