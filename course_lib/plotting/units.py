"""What each hidden unit computes over a 2-D input: its activation and zero level."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .boundaries import decision_boundary
from .model_io import dense_positions, layer_outputs
from .panels import (
    check_2d_inputs,
    input_grid,
    label_input_axes,
    labels_1d,
    panel_grid,
    scatter_classes,
)
from .style import MAP_CMAP


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
    X = check_2d_inputs(X, "hidden_units")
    xx, yy, Z, A = _unit_maps(model, X, layer, resolution, padding)
    fig, axes = panel_grid(Z.shape[1] + 1, ncols=ncols, panel_size=(2.8, 2.6))
    labels = labels_1d(y)
    # one colour scale for all units, so that their activations can be compared
    levels = np.linspace(A.min(), A.max(), 21) if A.max() > A.min() else None
    for j, ax in enumerate(axes[:-1]):
        a = A[:, j].reshape(xx.shape)
        z = Z[:, j].reshape(xx.shape)
        ax.contourf(xx, yy, a, levels=levels, cmap=MAP_CMAP, alpha=0.7)
        if z.min() < 0 < z.max():
            ax.contour(xx, yy, z, levels=[0.0], colors="black", linewidths=1.5)
        scatter_classes(ax, X, labels, n_classes=2, size=30, legend=False)
        label_input_axes(ax, f"unit {j}")
    decision_boundary(model, X, y, ax=axes[-1], resolution=resolution,
                      padding=padding, title="output", legend=False)
    fig.suptitle(f"Hidden units of Dense layer {layer}: activation (dark = "
                 f"{A.min():.2g}, light = {A.max():.2g}) and zero level (black)")
    return fig


def _unit_maps(model, X: np.ndarray, layer: int, resolution: int, padding: float):
    """The grid ``xx, yy (R, R)`` and, at its points, the ``layer``-th Dense layer's
    outputs ``Z (R*R, n_units)`` and the next layer's (its activation) ``A``.

    ``A`` is ``Z`` when the Dense layer is the model's last layer.
    """
    dense = dense_positions(model)
    if not 0 <= layer < len(dense) - 1:
        raise ValueError(f"hidden_units: layer must be a hidden Dense layer, 0 .. "
                         f"{len(dense) - 2}; got {layer}")
    pos = dense[layer]
    xx, yy, grid = input_grid(X, resolution, padding)
    outputs = layer_outputs(model, grid)
    Z = np.asarray(outputs[pos], dtype=float)                  # (R*R, n_units)
    has_act = pos + 1 < len(model.layers)
    A = np.asarray(outputs[pos + 1], dtype=float) if has_act else Z
    return xx, yy, Z, A
