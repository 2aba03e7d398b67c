"""Figures for the book: activations, losses, decision boundaries, diagnostics.

Every function draws with matplotlib only, takes an optional ``ax`` (or makes a
new figure) and returns the :class:`~matplotlib.axes.Axes` or
:class:`~matplotlib.figure.Figure` it drew on; nothing here calls ``plt.show()``.
Colours come from ``viridis``/``cividis`` or from a palette whose colours differ in
lightness, and classes differ by marker shape as well, so every figure stays
readable when printed in grey. Call :func:`use_course_style` once per notebook for
the course look.

One module per kind of figure:

=================  ==========================================================
``style``          the palette, markers, colour maps, :func:`use_course_style`
``panels``         axes, panel grids, labelled points, the grid over 2-D inputs
``model_io``       what a figure reads from a model, through the engine
``activations``    :func:`activation_functions`, :func:`activation_pair`
``curves``         :func:`loss_curve`, :func:`training_curves`
``boundaries``     :func:`decision_grid`, :func:`decision_boundary`,
                   :func:`decision_boundary_grid`
``units``          :func:`hidden_units`
``diagnostics``    :func:`gradient_norms` (alias :func:`gradient_flow`),
                   :func:`update_ratios`, :func:`activation_histograms`
``surfaces``       :func:`loss_surface`
``images``         :func:`confusion_matrix`, :func:`image_grid`
=================  ==========================================================

This package imports matplotlib at import time; ``import course_lib`` does not
import it (``course_lib.plotting`` is loaded on first use).
"""

from __future__ import annotations

from .activations import activation_functions, activation_pair
from .boundaries import decision_boundary, decision_boundary_grid, decision_grid
from .curves import loss_curve, training_curves
from .diagnostics import (
    activation_histograms,
    gradient_flow,
    gradient_norms,
    update_ratios,
)
from .images import confusion_matrix, image_grid
from .style import CLASS_MARKERS, COURSE_COLORS, use_course_style
from .style import LINESTYLES as LINESTYLES  # re-exported as before (not in __all__)
from .style import MAP_CMAP as MAP_CMAP
from .style import MATRIX_CMAP as MATRIX_CMAP
from .style import PATH_MARKERS as PATH_MARKERS
from .surfaces import loss_surface
from .units import hidden_units

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
