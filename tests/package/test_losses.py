"""Losses: hand-worked values, gradients against finite differences, stability and
the error messages a student will see."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import GRAD_TOL, fd, rel_err
from properties import PROPERTY, strict_numpy

import course_lib as cl

# ---------------------------------------------------------------- hand-worked values


def test_mse_by_hand():
    y = np.array([[1.0], [2.0], [3.0]])
    y_hat = np.array([[1.5], [2.0], [1.0]])
    # ((0.5)^2 + 0 + (-2)^2) / 3 = 4.25 / 3
    assert cl.MSE().loss(y, y_hat) == pytest.approx(4.25 / 3, rel=1e-15)
    np.testing.assert_allclose(cl.MSE().grad(y, y_hat), [[1 / 3], [0.0], [-4 / 3]])


def test_bce_by_hand():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.8], [0.4]])
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert cl.BinaryCrossEntropy().loss(y, p) == pytest.approx(expected, rel=1e-14)
    # dL/dp = (p - y) / (p (1 - p) N)
    np.testing.assert_allclose(cl.BinaryCrossEntropy().grad(y, p),
                               [[-0.2 / (0.16 * 2)], [0.4 / (0.24 * 2)]], rtol=1e-14)


def test_softmax_cross_entropy_by_hand():
    Z = np.array([[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)]])
    y = np.array([1, 0])
    # row 1: softmax = [1/4, 3/4], row 2: [1/2, 1/2]
    expected = -(np.log(0.75) + np.log(0.5)) / 2
    assert cl.SoftmaxCrossEntropy().loss(y, Z) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(cl.SoftmaxCrossEntropy().grad(y, Z),
                               [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14)


def test_labels_and_one_hot_agree():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, size=6)
    Y = cl.datasets.one_hot(y, 4)
    ce = cl.SoftmaxCrossEntropy()
    assert ce.loss(y, Z) == pytest.approx(ce.loss(Y, Z), rel=1e-14)
    np.testing.assert_allclose(ce.grad(y, Z), ce.grad(Y, Z), rtol=1e-13)
    np.testing.assert_allclose(ce.grad(y.reshape(-1, 1), Z), ce.grad(y, Z))
    np.testing.assert_allclose(ce.grad(y.astype(float), Z), ce.grad(y, Z))


def test_bce_from_logits_equals_bce_of_sigmoid():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3, size=(8, 1))
    y = rng.integers(0, 2, size=(8, 1)).astype(float)
    p = cl.sigmoid(z)
    logits = cl.BinaryCrossEntropy(from_logits=True)
    assert logits.loss(y, z) == pytest.approx(cl.BinaryCrossEntropy().loss(y, p),
                                              rel=1e-12)
    np.testing.assert_allclose(logits.grad(y, z), (p - y) / 8, rtol=1e-12)


def test_sigmoid_plus_bce_gives_y_hat_minus_y_over_N():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(5, 1))
    y = rng.integers(0, 2, size=(5, 1)).astype(float)
    sig = cl.Sigmoid()
    y_hat = sig.forward(Z)
    dZ = sig.backward(cl.BinaryCrossEntropy().grad(y, y_hat))
    np.testing.assert_allclose(dZ, (y_hat - y) / 5, rtol=1e-12)


# ---------------------------------------------------------------- gradients

CASES = ["mse", "bce", "bce_logits", "ce_labels", "ce_onehot", "ce_soft",
         "ce_unnormalised"]


def make_case(kind, N, C, rng):
    if kind == "mse":
        return cl.MSE(), rng.normal(size=(N, C)), rng.normal(size=(N, C))
    if kind == "bce":
        return (cl.BinaryCrossEntropy(), rng.integers(0, 2, (N, C)).astype(float),
                rng.uniform(0.05, 0.95, size=(N, C)))
    if kind == "bce_logits":
        return (cl.BinaryCrossEntropy(from_logits=True),
                rng.uniform(0, 1, (N, C)), rng.normal(scale=3, size=(N, C)))
    Z = rng.normal(scale=2, size=(N, C + 1))
    labels = rng.integers(0, C + 1, size=N)
    if kind == "ce_labels":
        return cl.SoftmaxCrossEntropy(), labels, Z
    if kind == "ce_onehot":
        return cl.SoftmaxCrossEntropy(), cl.datasets.one_hot(labels, C + 1), Z
    soft = rng.uniform(size=(N, C + 1))
    if kind == "ce_unnormalised":          # -sum_j y_j log softmax_j, any y_j >= 0
        return cl.SoftmaxCrossEntropy(), 2 * soft, Z
    return cl.SoftmaxCrossEntropy(), soft / soft.sum(axis=1, keepdims=True), Z


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("N, C", [(1, 1), (4, 1), (6, 3), (10, 5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_loss_grad_matches_finite_differences(kind, N, C, seed):
    loss, y, y_pred = make_case(kind, N, C, np.random.default_rng(seed))
    analytic = loss.grad(y, y_pred)
    assert analytic.shape == y_pred.shape
    assert rel_err(analytic, fd(lambda p: loss.loss(y, p), y_pred)) < GRAD_TOL


@pytest.mark.parametrize("kind", CASES)
def test_loss_is_a_batch_mean(kind):
    """Stacking a batch twice leaves the loss unchanged and halves the gradient."""
    loss, y, y_pred = make_case(kind, 5, 2, np.random.default_rng(3))
    y2, p2 = np.concatenate([y, y]), np.concatenate([y_pred, y_pred])
    assert loss.loss(y2, p2) == pytest.approx(loss.loss(y, y_pred), rel=1e-13)
    np.testing.assert_allclose(loss.grad(y2, p2)[:5], loss.grad(y, y_pred) / 2,
                               rtol=1e-13)


def test_value_is_a_python_float():
    assert type(cl.MSE().loss(np.zeros((2, 1)), np.ones((2, 1)))) is float
    assert cl.MSE()(np.zeros((2, 1)), np.ones((2, 1))) == 1.0


# ---------------------------------------------------------------- stability

@PROPERTY
@given(z=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)),
                    elements=st.floats(-1e4, 1e4)),
       data=st.data())
def test_softmax_cross_entropy_is_finite_at_extreme_logits(z, data):
    y = np.array(data.draw(st.lists(st.integers(0, z.shape[1] - 1),
                                    min_size=len(z), max_size=len(z))))
    with strict_numpy():
        value = cl.SoftmaxCrossEntropy().loss(y, z)
        grad = cl.SoftmaxCrossEntropy().grad(y, z)
    assert np.isfinite(value) and value >= 0
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)


@PROPERTY
@given(p=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(1)),
                    elements=st.floats(0, 1)),
       z=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(1)),
                    elements=st.floats(-1e4, 1e4)))
def test_bce_never_takes_log_of_zero(p, z):
    y_p = (np.arange(len(p)) % 2).reshape(-1, 1).astype(float)
    y_z = (np.arange(len(z)) % 2).reshape(-1, 1).astype(float)
    with strict_numpy():
        values = [cl.BinaryCrossEntropy().loss(y_p, p),
                  cl.BinaryCrossEntropy(from_logits=True).loss(y_z, z)]
        grads = [cl.BinaryCrossEntropy().grad(y_p, p),
                 cl.BinaryCrossEntropy(from_logits=True).grad(y_z, z)]
    assert all(np.isfinite(v) and v >= 0 for v in values)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_bce_at_exact_zero_and_one_is_large_but_finite():
    loss = cl.BinaryCrossEntropy().loss(np.array([[1.0], [0.0]]),
                                        np.array([[0.0], [1.0]]))
    assert 20 < loss < 30                                 # -log(1e-12) = 27.6
    assert cl.BinaryCrossEntropy().loss(np.array([[1.0]]), np.array([[1.0]])) < 1e-11
    f32 = cl.BinaryCrossEntropy().loss(np.array([[1.0]], np.float32),
                                       np.array([[0.0]], np.float32))
    assert np.isfinite(f32)


def test_bce_from_logits_exact_at_extremes():
    loss = cl.BinaryCrossEntropy(from_logits=True)
    assert loss.loss(np.array([[1.0]]), np.array([[-1e4]])) == pytest.approx(1e4)
    assert loss.loss(np.array([[0.0]]), np.array([[1e4]])) == pytest.approx(1e4)
    assert loss.loss(np.array([[1.0]]), np.array([[1e4]])) == 0.0


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("loss", [cl.MSE(), cl.BinaryCrossEntropy()])
def test_column_vs_flat_targets_are_rejected_with_a_fix(loss):
    y = np.array([0.0, 1.0, 1.0])
    y_hat = np.array([[0.2], [0.7], [0.9]])
    with pytest.raises(cl.ShapeError,
                       match=r"y_true \(3,\) and y_pred \(3, 1\).*y\.reshape\(-1, 1\)"):
        loss.loss(y, y_hat)
    with pytest.raises(cl.ShapeError, match=r"reshape"):
        loss.grad(y, y_hat)
    with pytest.raises(cl.ShapeError, match=r"y_pred\.reshape\(-1, 1\)"):
        loss.loss(y.reshape(-1, 1), y_hat.ravel())


@pytest.mark.parametrize("loss", [cl.MSE(), cl.BinaryCrossEntropy(),
                                  cl.SoftmaxCrossEntropy()])
def test_length_mismatch_is_rejected(loss):
    with pytest.raises(cl.ShapeError, match="same length N.*\\(4, 1\\).*\\(3, 1\\)"):
        loss.loss(np.zeros((4, 1)), np.full((3, 1), 0.5))


@pytest.mark.parametrize("loss, y, p", [
    (cl.MSE(), np.array([[np.nan]]), np.zeros((1, 1))),
    (cl.MSE(), np.zeros((1, 1)), np.array([[np.nan]])),
    (cl.BinaryCrossEntropy(), np.ones((1, 1)), np.array([[np.nan]])),
    (cl.SoftmaxCrossEntropy(), np.array([0]), np.array([[np.nan, 0.0]])),
])
def test_nan_is_rejected(loss, y, p):
    with pytest.raises(ValueError, match="contains NaN"):
        loss.loss(y, p)
    with pytest.raises(ValueError, match="contains NaN"):
        loss.grad(y, p)


NAN = np.nan


@pytest.mark.parametrize("loss, y, p, error, message", [
    # NaN is named first, even when something else is wrong too
    (cl.MSE(), [[NAN]], np.zeros((2, 1)), ValueError, "MSE: y_true contains NaN"),
    (cl.MSE(), np.zeros(2), [[NAN], [0.0]], ValueError, "MSE: y_pred contains NaN"),
    (cl.BinaryCrossEntropy(), np.ones((2, 1)), [[NAN], [2.0]], ValueError,
     "BinaryCrossEntropy: y_pred contains NaN"),
    (cl.BinaryCrossEntropy(), [[NAN], [2.0]], np.ones((2, 1)), ValueError,
     "BinaryCrossEntropy: y_true contains NaN"),
    (cl.BinaryCrossEntropy(from_logits=True), [[NAN]], [[3.0]], ValueError,
     "BinaryCrossEntropy: y_true contains NaN"),
    (cl.SoftmaxCrossEntropy(), [NAN, 1.0], np.zeros((2, 3)), ValueError,
     "SoftmaxCrossEntropy: y_true contains NaN"),
    (cl.SoftmaxCrossEntropy(), [[NAN, 1, 0]], np.zeros((1, 3)), ValueError,
     "SoftmaxCrossEntropy: y_true contains NaN"),
    # the other checks, unchanged
    (cl.MSE(), np.array([["a"]]), np.zeros((1, 1)), TypeError,
     "MSE: y_true must be a numeric array"),
    (cl.MSE(), 1.0, np.zeros((1, 1)), cl.ShapeError, "got a scalar"),
    (cl.BinaryCrossEntropy(), [[0.5]], [[-0.5]], ValueError, "probabilities in"),
    (cl.SoftmaxCrossEntropy(), [0.5, 1.0], np.zeros((2, 3)), ValueError, "integers"),
])
def test_loss_and_grad_raise_what_check_raises(loss, y, p, error, message):
    for method in (loss.check, loss.loss, loss.grad):
        with pytest.raises(error, match=message):
            method(y, p)


@PROPERTY
@given(kind=st.sampled_from(CASES), N=st.integers(1, 6), C=st.integers(1, 4),
       in_target=st.booleans(), data=st.data())
def test_a_nan_anywhere_is_named_by_loss_and_grad(kind, N, C, in_target, data):
    loss, y, y_pred = make_case(kind, N, C, np.random.default_rng(N * C))
    if kind == "ce_labels":
        in_target = False                       # integer labels cannot hold NaN
    bad = np.array(y if in_target else y_pred, dtype=float)
    bad[tuple(data.draw(st.integers(0, n - 1)) for n in bad.shape)] = np.nan
    y, y_pred = (bad, y_pred) if in_target else (y, bad)
    name = "y_true" if in_target else "y_pred"
    for method in (loss.loss, loss.grad):
        with pytest.raises(ValueError, match=f"{name} contains NaN"):
            method(y, y_pred)


def test_infinite_input_passes_the_checks_as_before():
    """Only NaN is an input error: an infinite prediction gives an infinite MSE."""
    y, y_hat = np.zeros((2, 1)), np.array([[np.inf], [0.0]])
    assert cl.MSE().loss(y, y_hat) == np.inf
    np.testing.assert_array_equal(cl.MSE().grad(y, y_hat), [[np.inf], [0.0]])


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.2 for C=3.*\[0, 3\]"):
        cl.SoftmaxCrossEntropy().loss(np.array([0, 3]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"labels must be in"):
        cl.SoftmaxCrossEntropy().grad(np.array([-1, 0]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="integers"):
        cl.SoftmaxCrossEntropy().loss(np.array([0.5, 1.0]), np.zeros((2, 3)))


def test_softmax_cross_entropy_shape_errors():
    with pytest.raises(cl.ShapeError, match=r"logits of shape \(N, C\)"):
        cl.SoftmaxCrossEntropy().loss(np.array([0, 1]), np.zeros(2))
    with pytest.raises(cl.ShapeError, match=r"one-hot \(N, 3\).*\(2, 4\)"):
        cl.SoftmaxCrossEntropy().loss(np.zeros((2, 4)), np.zeros((2, 3)))


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\].*from_logits"):
        cl.BinaryCrossEntropy().loss(np.ones((2, 1)), np.array([[0.5], [2.0]]))
    with pytest.raises(ValueError, match="targets in \\[0, 1\\]"):
        cl.BinaryCrossEntropy().loss(np.array([[2.0]]), np.array([[0.5]]))


def test_get_loss_names_and_unknown():
    assert isinstance(cl.get_loss("mse"), cl.MSE)
    assert isinstance(cl.get_loss("bce"), cl.BinaryCrossEntropy)
    assert isinstance(cl.get_loss("cross_entropy"), cl.SoftmaxCrossEntropy)
    obj = cl.MSE()
    assert cl.get_loss(obj) is obj
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*mse.*bce"):
        cl.get_loss("hinge")


@PROPERTY
@given(N=st.integers(2, 8), loss=st.sampled_from([cl.MSE(), cl.BinaryCrossEntropy()]))
def test_flat_targets_never_broadcast_to_N_by_N(N, loss):
    y = np.zeros(N)
    y_hat = np.full((N, 1), 0.5)
    with pytest.raises(cl.ShapeError) as info:
        loss.grad(y, y_hat)
    message = str(info.value)
    assert f"y_true ({N},)" in message and f"y_pred ({N}, 1)" in message
    assert f"({N}, {N})" in message and "y.reshape(-1, 1)" in message


@PROPERTY
@given(N=st.integers(1, 6), C=st.integers(2, 5), bad=st.integers(0, 3), data=st.data())
def test_out_of_range_labels_name_the_valid_range(N, C, bad, data):
    y = np.array(data.draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    y[data.draw(st.integers(0, N - 1))] = C + bad
    with pytest.raises(ValueError, match=rf"0\.\.{C - 1} for C={C}"):
        cl.SoftmaxCrossEntropy().loss(y, np.zeros((N, C)))
