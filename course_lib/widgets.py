"""Interactive explorers for the book (ipywidgets + matplotlib).

Each explorer returns an :class:`ipywidgets.VBox` (controls on top, the figure
below, in an :class:`ipywidgets.Output`) and has a ``*_static`` companion that
draws the same figure for fixed settings, with no widgets: the HTML book shows
the static figure next to the widget, whose callbacks need a live kernel.

Building a widget works in a plain Python process (no kernel): that is what the
tests do. The returned box carries two extra attributes:

``box.update()``
    redraws the figure for the current control values and returns it;
``box.figure``
    the figure shown last;
``box.controls``
    a dict of the control widgets by name (``"lr"``, ``"n_hidden"``, ...).

``import course_lib`` does not import this module (nor ipywidgets/matplotlib).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from . import plotting
from .optimizers import get_optimizer

__all__ = [
    "activation_explorer",
    "activation_explorer_static",
    "gradient_descent_quadratic",
    "learning_rate_explorer",
    "learning_rate_explorer_static",
    "quadratic_regime",
    "train_small_mlp",
    "training_explorer",
    "training_explorer_static",
]

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu")
OPTIMIZER_NAMES = ("sgd", "momentum", "rmsprop", "adam")
DATASET_NAMES = ("moons", "circles")


# --------------------------------------------------------------------------- helpers


def _in_notebook() -> bool:
    """True when running under IPython (where ``display`` renders figures)."""
    try:
        from IPython import get_ipython
    except ImportError:          # pragma: no cover - IPython ships with ipywidgets
        return False
    return get_ipython() is not None


def _show(out: W.Output, fig: Figure) -> Figure:
    """Replace the content of ``out`` with ``fig`` and release pyplot's handle.

    The figure is closed in pyplot (so the inline backend does not draw it a second
    time) but stays a usable object, which :func:`_show` returns.
    """
    if _in_notebook():           # without a kernel there is nothing to display
        from IPython.display import display

        with out:
            out.clear_output(wait=True)
            display(fig)
    plt.close(fig)
    return fig


def _explorer(rows: list, controls: dict, draw) -> W.VBox:
    """Assemble an explorer: controls ``rows`` above an Output showing ``draw()``.

    ``draw()`` makes a new Figure from the current control values. The returned
    VBox gets ``.controls``, ``.update(change=None) -> Figure`` (redraw now) and
    ``.figure`` (the figure shown last); the first figure is drawn immediately.
    """
    out = W.Output()
    box = W.VBox([*rows, out])

    def update(change=None) -> Figure:
        box.figure = _show(out, draw())
        return box.figure

    box.controls, box.update, box.output = controls, update, out
    update()
    return box


# --------------------------------------------------------------------- activations


def activation_explorer_static(activation: str = "sigmoid", scale: float = 1.0,
                               shift: float = 0.0,
                               z: np.ndarray | None = None) -> Figure:
    r"""An activation applied to a scaled and shifted input, with its derivative.

    Draws :math:`g(z) = f(w z + b)` and :math:`g'(z) = w\, f'(w z + b)` (the
    chain rule), with the unscaled :math:`f(z)` in grey for reference. A large
    ``scale`` makes sigmoid/tanh switch sharply (and saturate sooner); ``shift``
    moves the switching point to :math:`z = -b/w`.

    Parameters
    ----------
    activation : str
        ``"sigmoid"``, ``"tanh"``, ``"relu"`` or ``"leaky_relu"``.
    scale : float
        The weight :math:`w`.
    shift : float
        The bias :math:`b`.
    z : ndarray of shape (n,), optional
        Inputs; default ``np.linspace(-5, 5, 401)``.

    Returns
    -------
    Figure
        One panel.
    """
    f, df = plotting.activation_pair(activation)
    z = np.linspace(-5.0, 5.0, 401) if z is None else np.asarray(z, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    u = scale * z + shift
    ax.plot(z, f(z), color="0.65", linestyle=":", label="$f(z)$ (reference)")
    ax.plot(z, f(u), color=plotting.COURSE_COLORS[0], linestyle="-",
            label="$f(wz+b)$")
    ax.plot(z, scale * df(u), color=plotting.COURSE_COLORS[1], linestyle="--",
            label="$\\frac{d}{dz} f(wz+b) = w f'(wz+b)$")
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    ax.set_xlabel("input $z$")
    ax.set_ylabel("value")
    ax.set_title(f"{activation} with w = {scale:.2g}, b = {shift:.2g}")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def activation_explorer(activation: str = "sigmoid", scale: float = 1.0,
                        shift: float = 0.0) -> W.VBox:
    """Widget: pick an activation and the weight/bias in front of it.

    Controls: activation (dropdown), ``w`` (scale) and ``b`` (shift) sliders; the
    figure (:func:`activation_explorer_static`) redraws on every change.

    Parameters
    ----------
    activation, scale, shift
        Initial values of the controls.

    Returns
    -------
    ipywidgets.VBox
        With ``.controls`` (``"activation"``, ``"scale"``, ``"shift"``),
        ``.update()`` and ``.figure``.
    """
    controls = {
        "activation": W.Dropdown(options=list(ACTIVATION_NAMES), value=activation,
                                 description="activation"),
        "scale": W.FloatSlider(value=scale, min=-4.0, max=4.0, step=0.1,
                               description="w (scale)", continuous_update=False),
        "shift": W.FloatSlider(value=shift, min=-4.0, max=4.0, step=0.1,
                               description="b (shift)", continuous_update=False),
    }

    def draw() -> Figure:
        return activation_explorer_static(controls["activation"].value,
                                          controls["scale"].value,
                                          controls["shift"].value)

    box = _explorer([W.HBox(list(controls.values()))], controls, draw)
    for control in controls.values():
        control.observe(box.update, names="value")
    return box


# ------------------------------------------------------------------------ training


def _load_dataset(dataset: str, n_samples: int, noise: float, seed: int):
    """``X (n, 2)``, ``y (n, 1)`` from :mod:`course_lib.datasets`."""
    from course_lib import datasets

    if dataset not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of "
                         f"{list(DATASET_NAMES)}")
    X, y = getattr(datasets, dataset)(n_samples, noise=noise, seed=seed)
    return np.asarray(X, dtype=float), np.asarray(y).reshape(-1, 1)


def train_small_mlp(X: np.ndarray, y: np.ndarray, lr: float = 0.05,
                    n_hidden: int = 8, activation: str = "tanh",
                    optimizer: str = "adam", epochs: int = 300, seed: int = 0,
                    batch_size: int | None = None):
    """Train a ``2-n_hidden-1`` MLP with a sigmoid output and binary cross-entropy.

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        Training inputs.
    y : ndarray of shape (N,) or (N, 1)
        Labels 0/1.
    lr : float
        Learning rate.
    n_hidden : int
        Hidden units.
    activation : str
        Hidden activation.
    optimizer : str
        ``"sgd"``, ``"momentum"`` (SGD with momentum 0.9), ``"rmsprop"``, ``"adam"``.
    epochs : int
        Passes over the data (full batch: one step each).
    seed : int
        Seeds the initial weights and the mini-batch order.
    batch_size : int, optional
        ``None``: full batch.

    Returns
    -------
    model : MLP
        The trained model (as far as it got).
    history : History or None
        None when training diverged.
    error : DivergenceError or None
        The error if training diverged, else None.
    """
    from course_lib.errors import DivergenceError
    from course_lib.losses import BinaryCrossEntropy
    from course_lib.models import MLP

    y = np.asarray(y).reshape(-1, 1)
    model = MLP([X.shape[1], n_hidden, 1], activation=activation,
                   output="sigmoid", seed=seed)
    try:
        history = model.fit(X, y, loss=BinaryCrossEntropy(),
                            optimizer=get_optimizer(optimizer, lr), epochs=epochs,
                            batch_size=batch_size, seed=seed, progress=False)
    except DivergenceError as err:
        return model, None, err
    return model, history, None


def training_explorer_static(X: np.ndarray | None = None, y: np.ndarray | None = None,
                             dataset: str = "moons", lr: float = 0.05,
                             n_hidden: int = 8, activation: str = "tanh",
                             optimizer: str = "adam", epochs: int = 300,
                             seed: int = 0, n_samples: int = 200,
                             noise: float = 0.2) -> Figure:
    """Train one configuration and draw its decision boundary and loss curve.

    Parameters
    ----------
    X : ndarray of shape (N, 2), optional
        Data; default: ``course_lib.datasets.<dataset>(n_samples, noise, seed)``.
    y : ndarray of shape (N,) or (N, 1), optional
        Labels 0/1 (required when ``X`` is given).
    dataset : str
        ``"moons"`` or ``"circles"`` when ``X`` is None.
    lr, n_hidden, activation, optimizer, epochs, seed
        See :func:`train_small_mlp`.
    n_samples, noise : int, float
        Size and noise of the generated data set.

    Returns
    -------
    Figure
        Two panels: decision boundary (title gives the training accuracy) and the
        loss per epoch. If training diverged, the right panel says so.
    """
    if X is None:
        X, y = _load_dataset(dataset, n_samples, noise, seed)
    elif y is None:
        raise ValueError("training_explorer_static: y is required when X is given")
    start = time.perf_counter()
    model, history, error = train_small_mlp(X, y, lr, n_hidden, activation,
                                            optimizer, epochs, seed)
    seconds = time.perf_counter() - start
    fig, (ax_db, ax_loss) = plt.subplots(1, 2, figsize=(10.0, 4.0),
                                         layout="constrained")
    name = f"{optimizer}, lr={lr:.3g}, {n_hidden} {activation} units"
    if error is None:
        y_hat = np.asarray(model.predict(X)).reshape(-1)
        acc = float(np.mean(y_hat == np.asarray(y).reshape(-1)))
        plotting.decision_boundary(model, X, y, ax=ax_db, resolution=120,
                                   title=f"train accuracy {acc:.1%}")
        plotting.loss_curve(history, ax=ax_loss, log=True)
        ax_loss.set_title(f"loss over {epochs} epochs ({seconds:.2f} s)")
    else:
        plotting.decision_boundary(lambda G: np.full(len(G), 0.5), X, y, ax=ax_db,
                                   resolution=20, title="no model (diverged)")
        ax_loss.text(0.5, 0.5, f"Training diverged:\n{error}", ha="center",
                     va="center", wrap=True, transform=ax_loss.transAxes)
        ax_loss.set_title("loss")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss")
    fig.suptitle(name)
    return fig


def training_explorer(X: np.ndarray | None = None, y: np.ndarray | None = None,
                      lr: float = 0.05, n_hidden: int = 8, activation: str = "tanh",
                      optimizer: str = "adam", epochs: int = 300,
                      dataset: str = "moons", seed: int = 0) -> W.VBox:
    """Widget: train a small MLP with chosen hyperparameters and see the result.

    Controls: learning rate (log slider, 1e-3 .. 1), width ``n_hidden``, hidden
    activation, optimizer, epochs, seed and (when ``X`` is None) the data set;
    pressing *Train* redraws :func:`training_explorer_static`. Training is kept
    fast (full batch, at most 1000 epochs, no progress bar).

    Parameters
    ----------
    X : ndarray of shape (N, 2), optional
        Data to train on; default: moons or circles from ``course_lib.datasets``.
    y : ndarray of shape (N,) or (N, 1), optional
        Labels 0/1 (required with ``X``).
    lr, n_hidden, activation, optimizer, epochs, dataset, seed
        Initial values of the controls.

    Returns
    -------
    ipywidgets.VBox
        With ``.controls`` (``"lr"``, ``"n_hidden"``, ``"activation"``,
        ``"optimizer"``, ``"epochs"``, ``"seed"``, ``"dataset"``, ``"train"``,
        ``"status"``), ``.update()`` (trains once and redraws) and ``.figure``.
    """
    if X is not None and y is None:
        raise ValueError("training_explorer: y is required when X is given")
    controls = _training_controls(lr, n_hidden, activation, optimizer, epochs, seed,
                                  dataset, fixed_data=X is not None)
    status = W.Label(value="")

    def draw() -> Figure:
        status.value = "training..."
        fig = training_explorer_static(
            X, y, dataset=controls["dataset"].value, lr=controls["lr"].value,
            n_hidden=controls["n_hidden"].value,
            activation=controls["activation"].value,
            optimizer=controls["optimizer"].value, epochs=controls["epochs"].value,
            seed=controls["seed"].value)
        status.value = fig.axes[0].get_title()
        return fig

    rows = [W.HBox([controls["lr"], controls["n_hidden"], controls["epochs"]]),
            W.HBox([controls["activation"], controls["optimizer"],
                    controls["dataset"]]),
            W.HBox([controls["seed"], controls["train"], status])]
    controls["status"] = status
    box = _explorer(rows, controls, draw)
    controls["train"].on_click(box.update)
    return box


def _training_controls(lr, n_hidden, activation, optimizer, epochs, seed, dataset,
                       fixed_data: bool) -> dict:
    """The controls of :func:`training_explorer` by name, at the given values
    (the data set's dropdown is disabled when the caller passed the data)."""
    return {
        "lr": W.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.1,
                               description="lr", readout_format=".3g",
                               continuous_update=False),
        "n_hidden": W.IntSlider(value=n_hidden, min=1, max=32, description="n_hidden",
                                continuous_update=False),
        "activation": W.Dropdown(options=list(ACTIVATION_NAMES), value=activation,
                                 description="activation"),
        "optimizer": W.Dropdown(options=list(OPTIMIZER_NAMES), value=optimizer,
                                description="optimizer"),
        "epochs": W.IntSlider(value=epochs, min=50, max=1000, step=50,
                              description="epochs", continuous_update=False),
        "seed": W.IntText(value=seed, description="seed"),
        "dataset": W.Dropdown(options=list(DATASET_NAMES), value=dataset,
                              description="data", disabled=fixed_data),
        "train": W.Button(description="Train", button_style="primary",
                          icon="play"),
    }


