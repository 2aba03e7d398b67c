"""Is training healthy? Gradient norms and update ratios per layer, and the
distribution of each activation layer's outputs (dead ReLUs, saturated units).

The layers' outputs come from the engine (``Sequential.activations``, see
``model_io``), the gradient norms from ``model.gradient_norms()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .model_io import layer_outputs
from .panels import class_colors, get_ax, panel_grid
from .style import COURSE_COLORS, MAP_CMAP, series_style


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
    ax = get_ax(ax)
    if kind == "bar":
        colors = class_colors(len(names), MAP_CMAP)
        ax.bar(np.arange(len(names)), data, color=colors, edgecolor="black",
               linewidth=0.6)
        ax.set_xticks(np.arange(len(names)), names,
                      rotation=45 if len(names) > 6 else 0)
        ax.set_xlabel("parameter (layer.name)")
    else:
        steps = np.arange(1, data.shape[0] + 1)
        markevery = max(1, data.shape[0] // 10)
        for j, name in enumerate(names):
            ax.plot(steps, data[:, j], label=name, **series_style(j),
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
    outputs = layer_outputs(model, X)
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
        fig, axes = panel_grid(len(acts), ncols=min(len(acts), 4),
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

