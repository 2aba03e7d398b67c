"""Tests of course_lib.plotting: every figure is built on small inputs (Agg backend)
and checked against what it should show (closed forms, the engine's own numbers)."""

from __future__ import annotations

import math
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from course_lib import plotting
from course_lib.losses import BinaryCrossEntropy
from course_lib.models import MLP

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def blobs():
    """60 points in 2-D, labelled by the sign of the first coordinate."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def _labelled_lines(ax):
    """Lines with a legend label (axhline/axvline helpers are unlabelled)."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def _contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def _boundary_vertices(ax):
    """Vertices of the unfilled contour lines drawn on ``ax``, shape (n, 2)."""
    lines = [c for c in _contour_sets(ax) if not c.filled]
    assert lines, "no contour line drawn"
    verts = [p.vertices for c in lines for p in c.get_paths() if len(p.vertices)]
    return np.concatenate(verts)


# ------------------------------------------------------------------ import hygiene


def test_import_course_lib_does_not_import_matplotlib_or_ipywidgets():
    code = ("import sys, course_lib\n"
            "bad = [m for m in ('matplotlib', 'ipywidgets', 'IPython') "
            "if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "", f"import course_lib imported {out.stdout}"


def test_use_course_style_sets_grey_safe_defaults():
    with plt.rc_context():
        rc = plotting.use_course_style()
        assert plt.rcParams["image.cmap"] == "viridis"
        assert plt.rcParams["font.family"] == ["DejaVu Sans"]
        cycle = plt.rcParams["axes.prop_cycle"].by_key()
        # lines differ by dash pattern as well as by colour
        assert len(set(map(str, cycle["linestyle"]))) == len(cycle["color"])
        assert rc["axes.grid"] is True


# --------------------------------------------------------------------- activations


def test_activation_functions__one_panel_per_name_with_f_and_derivative():
    z = np.linspace(-4, 4, 801)
    fig = plotting.activation_functions(z=z)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    sig = _line(fig.axes[0], "$f(z)$")
    np.testing.assert_allclose(sig.get_ydata(), 1 / (1 + np.exp(-z)), atol=1e-12)
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        f = _line(ax, "$f(z)$").get_ydata()
        df = _line(ax, "$f'(z)$").get_ydata()
        # f' agrees with a central difference of the plotted f away from the kink
        fd = (f[2:] - f[:-2]) / (z[2:] - z[:-2])
        smooth = np.abs(z[1:-1]) > 0.05
        np.testing.assert_allclose(df[1:-1][smooth], fd[smooth], atol=1e-4)


def test_activation_functions__without_derivatives_and_subset():
    fig = plotting.activation_functions(names=("tanh", "relu"), derivatives=False)
    assert len(fig.axes) == 2
    assert [len(_labelled_lines(ax)) for ax in fig.axes] == [1, 1]
    assert fig.axes[1].get_title() == "ReLU"


def test_activation_functions__unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="swish"):
        plotting.activation_functions(names=("swish",))


# ------------------------------------------------------------------------ history


def test_loss_curve__plain_list():
    losses = [1.0, 0.5, 0.25, 0.2]
    ax = plotting.loss_curve(losses, log=True)
    assert isinstance(ax, Axes)
    (line,) = _labelled_lines(ax)
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), losses)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"


def test_loss_curve__history_from_fit_with_validation():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    model = MLP([2, 4, 1], seed=0)
    history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer="adam",
                        epochs=20, validation_data=(X, y), progress=False)
    ax = plotting.loss_curve(history, label="adam")
    train, val = _labelled_lines(ax)
    np.testing.assert_allclose(train.get_ydata(), history.loss)
    np.testing.assert_allclose(val.get_ydata(), history.val_loss)
    assert train.get_label() == "adam" and "validation" in val.get_label()
    # val=False leaves the validation curve out
    ax2 = plotting.loss_curve(history, val=False)
    assert len(_labelled_lines(ax2)) == 1


def test_loss_curve__missing_metric_is_an_error():
    with pytest.raises(ValueError, match="accuracy"):
        plotting.loss_curve({"loss": [1.0, 0.5]}, metric="accuracy")


def test_training_curves__two_panels_and_best_epoch_marked():
    history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.2],
               "val_loss": [1.1, 0.7, 0.5, 0.55, 0.6, 0.7],
               "accuracy": [0.5, 0.6, 0.7, 0.8, 0.85, 0.9],
               "val_accuracy": [0.5, 0.6, 0.7, 0.65, 0.6, 0.6],
               "best_epoch": 3, "stopped_epoch": 6}
    fig = plotting.training_curves(history)
    assert len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        best = _line(ax, "best epoch (3)")
        np.testing.assert_array_equal(best.get_xdata(), [3, 3])
        assert len(_labelled_lines(ax)) == 3        # train, validation, best