# ------------------------------------------------------------------- learning rate


def gradient_descent_quadratic(lr: float, curvatures: Sequence[float] = (1.0, 10.0),
                               w0: Sequence[float] | None = None,
                               steps: int = 30) -> np.ndarray:
    r"""Gradient descent on :math:`L(w) = \tfrac12 \sum_i \lambda_i w_i^2`.

    The gradient is :math:`\lambda_i w_i`, so each step multiplies coordinate
    :math:`i` by :math:`1 - \eta\lambda_i`: the run converges when
    :math:`|1-\eta\lambda_i| < 1` for every :math:`i`, i.e.
    :math:`\eta < 2/\lambda_{\max}`, and oscillates where :math:`\eta\lambda_i>1`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta`.
    curvatures : sequence of float, length D (1 or 2)
        The :math:`\lambda_i` (second derivatives along each axis).
    w0 : sequence of float, length D, optional
        Start; default ``(-2.0, 0.9)`` cut to length D (``(-2.0,)`` in 1-D).
    steps : int
        Number of updates.

    Returns
    -------
    ndarray of shape (steps + 1, D)
        The iterates :math:`w_0, \dots, w_{\text{steps}}`.
    """
    lam = np.asarray(curvatures, dtype=float)
    w = np.array((-2.0, 0.9)[:lam.size] if w0 is None else w0, dtype=float)
    if w.shape != lam.shape:
        raise ValueError(f"gradient_descent_quadratic: w0 must have shape "
                         f"{lam.shape} (one value per curvature), got {w.shape}")
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * lam * w
        path.append(w.copy())
    return np.array(path)


