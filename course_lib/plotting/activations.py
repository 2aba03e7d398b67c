"""Figures of the activation functions of ``course_lib.activations``, with slopes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.figure import Figure

from .panels import panel_grid
from .style import COURSE_COLORS

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
    fig, axes = panel_grid(len(names), ncols=len(names), panel_size=(3.0, 2.8),
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