def test_training_curves__loss_only_history_has_one_panel_and_no_marker():
    fig = plotting.training_curves({"loss": [3.0, 2.0, 1.0], "best_epoch": 3})
    assert len(fig.axes) == 1
    assert len(_labelled_lines(fig.axes[0])) == 1


# --------------------------------------------------------------- decision boundary


def test_decision_grid__values_of_a_known_callable(blobs):
    X, _ = blobs
    xx, yy, scores = plotting.decision_grid(lambda G: G[:, 0] - 2 * G[:, 1], X,
                                            resolution=30, padding=0.5)
    assert xx.shape == yy.shape == scores.shape == (30, 30)
    np.testing.assert_allclose(scores, xx - 2 * yy)
    assert xx.min() == pytest.approx(X[:, 0].min() - 0.5)
    assert yy.max() == pytest.approx(X[:, 1].max() + 0.5)


def test_decision_boundary__score_function_has_its_boundary_at_x_equals_0(blobs):
    X, y = blobs
    ax = plotting.decision_boundary(lambda G: G[:, 0], X, y, resolution=50)
    assert isinstance(ax, Axes)
    filled = [c for c in _contour_sets(ax) if c.filled]
    assert len(filled) == 1
    verts = _boundary_vertices(ax)
    np.testing.assert_allclose(verts[:, 0], 0.0, atol=1e-9)
    # the line spans the whole height of the plot
    assert verts[:, 1].min() == pytest.approx(X[:, 1].min() - 0.5)
    # one scatter per class, different markers
    points = [c for c in ax.collections if not isinstance(c, ContourSet)]
    assert len(points) == 2
    assert points[0].get_paths()[0] != points[1].get_paths()[0]
    assert sum(len(p.get_offsets()) for p in points) == len(X)
    assert ax.get_title() == "Decision boundary"
    assert ax.get_xlabel() and ax.get_ylabel()


def test_decision_boundary__probabilities_use_the_0_5_level(blobs):
    X, y = blobs
    ax = plotting.decision_boundary(lambda G: 1 / (1 + np.exp(-(G[:, 0] - 0.3))), X,
                                    y, resolution=80, title="p")
    verts = _boundary_vertices(ax)
    np.testing.assert_allclose(verts[:, 0], 0.3, atol=1e-6)
    assert ax.get_title() == "p"


def test_decision_boundary__several_outputs_shade_the_argmax_class(blobs):
    X, _ = blobs
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])

    def scores(G):              # class = which third of the x axis (like a one-hot)
        return np.stack([-G[:, 0] - 0.5, 0 * G[:, 0], G[:, 0] - 0.5], axis=1)

    ax = plotting.decision_boundary(scores, X, y3, resolution=101, proba=False)
    verts = _boundary_vertices(ax)
    spacing = (np.ptp(X[:, 0]) + 1.0) / 100
    near = np.minimum(np.abs(verts[:, 0] + 0.5), np.abs(verts[:, 0] - 0.5))
    assert near.max() <= spacing
    points = [c for c in ax.collections if not isinstance(c, ContourSet)]
    assert len(points) == 3


def test_decision_boundary__predict_only_model_with_three_labels(blobs):
    X, _ = blobs
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])

    class ThirdsClassifier:
        def predict(self, G):
            return np.digitize(G[:, 0], [-0.5, 0.5])

    ax = plotting.decision_boundary(ThirdsClassifier(), X, y3, resolution=101)
    verts = _boundary_vertices(ax)
    spacing = (np.ptp(X[:, 0]) + 1.0) / 100
    near = np.minimum(np.abs(verts[:, 0] + 0.5), np.abs(verts[:, 0] - 0.5))
    assert near.max() <= spacing
    filled = next(c for c in _contour_sets(ax) if c.filled)
    np.testing.assert_allclose(filled.levels, [-0.5, 0.5, 1.5, 2.5])


def test_decision_boundary__course_lib_model_uses_its_probabilities():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    model = MLP([2, 4, 1], seed=1)
    model.fit(X, y, loss=BinaryCrossEntropy(), optimizer="adam", epochs=300,
              progress=False)
    xx, yy, scores = plotting.decision_grid(model, X, resolution=25)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    np.testing.assert_allclose(scores.ravel(), model.predict_proba(grid).ravel())
    ax = plotting.decision_boundary(model, X, y, resolution=25)
    assert isinstance(ax, Axes)


