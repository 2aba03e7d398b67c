"""The course look: a palette that survives grey print, markers, colour maps, rcParams.

Colours differ in lightness as well as hue, lines cycle through dash styles and
classes through marker shapes, so every figure stays readable when printed in grey.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

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



def series_style(i: int) -> dict:
    """Colour, dash style and marker of the ``i``-th series of a figure (cycled)."""
    return {"color": COURSE_COLORS[i % len(COURSE_COLORS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": PATH_MARKERS[i % len(PATH_MARKERS)]}
