"""Tests of course_lib.widgets: the explorers build without a kernel, their
callbacks run, and the static figures show what they claim (closed forms)."""

from __future__ import annotations

import subprocess
import sys

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import activations, datasets, widgets
from course_lib.errors import DivergenceError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def small_moons():
    return datasets.moons(60, noise=0.15, seed=1)


def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_widgets_build_in_a_plain_python_process_without_a_kernel():
    code = (
        "import matplotlib; matplotlib.use('Agg')\n"
        "from IPython import get_ipython\n"
        "assert get_ipython() is None\n"
        "from course_lib import widgets as w, datasets\n"
        "X, y = datasets.moons(40, noise=0.1, seed=0)\n"
        "boxes = [w.activation_explorer(), w.learning_rate_explorer(),\n"
        "         w.training_explorer(X, y, epochs=50)]\n"
        "print(' '.join(type(b).__name__ for b in boxes))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "VBox VBox VBox"


# --------------------------------------------------------------------- activations


def test_activation_explorer_static__chain_rule_curves():
    z = np.linspace(-3, 3, 601)
    fig = widgets.activation_explorer_static("tanh", scale=2.0, shift=-1.0, z=z)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    g = _line(ax, "$f(wz+b)$").get_ydata()
    np.testing.assert_allclose(g, np.tanh(2 * z - 1), atol=1e-12)
    dg = next(ln for ln in ax.get_lines() if ln.get_label().startswith("$\\frac"))
    fd = (g[2:] - g[:-2]) / (z[2:] - z[:-2])       # oracle: finite differences
    np.testing.assert_allclose(dg.get_ydata()[1:-1], fd, atol=1e-3)
    assert "w = 2" in ax.get_title() and "b = -1" in ax.get_title()


def test_activation_explorer__builds_and_redraws_on_slider_change():
    box = widgets.activation_explorer()
    assert isinstance(box, ipywidgets.VBox)
    assert set(box.controls) == {"activation", "scale", "shift"}
    first = box.figure
    assert "sigmoid" in first.axes[0].get_title()
    box.controls["activation"].value = "relu"       # the observer redraws
    box.controls["scale"].value = 3.0
    assert box.figure is not first
    assert box.figure.axes[0].get_title() == "relu with w = 3, b = 0"
    relu_line = _line(box.figure.axes[0], "$f(wz+b)$")
    z = relu_line.get_xdata()
    np.testing.assert_allclose(relu_line.get_ydata(), activations.relu(3 * z))
    assert isinstance(box.update(), Figure)


# ------------------------------------------------------------------------ training


def test_train_small_mlp__learns_moons():
    X, y = datasets.moons(200, noise=0.2, seed=0)
    model, history, error = widgets.train_small_mlp(X, y, lr=0.05, n_hidden=8,
                                                    optimizer="adam", epochs=300)
    assert error is None
    acc = np.mean(model.predict(X).ravel() == y.ravel())
    assert acc >= 0.95, acc
    assert history.loss[-1] < 0.5 * history.loss[0]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop"])
def test_train_small_mlp__every_optimizer_runs(optimizer, small_moons):
    X, y = small_moons
    _, history, error = widgets.train_small_mlp(X, y, lr=0.05,
                                                optimizer=optimizer, epochs=30)
    assert error is None and len(history.loss) == 30


def test_train_small_mlp__unknown_optimizer(small_moons):
    with pytest.raises(ValueError, match="nesterov"):
        widgets.train_small_mlp(*small_moons, optimizer="nesterov", epochs=5)


def test_training_explorer_static__title_reports_the_real_accuracy(small_moons):
    X, y = small_moons
    fig = widgets.training_explorer_static(X, y, lr=0.1, n_hidden=6, epochs=100,
                                           seed=2)
    ax_db, ax_loss = fig.axes[:2]
    model, history, _ = widgets.train_small_mlp(X, y, lr=0.1, n_hidden=6,
                                                epochs=100, seed=2)
    acc = np.mean(model.predict(X).ravel() == y.ravel())
    assert ax_db.get_title() == f"train accuracy {acc:.1%}"
    np.testing.assert_allclose(_line(ax_loss, "train").get_ydata(), history.loss)
    assert ax_loss.get_yscale() == "log"


def test_training_explorer_static__generated_dataset_and_divergence(monkeypatch):
    fig = widgets.training_explorer_static(dataset="circles", epochs=20,
                                           n_samples=50)
    assert fig.axes[0].get_title().startswith("train accuracy")

    def diverging(*args, **kwargs):
        return None, None, DivergenceError("loss is nan at epoch 3: try a "
                                           "smaller learning rate")

    monkeypatch.setattr(widgets, "train_small_mlp", diverging)
    fig = widgets.training_explorer_static(dataset="moons", n_samples=30)
    texts = " ".join(t.get_text() for t in fig.axes[1].texts)
    assert "epoch 3" in texts and "diverged" in texts


def test_training_explorer__train_button_retrains(small_moons):
    X, y = small_moons
    box = widgets.training_explorer(X, y, epochs=50, n_hidden=4)
    assert isinstance(box, ipywidgets.VBox)
    assert {"lr", "n_hidden", "activation", "optimizer", "epochs",
            "train"} <= set(box.controls)
    assert box.controls["dataset"].disabled            # X was given
    first = box.figure
    box.controls["optimizer"].value = "sgd"
    box.controls["lr"].value = 0.5
    box.controls["train"].click()                      # the button's callback
    assert box.figure is not first
    assert box.figure.get_suptitle().startswith("sgd, lr=0.5")
    assert box.controls["status"].value.startswith("train accuracy")


def test_training_explorer__needs_y_with_X(small_moons):
    with pytest.raises(ValueError, match="y is required"):
        widgets.training_explorer(small_moons[0])


# ------------------------------------------------------------------- learning rate


def test_gradient_descent_quadratic__matches_the_closed_form():
    lam = np.array([1.0, 10.0])
    w0 = np.array([-2.0, 0.9])
    path = widgets.gradient_descent_quadratic(0.15, lam, w0, steps=12)
    t = np.arange(13)[:, None]
    np.testing.assert_allclose(path, (1 - 0.15 * lam) ** t * w0, rtol=1e-12)
    one_d = widgets.gradient_descent_quadratic(1.5, (1.0,), steps=3)
    np.testing.assert_allclose(one_d[:, 0], [-2.0, 1.0, -0.5, 0.25])
    with pytest.raises(ValueError, match="w0"):
        widgets.gradient_descent_quadratic(0.1, (1.0, 2.0), w0=(1.0,))


@pytest.mark.parametrize(("lr", "curv", "expected"), [
    (0.05, (1.0, 10.0), "converges smoothly"),        # 1 - 0.5 = 0.5 > 0
    (0.15, (1.0, 10.0), "converges with oscillation"),  # 1 - 1.5 = -0.5
    (0.2, (1.0, 10.0), "does not converge"),          # 1 - 2 = -1
    (0.25, (1.0, 10.0), "diverges"),                  # |1 - 2.5| = 1.5
    (0.5, (1.0,), "converges smoothly"),
    (1.5, (1.0,), "converges with oscillation"),
    (2.5, (1.0,), "diverges"),
])
def test_quadratic_regime__hand_worked_cases(lr, curv, expected):
    assert widgets.quadratic_regime(lr, curv) == expected


def test_learning_rate_explorer_static__loss_curve_and_title():
    fig = widgets.learning_rate_explorer_static(0.15, (1.0, 10.0), steps=10)
    (ax_path,) = [ax for ax in fig.axes if ax.get_title().startswith("path")]
    (ax_loss,) = [ax for ax in fig.axes if ax.get_title() == "loss per step"]
    path = widgets.gradient_descent_quadratic(0.15, (1.0, 10.0), steps=10)
    losses = 0.5 * (path[:, 0] ** 2 + 10 * path[:, 1] ** 2)
    np.testing.assert_allclose(ax_loss.get_lines()[0].get_ydata(), losses)
    assert "converges with oscillation" in fig.get_suptitle()
    assert "0.2" in fig.get_suptitle()                    # critical lr 2/10
    np.testing.assert_allclose(_line(ax_path, "gradient descent").get_xydata(),
                               path)
    fig1 = widgets.learning_rate_explorer_static(2.5, (1.0,), steps=8)
    assert "diverges" in fig1.get_suptitle()
    assert fig1.axes[0].get_xlabel() == "$w$"


def test_learning_rate_explorer__slider_changes_the_regime():
    box = widgets.learning_rate_explorer(lr=0.05, curvatures=(1.0, 10.0), steps=20)
    assert "converges smoothly" in box.figure.get_suptitle()
    assert box.controls["lr"].max == pytest.approx(0.25)
    box.controls["lr"].value = 0.24
    assert "diverges" in box.figure.get_suptitle()