def quadratic_regime(lr: float, curvatures: Sequence[float] = (1.0, 10.0)) -> str:
    r"""The regime of gradient descent on :func:`gradient_descent_quadratic`'s loss.

    Returns
    -------
    str
        ``"diverges"`` if some :math:`|1-\eta\lambda_i| > 1`; ``"does not converge"``
        if the largest equals 1; ``"converges with oscillation"`` if some
        :math:`1-\eta\lambda_i < 0`; ``"converges smoothly"`` otherwise (including
        ``lr = 0``, which does not move at all).
    """
    factors = 1.0 - lr * np.asarray(curvatures, dtype=float)
    worst = np.max(np.abs(factors))
    if np.isclose(worst, 1.0) and lr > 0:
        return "does not converge"
    if worst > 1.0:
        return "diverges"
    if np.any(factors < 0):
        return "converges with oscillation"
    return "converges smoothly"


def learning_rate_explorer_static(lr: float = 0.15,
                                  curvatures: Sequence[float] = (1.0, 10.0),
                                  w0: Sequence[float] | None = None,
                                  steps: int = 30) -> Figure:
    r"""Gradient descent on a 1-D or 2-D quadratic for one learning rate.

    Left: the path on the loss (a parabola in 1-D, contours in 2-D). Right: the
    loss per step on a log scale. The title names the regime (see
    :func:`quadratic_regime`) and the critical rate :math:`2/\lambda_{\max}`.

    Parameters
    ----------
    lr : float
        Learning rate.
    curvatures : sequence of float, length 1 or 2
        :math:`\lambda_i` of :math:`L(w) = \tfrac12\sum_i\lambda_i w_i^2`.
    w0 : sequence of float, optional
        Start (see :func:`gradient_descent_quadratic`).
    steps : int
        Number of updates.

    Returns
    -------
    Figure
        Two panels.
    """
    lam = np.asarray(curvatures, dtype=float)
    if lam.size not in (1, 2):
        raise ValueError(f"learning_rate_explorer_static: curvatures must have 1 "
                         f"or 2 values, got {lam.size}")
    path = gradient_descent_quadratic(lr, lam, w0, steps)
    with np.errstate(over="ignore", invalid="ignore"):
        losses = 0.5 * np.sum(lam * path**2, axis=1)
    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(10.0, 4.0),
                                           layout="constrained")
    reach = 1.3 * max(np.abs(path[0]).max(), 1e-3)
    if lam.size == 1:
        _path_on_parabola(ax_path, path, losses, lam[0], reach)
    else:
        def loss(W1, W2):
            return 0.5 * (lam[0] * W1**2 + lam[1] * W2**2)

        plotting.loss_surface(loss, (-reach, reach), (-reach, reach), ax=ax_path,
                              levels=20, paths=[path], labels=["gradient descent"],
                              resolution=120)
        ax_path.set_title("path on the loss surface")
    steps_axis = np.arange(len(losses))
    finite = np.isfinite(losses) & (losses > 0)
    ax_loss.plot(steps_axis[finite], losses[finite], marker="o", markersize=3)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step $t$")
    ax_loss.set_ylabel("loss $L(w_t)$")
    ax_loss.set_title("loss per step")
    critical = 2.0 / lam.max()
    fig.suptitle(f"lr = {lr:.3g}: {quadratic_regime(lr, lam)} "
                 f"(critical lr = 2/λmax = {critical:.3g})")
    return fig