def test_decision_boundary__rejects_non_2d_inputs():
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(5, 3\)"):
        plotting.decision_boundary(lambda G: G[:, 0], np.zeros((5, 3)), np.zeros(5))


def test_decision_boundary_grid__weight_snapshots_and_restores_weights(blobs):
    X, y = blobs
    model = MLP([2, 3, 1], seed=0)
    original = model.get_weights()
    flipped = {k: -v for k, v in original.items()}
    fig = plotting.decision_boundary_grid([original, flipped], X, y, model=model,
                                          titles=["epoch 0", "epoch 10"], ncols=4,
                                          resolution=20)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["epoch 0", "epoch 10"]
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(v, original[k])


def test_decision_boundary_grid__models_or_callables_and_layout(blobs):
    X, y = blobs
    snaps = [lambda G, c=c: G[:, 0] - c for c in (-1.0, 0.0, 0.5, 1.0, 1.5)]
    fig = plotting.decision_boundary_grid(snaps, X, y, ncols=2, resolution=30)
    assert len(fig.axes) == 5
    for ax, c in zip(fig.axes, (-1.0, 0.0, 0.5, 1.0, 1.5)):
        np.testing.assert_allclose(_boundary_vertices(ax)[:, 0], c, atol=1e-9)
    with pytest.raises(ValueError, match="titles"):
        plotting.decision_boundary_grid(snaps, X, y, titles=["a"])


def test_hidden_units__zero_level_of_each_unit_is_its_line(blobs):
    X, y = blobs
    model = MLP([2, 3, 1], seed=3)
    fig = plotting.hidden_units(model, X, y, layer=0, resolution=60)
    panels = fig.axes
    assert len(panels) == 4                         # 3 units + output
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    checked = 0
    for j, ax in enumerate(panels[:3]):
        assert ax.get_title() == f"unit {j}"
        lines = [c for c in _contour_sets(ax) if not c.filled]
        if lines:                                   # the line may miss the window
            verts = _boundary_vertices(ax)
            np.testing.assert_allclose(verts @ W[:, j] + b[j], 0.0, atol=1e-8)
            checked += 1
    assert checked >= 2
    assert panels[-1].get_title() == "output"
    with pytest.raises(ValueError, match="layer"):
        plotting.hidden_units(model, X, y, layer=1)


# ------------------------------------------------------------------- diagnostics


def test_gradient_norms__dict_gives_bars_with_those_heights():
    norms = {"0.W": 1e-1, "2.W": 1e-3, "4.W": 1e-6}
    ax = plotting.gradient_norms(norms)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, list(norms.values()))
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(norms)


def test_gradient_norms__list_of_dicts_gives_one_line_per_layer():
    history = [{"0.W": 1.0 / (e + 1), "2.W": 0.01 * (e + 1)} for e in range(12)]
    ax = plotting.gradient_norms(history, log=False)
    lines = _labelled_lines(ax)
    assert [ln.get_label() for ln in lines] == ["0.W", "2.W"]
    np.testing.assert_allclose(lines[1].get_ydata(), [0.01 * (e + 1)
                                                      for e in range(12)])
    assert ax.get_yscale() == "linear"


def test_gradient_norms__reads_a_model_after_backward(blobs):
    X, y = blobs
    model = MLP([2, 5, 5, 1], seed=0)
    loss = BinaryCrossEntropy()
    out = model.forward(X)
    model.backward(loss.grad(y.reshape(-1, 1).astype(float), out))
    ax = plotting.gradient_flow(model)
    expected = [np.linalg.norm(layer.grads["W"]) for layer in model.layers
                if "W" in layer.grads]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], expected)


def test_update_ratios__reference_line_at_1e_minus_3():
    ax = plotting.update_ratios({"0.W": 2e-3, "2.W": 5e-4})
    assert len(ax.patches) == 2
    ref = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 1e-3)]
    assert ref


def test_activation_histograms__one_panel_per_activation_layer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    model = MLP([2, 4, 4, 1], activation="relu", seed=0)
    model.layers[0].params["b"][:2] = -100.0        # two dead ReLUs
    fig = plotting.activation_histograms(model, X, bins=10)
    assert len(fig.axes) == 3                       # ReLU, ReLU, Sigmoid
    first_relu = model.activations(X)[1]
    zeros = np.mean(first_relu == 0)
    assert zeros >= 0.5
    assert f"{zeros:.0%} zeros, 2 dead of 4 units" in fig.axes[0].get_title()
    out = model.predict_proba(X)
    saturated = np.mean((out < 0.01) | (out > 0.99))
    assert f"{saturated:.0%} saturated" in fig.axes[2].get_title()
    for ax, n_units in zip(fig.axes, (4, 4, 1)):
        counts = sum(p.get_height() for p in ax.patches)
        assert counts == 50 * n_units


