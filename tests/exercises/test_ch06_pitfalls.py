"""Graded tests for chapter 6: init, clipping, dead units, dropout (20 points).

Random outputs are checked by their statistics, with tolerances of six
standard errors for the sample size used (a correct solution fails with
probability below 1e-8; the seeds are fixed anyway). Deterministic functions
are checked against closed forms and hand-worked cases.

``Rng(seed)`` stands for a fresh ``np.random.default_rng(seed)`` in the
student's worker (see ``course_lib.grading.checking.remote.Rng``).
"""

import math

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

# ---------------------------------------------------------------- initialisation


def _moments(W):
    W = np.asarray(W, dtype=float)
    mean, std = float(W.mean()), float(W.std())
    kurt = float(np.mean(((W - mean) / std) ** 4)) if std > 0 else float("nan")
    return mean, std, kurt


def _check_mean_std(name, W, std, formula):
    n = np.asarray(W).size
    mean, got_std, _ = _moments(W)
    if abs(mean) > 6 * std / math.sqrt(n):
        fb.fail(f"{name} has mean {mean:.4g}; the weights must have mean 0.")
    if abs(got_std - std) > 6 * std / math.sqrt(2 * n):
        ratio = got_std / std
        fb.fail(f"{name} has standard deviation {got_std:.4g}; {formula} is {std:.4g} "
                f"here (you are {ratio:.3g} times that). Check the formula, which "
                "fan it uses, and that you pass a standard deviation (not a "
                "variance) to rng.normal.")


@pytest.mark.points(1)
def test_he_init__shape(ch06):
    fb.check_shape("W", ch06.he_init(7, 3, Rng(0)), (7, 3),
                   "W has shape (n_in, n_out).")


@pytest.mark.points(2)
def test_he_init__normal_statistics(ch06):
    n_in, n_out = 500, 400
    W = fb.check_shape("W", ch06.he_init(n_in, n_out, Rng(1)), (n_in, n_out))
    _check_mean_std("W", W, math.sqrt(2.0 / n_in), "He's sqrt(2 / n_in)")
    kurt = _moments(W)[2]
    if abs(kurt - 3.0) > 6 * math.sqrt(24.0 / W.size):
        fb.fail(f"W does not look normally distributed (kurtosis {kurt:.3g}; a "
                "normal distribution has 3): draw with rng.normal.")


@pytest.mark.points(1)
def test_he_init__uses_rng(ch06):
    a = fb.as_array("W", ch06.he_init(4, 6, Rng(2)))
    b = fb.as_array("W", ch06.he_init(4, 6, Rng(2)))
    c = fb.as_array("W", ch06.he_init(4, 6, Rng(3)))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        fb.fail("he_init must take its random numbers from the rng argument, so the "
                "same seed gives the same weights and another seed other weights.")


@pytest.mark.points(1)
def test_xavier_init__shape(ch06):
    fb.check_shape("W", ch06.xavier_init(5, 2, Rng(4)), (5, 2),
                   "W has shape (n_in, n_out).")


@pytest.mark.points(2)
def test_xavier_init__uniform_bounds_and_variance(ch06):
    n_in, n_out = 300, 500
    a = math.sqrt(6.0 / (n_in + n_out))
    W = fb.check_shape("W", ch06.xavier_init(n_in, n_out, Rng(5)),
                       (n_in, n_out))
    _check_mean_std("W", W, a / math.sqrt(3.0),
                    "Xavier's a / sqrt(3) = sqrt(2 / (n_in + n_out))")
    biggest = float(np.abs(W).max())
    # among 150000 uniform draws the largest |w| is within 1e-3 a of a
    # except with probability (1 - 1e-3) ** 150000 < 1e-60.
    if biggest > a * (1 + 1e-12) or biggest < a * (1 - 1e-3):
        fb.fail(f"Xavier uniform weights fill [-a, a] with a = sqrt(6 / (n_in + "
                f"n_out)) = {a:.4g}; your largest |w| is {biggest:.4g}. Use "
                "rng.uniform(-a, a, size=(n_in, n_out)).")
    kurt = _moments(W)[2]
    # (mu8 - mu4**2) / sigma**8 = 5.76 for a uniform law bounds the variance
    if abs(kurt - 1.8) > 6 * math.sqrt(5.76 / W.size):
        fb.fail(f"W does not look uniformly distributed (kurtosis {kurt:.3g}; a "
                "uniform distribution has 1.8): draw with rng.uniform.")


# ---------------------------------------------------------------- clipping