def _path_on_parabola(ax, path: np.ndarray, losses: np.ndarray, lam: float,
                      reach: float) -> None:
    """The 1-D run ``path (steps + 1, 1)`` on the parabola ``L(w) = lam w^2 / 2``,
    within ``[-reach, reach]``, with its start marked."""
    w = np.linspace(-reach, reach, 400)
    ax.plot(w, 0.5 * lam * w**2, color="0.4", label="$L(w)$")
    shown = np.abs(path[:, 0]) <= reach
    ax.plot(path[shown, 0], losses[shown], color=plotting.COURSE_COLORS[1],
            marker="o", markeredgecolor="black", linestyle="--",
            label="gradient descent")
    ax.plot(path[0, 0], losses[0], marker="o", color="white",
            markeredgecolor="black", markersize=9, linestyle="none", label="start")
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-0.05 * losses[0], 1.1 * 0.5 * lam * reach**2)
    ax.set_xlabel("$w$")
    ax.set_ylabel("loss $L(w)$")
    ax.set_title("path on the loss")
    ax.legend(loc="upper center", fontsize=8)


def learning_rate_explorer(lr: float = 0.15, curvatures: Sequence[float] = (1.0, 10.0),
                           steps: int = 30) -> W.VBox:
    """Widget: a learning-rate slider for gradient descent on a quadratic.

    The slider runs from 0 to 1.25 times the critical rate ``2 / max(curvatures)``,
    so it sweeps smooth convergence, oscillation and divergence.

    Parameters
    ----------
    lr : float
        Initial learning rate.
    curvatures : sequence of float, length 1 or 2
        Curvatures of the quadratic (see :func:`gradient_descent_quadratic`).
    steps : int
        Number of gradient-descent steps shown.

    Returns
    -------
    ipywidgets.VBox
        With ``.controls`` (``"lr"``, ``"steps"``), ``.update()`` and ``.figure``.
    """
    top = 1.25 * 2.0 / float(np.max(curvatures))
    controls = {
        "lr": W.FloatSlider(value=min(lr, top), min=0.0, max=top, step=top / 250,
                            description="lr", readout_format=".3f",
                            continuous_update=False),
        "steps": W.IntSlider(value=steps, min=1, max=100, description="steps",
                             continuous_update=False),
    }

    def draw() -> Figure:
        return learning_rate_explorer_static(controls["lr"].value, curvatures,
                                             steps=controls["steps"].value)

    box = _explorer([W.HBox(list(controls.values()))], controls, draw)
    for control in controls.values():
        control.observe(box.update, names="value")
    return box