def test_activation_histograms__axes_given_and_too_few_axes():
    X = np.random.default_rng(1).normal(size=(20, 2))
    model = MLP([2, 3, 1], seed=0)
    fig, axes = plt.subplots(1, 2)
    assert plotting.activation_histograms(model, X, axes=axes) is fig
    with pytest.raises(ValueError, match="2 activation layers but 1 axes"):
        plotting.activation_histograms(model, X, axes=[axes[0]])


def test_loss_surface__levels_paths_and_legend():
    def f(w1, w2):
        return w1**2 + 10 * w2**2

    paths = [np.array([[1.5, 0.8], [1.0, -0.5], [0.0, 0.0]]),
             np.array([[-1.5, 0.8], [-0.3, 0.05]])]
    ax = plotting.loss_surface(f, (-2, 2), (-1, 1), paths=paths,
                               labels=["SGD", "Adam"], resolution=41, levels=12)
    filled = next(c for c in _contour_sets(ax) if c.filled)
    assert filled.levels[0] == pytest.approx(0.0)          # min of f on the grid
    assert filled.levels[-1] == pytest.approx(14.0)        # max: 4 + 10
    assert np.all(np.diff(filled.levels) > 0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Adam"]
    np.testing.assert_allclose(_line(ax, "SGD").get_xydata(), paths[0])
    assert ax.get_xlabel() == "$w_1$" and ax.get_title()


def test_loss_surface__scalar_only_function_gives_the_same_levels():
    ax1 = plotting.loss_surface(lambda a, b: (a - 1) ** 2 + b**2, (-2, 2), (-2, 2),
                                resolution=15, log_levels=False, levels=8)
    ax2 = plotting.loss_surface(lambda a, b: math.pow(a - 1, 2) + math.pow(b, 2),
                                (-2, 2), (-2, 2), resolution=15, log_levels=False,
                                levels=8)
    lev1 = next(c for c in _contour_sets(ax1) if c.filled).levels
    lev2 = next(c for c in _contour_sets(ax2) if c.filled).levels
    np.testing.assert_allclose(lev1, lev2)


def test_loss_surface__bad_path_shape():
    with pytest.raises(ValueError, match=r"paths\[0\].*\(k, 2\)"):
        plotting.loss_surface(lambda a, b: a * b, (0, 1), (0, 1), resolution=5,
                              paths=[np.zeros((3, 3))])


# ------------------------------------------------------------------ classification


def test_confusion_matrix__annotated_counts_and_normalised_rows():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    ax = plotting.confusion_matrix(cm, labels=["a", "b", "c"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    ax = plotting.confusion_matrix(cm, normalize=True)
    values = np.array([float(t.get_text()) for t in ax.texts]).reshape(3, 3)
    np.testing.assert_allclose(values, cm / cm.sum(axis=1, keepdims=True),
                               atol=0.005)
    with pytest.raises(ValueError, match="labels"):
        plotting.confusion_matrix(cm, labels=["a", "b"])
    ax = plotting.confusion_matrix(np.array([[0.75, 0.25], [0.1, 0.9]]))
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.10", "0.90"]


def test_image_grid__titles_mark_mistakes():
    rng = np.random.default_rng(0)
    images = rng.random((12, 64))
    labels = np.arange(12) % 10
    predictions = labels.copy()
    predictions[[0, 5, 7]] = [1, 6, 8]
    fig = plotting.image_grid(images, labels, predictions, ncols=5)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "0→1" and titles[5] == "5→6" and titles[7] == "7→8"
    assert sum("→" in t for t in titles) == 3
    assert "3 of 12 misclassified" in fig.get_suptitle()
    assert fig.axes[0].images[0].get_array().shape == (8, 8)
    # float labels of shape (n, 1), as a model or a data set may return them
    fig = plotting.image_grid(images[:3].reshape(3, 8, 8),
                              labels.reshape(-1, 1).astype(float)[:3],
                              np.array([0.0, 2.0, 2.0]))
    assert [ax.get_title() for ax in fig.axes] == ["0", "1→2", "2"]