def _grads():
    rng = np.random.default_rng(61)
    return {"dW1": rng.normal(size=(3, 4)), "db1": rng.normal(size=4),
            "dW2": rng.normal(size=(4, 2))}


def _global_norm(grads):
    return math.sqrt(sum(float(v) ** 2 for g in grads.values() for v in g.ravel()))


def _clip_result(ch06, grads, max_norm):
    out = fb.unpack("clip_by_global_norm", ch06.clip_by_global_norm(grads, max_norm),
                    2, ("clipped", "norm"))
    clipped, norm = out
    if not isinstance(clipped, dict) or sorted(clipped) != sorted(grads):
        fb.fail(f"The clipped gradients must be a dict with the same keys as grads "
                f"({sorted(grads)}); got {fb.describe_type(clipped)}.")
    return clipped, norm


@pytest.mark.points(2)
def test_clip_by_global_norm__scales_all_by_one_factor(ch06):
    grads = _grads()
    total = _global_norm(grads)
    clipped, _ = _clip_result(ch06, grads, 1.0)
    per_tensor = {k: g * min(1.0, 1.0 / np.linalg.norm(g)) for k, g in grads.items()}
    if all(np.allclose(clipped[k], per_tensor[k]) for k in grads):
        fb.fail("You clipped each gradient by its own norm; the global norm treats "
                "all of them as one long vector, and every gradient is multiplied "
                "by the same factor max_norm / global_norm.")
    for key, g in grads.items():
        fb.check_close(f"clipped['{key}']", clipped[key], g / total, rtol=1e-9,
                       context=f"(global norm {total:.4g}, max_norm 1)",
                       hint="Multiply every gradient by max_norm / global_norm.")


@pytest.mark.points(1)
def test_clip_by_global_norm__hand_worked(ch06):
    clipped, norm = _clip_result(
        ch06, {"a": np.array([3.0]), "b": np.array([[4.0]])}, 1.0)
    fb.check_close("norm", fb.as_float("norm", norm), 5.0, rtol=1e-12,
                   context="for gradients [3] and [[4]]",
                   hint="The global norm is sqrt(3**2 + 4**2), before clipping.")
    fb.check_close("clipped['a']", clipped["a"], np.array([0.6]), rtol=1e-12)
    fb.check_close("clipped['b']", clipped["b"], np.array([[0.8]]), rtol=1e-12)


@pytest.mark.points(1)
def test_clip_by_global_norm__small_gradients_unchanged(ch06):
    grads = _grads()
    total = _global_norm(grads)
    clipped, norm = _clip_result(ch06, grads, 2 * total)
    fb.check_close("norm", fb.as_float("norm", norm), total, rtol=1e-9,
                   context="(the global norm before clipping)")
    for key, g in grads.items():
        fb.check_close(f"clipped['{key}']", clipped[key], g, rtol=1e-12,
                       context=f"when the global norm {total:.4g} is below max_norm",
                       hint="Gradients already within max_norm are left as they are.")


@pytest.mark.points(1)
def test_clip_by_global_norm__does_not_modify_grads(ch06):
    grads = _grads()
    res = ch06.call("clip_by_global_norm", {k: v.copy() for k, v in grads.items()},
                    0.5)
    after = res.args[0]
    for key, g in grads.items():
        fb.check_unchanged(f"grads['{key}']", g, after[key],
                           "Return new arrays: g * scale, not g *= scale.")


# ---------------------------------------------------------------- dead relus


@pytest.mark.points(1)
def test_dead_relu_fraction__hand_worked(ch06):
    Z = np.array([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]])
    got = fb.as_float("fraction", ch06.dead_relu_fraction(Z))
    fb.check_close("fraction", got, 2.0 / 3.0, rtol=1e-9,
                   context="for the docstring's Z (columns 0 and 2 are dead)")


@pytest.mark.points(2)
def test_dead_relu_fraction__units_are_columns(ch06):
    # 5 examples (rows), 8 units (columns): units 0, 1, 2 are dead (all <= 0).
    Z = np.array([
        [-1.0, 0.0, 0.0, 1.0, -1.0, -2.0, 0.0, 3.0],
        [-2.0, 0.0, -1.0, -1.0, 2.0, -2.0, 0.0, 3.0],
        [-3.0, 0.0, -4.0, -1.0, -1.0, 0.5, 0.0, 3.0],
        [-1.0, 0.0, 0.0, -1.0, -1.0, -2.0, 0.1, 3.0],
        [-5.0, 0.0, -2.0, -1.0, -1.0, -2.0, 0.0, 3.0],
    ])
    got = fb.as_float("fraction", ch06.dead_relu_fraction(Z))
    if math.isclose(got, 1 / 8):
        fb.fail("You counted only units that are < 0 everywhere; a unit whose "
                "pre-activation is exactly 0 outputs 0 and gets no gradient either: "
                "use Z <= 0.")
    if math.isclose(got, float(np.mean(np.all(Z <= 0, axis=1)))):
        fb.fail("You looked along the wrong axis: units are columns, so a unit is "
                "dead when its whole column is <= 0 (np.all(Z <= 0, axis=0)).")
    if math.isclose(got, float(np.mean(Z <= 0))):
        fb.fail("You returned the fraction of entries that are <= 0; a unit is dead "
                "only when it is <= 0 for every example in the batch.")
    fb.check_close("fraction", got, 3 / 8, rtol=1e-9,
                   context="for Z of shape (5, 8) with 3 dead units")


# ---------------------------------------------------------------- dropout


def _dropout(ch06, X, p, seed, training=True):
    res = ch06.call("dropout_forward", X.copy(), p, Rng(seed), training)
    out, mask = fb.unpack("dropout_forward", res.value, 2, ("out", "mask"))
    out = fb.check_shape("out", out, X.shape)
    mask = fb.check_shape("mask", mask, X.shape)
    return res, out, mask


@pytest.mark.points(1)
def test_dropout_forward__identity_when_not_training(ch06):
    X = np.random.default_rng(62).normal(size=(4, 6))
    _, out, mask = _dropout(ch06, X, 0.5, 0, training=False)
    fb.check_close("out", out, X, rtol=0, atol=0, context="with training=False",
                   hint="At test time inverted dropout does nothing: return X.")
    fb.check_close("mask", mask, np.ones_like(X), rtol=0, atol=0,
                   context="with training=False")


@pytest.mark.points(2)
def test_dropout_forward__inverted_scaling(ch06):
    p = 0.3
    X = np.random.default_rng(63).uniform(1.0, 2.0, size=(40, 50))
    res, out, mask = _dropout(ch06, X, p, 1)
    values = np.unique(np.round(mask, 12))
    if set(values.tolist()) <= {0.0, 1.0}:
        fb.fail("The kept entries are not rescaled: inverted dropout multiplies them "
                f"by 1 / (1 - p) = {1 / (1 - p):.4g} so that the expected output "
                "equals X.")
    if not np.allclose(np.sort(values), [0.0, 1.0 / (1.0 - p)]):
        fb.fail(f"mask must hold only 0 and 1 / (1 - p) = {1 / (1 - p):.4g}; it holds "
                f"{fb.show(values)}.")
    fb.check_close("out", out, X * mask, rtol=1e-12, context="(out must be X * mask)")
    fb.check_unchanged("X", X, res.args[0], "Return X * mask, a new array.")


@pytest.mark.points(1)
def test_dropout_forward__drop_rate_is_p(ch06):
    p = 0.25
    X = np.ones((200, 300))
    _, out, mask = _dropout(ch06, X, p, 2)
    dropped = float(np.mean(np.asarray(mask) == 0))
    tol = 6 * math.sqrt(p * (1 - p) / X.size)
    if abs(dropped - (1 - p)) < tol:
        fb.fail(f"You drop a fraction {dropped:.3f} of the entries, about 1 - p: p is "
                "the probability of dropping an entry, not of keeping it.")
    if abs(dropped - p) > tol:
        fb.fail(f"With p = {p} about {p:.0%} of the entries must be dropped; you "
                f"dropped {dropped:.2%}.")
    mean_out = float(np.mean(out))
    if abs(mean_out - 1.0) > 6 * math.sqrt(p / (1 - p) / X.size):
        fb.fail(f"For X of ones the mean output must stay about 1 (inverted "
                f"dropout keeps expectations); yours is {mean_out:.4g}.")


@pytest.mark.points(1)
def test_dropout_forward__uses_rng(ch06):
    X = np.ones((10, 20))
    _, _, mask_a = _dropout(ch06, X, 0.5, 7)
    _, _, mask_b = _dropout(ch06, X, 0.5, 7)
    _, _, mask_c = _dropout(ch06, X, 0.5, 8)
    if not np.array_equal(mask_a, mask_b) or np.array_equal(mask_a, mask_c):
        fb.fail("dropout_forward must draw its mask from the rng argument (e.g. "
                "rng.random(X.shape)), so that the same seed gives the same mask.")
