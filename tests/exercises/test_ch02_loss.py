"""Graded tests for chapter 2: loss functions (21 points).

Oracles: hand-worked values, the formulas evaluated entry by entry with the
``math`` module, and centred finite differences for ``mse_grad``.
"""

import math

import numpy as np
import pytest
from oracles import fd

from course_lib.grading.checking import feedback as fb

RNG = np.random.default_rng(202)

MEAN_HINT = "The course's losses are the mean over every entry, not the sum."


def _mse_oracle(y_true, y_pred):
    total = sum((p - t) ** 2 for p, t in zip(y_pred.ravel(), y_true.ravel()))
    return total / y_true.size


def _bce_oracle(y_true, y_pred):
    terms = [
        -(t * math.log(p) + (1 - t) * math.log(1 - p))
        for t, p in zip(y_true.ravel(), y_pred.ravel())
    ]
    return sum(terms) / len(terms)


def _ce_oracle(labels, logits):
    """Mean of -log softmax(z_i)[y_i], with log-sum-exp done in exact steps."""
    losses = []
    for row, label in zip(logits, labels):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        losses.append(lse - row[label])
    return sum(losses) / len(losses)


def _softmax_oracle(z):
    out = np.zeros_like(z, dtype=float)
    for i, row in enumerate(z):
        m = max(row)
        e = [math.exp(v - m) for v in row]
        out[i] = [v / sum(e) for v in e]
    return out


def _loss_factors(n_entries, n_rows):
    factors = {
        float(n_entries): "the loss is a sum; the course averages over the batch "
        f"(here {n_entries} entries): use np.mean.",
    }
    if n_rows != n_entries:
        factors[float(n_entries // n_rows)] = (
            "you averaged over the rows only; the course's MSE averages over every "
            "entry (N * K of them)."
        )
    return factors


# ---------------------------------------------------------------- mse


@pytest.mark.points(1)
def test_mse__hand_worked(ch02):
    y_true, y_pred = np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]])
    got = fb.as_float("mse", ch02.mse(y_true, y_pred))
    fb.check_close("mse", got, 0.125, rtol=1e-12, factors=_loss_factors(2, 2),
                   context="for y_true = [[1], [0]], y_pred = [[0.5], [0]]",
                   hint="(0.5 - 1)^2 = 0.25 and (0 - 0)^2 = 0; their mean is 0.125.")


@pytest.mark.points(2)
def test_mse__mean_over_all_entries(ch02):
    y_true = RNG.normal(size=(5, 3))
    y_pred = RNG.normal(size=(5, 3))
    got = fb.as_float("mse", ch02.mse(y_true, y_pred), MEAN_HINT)
    fb.check_close("mse", got, _mse_oracle(y_true, y_pred), rtol=1e-9,
                   factors=_loss_factors(15, 5), context="for y of shape (5, 3)")


@pytest.mark.points(2)
def test_mse_grad__matches_finite_differences(ch02):
    y_true = RNG.normal(size=(4, 3))
    y_pred = RNG.normal(size=(4, 3))
    expected = fd(lambda p: _mse_oracle(y_true, p), y_pred)
    factors = {
        0.5: "the gradient is off by a factor of 2: d/dy of (y - t)^2 is 2 (y - t).",
        12.0: "the gradient is 12 times too large (12 entries): the mean's 1/(N K) "
        "carries over to the gradient.",
        -1.0: "the sign is flipped: the derivative of (y_pred - y_true)^2 with "
        "respect to y_pred is 2 (y_pred - y_true).",
    }
    fb.check_close("dY", ch02.mse_grad(y_true, y_pred), expected, rtol=1e-5,
                   atol=1e-8, factors=factors,
                   context="(compared with finite differences of the MSE)")


@pytest.mark.points(1)
def test_mse_grad__shape_of_y_pred(ch02):
    y_true = np.zeros((7, 2))
    y_pred = np.ones((7, 2))
    got = ch02.mse_grad(y_true, y_pred)
    fb.check_shape("dY", got, (7, 2), "The gradient has the shape of y_pred.")
    fb.check_close("dY", got, np.full((7, 2), 2.0 / 14.0), rtol=1e-9,
                   factors={14.0: "the gradient is 14 times too large (14 entries): "
                            "the mean's 1/(N K) carries over to the gradient.",
                            0.5: "the gradient is off by a factor of 2: d/dy of "
                            "(y - t)^2 is 2 (y - t)."},
                   context="for y_true = 0, y_pred = 1, shape (7, 2)")


# ---------------------------------------------------------------- bce


@pytest.mark.points(1)
def test_binary_cross_entropy__hand_worked(ch02):
    y_true = np.array([[1.0], [0.0]])
    y_pred = np.array([[0.9], [0.2]])
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    got = fb.as_float("loss", ch02.binary_cross_entropy(y_true, y_pred), MEAN_HINT)
    fb.check_close("loss", got, expected, rtol=1e-6, factors=_loss_factors(2, 2),
                   context="for y_true = [[1], [0]], y_pred = [[0.9], [0.2]]",
                   hint="Each entry costs -log(y_pred) if the label is 1 and "
                   "-log(1 - y_pred) if it is 0.")


@pytest.mark.points(2)
def test_binary_cross_entropy__matches_formula(ch02):
    y_true = (RNG.random((6, 2)) < 0.5).astype(float)
    y_pred = RNG.uniform(0.05, 0.95, size=(6, 2))
    got = fb.as_float("loss", ch02.binary_cross_entropy(y_true, y_pred), MEAN_HINT)
    fb.check_close("loss", got, _bce_oracle(y_true, y_pred), rtol=1e-6,
                   factors=_loss_factors(12, 6), context="for y of shape (6, 2)")


@pytest.mark.points(2)
def test_binary_cross_entropy__safe_at_zero_and_one(ch02):
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[1.0], [0.0], [0.0], [1.0]])
    hint = ("log(0) is -inf: clip y_pred into [eps, 1 - eps] (e.g. eps = 1e-12) "
            "before taking logs.")
    res = ch02.call("binary_cross_entropy", y_true, y_pred.copy())
    fb.check_no_warnings("binary_cross_entropy with y_pred = 0 or 1", res.warnings,
                         hint)
    loss = fb.check_finite("loss", res.value, "when y_pred is exactly 0 or 1", hint)
    fb.check_unchanged("y_pred", y_pred, res.args[1],
                       "Clip into a new array: p = np.clip(y_pred, eps, 1 - eps).")
    if not float(loss) > 2.5:
        fb.fail(
            f"Two of the four predictions are confidently wrong, so the loss must be "
            f"large (the mean of two -log(eps) terms and two ~0 terms), but you "
            f"returned {fb.show(float(loss))}. Clip with a small eps such as 1e-12, "
            "not a large one."
        )
    perfect = fb.as_float("loss", ch02.binary_cross_entropy(y_true[:2], y_pred[:2]))
    if not 0.0 <= perfect < 1e-5:
        fb.fail(f"Perfect predictions (y_pred = y_true = 0 or 1) must cost almost "
                f"nothing, but you returned {fb.show(perfect)}. {hint}")


# ---------------------------------------------------------------- softmax


@pytest.mark.points(1)
def test_softmax__hand_worked(ch02):
    fb.check_close("softmax(z)", ch02.softmax(np.array([[0.0, math.log(3.0)]])),
                   np.array([[0.25, 0.75]]), rtol=1e-9,
                   context="for z = [[0, ln 3]]")


@pytest.mark.points(2)
def test_softmax__rows_are_distributions(ch02):
    z = RNG.normal(scale=2.0, size=(4, 5))
    got = fb.check_shape("softmax(z)", ch02.softmax(z), (4, 5))
    by_column = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)
    if np.allclose(got, by_column):
        fb.fail("softmax(z) normalises the columns; each row is one example, so each "
                "row must sum to 1: sum over axis=1 with keepdims=True.")
    fb.check_close("softmax(z)", got, _softmax_oracle(z), rtol=1e-9,
                   context="for z of shape (4, 5)",
                   hint="Divide exp(z) by the sum of its row (axis=1, keepdims=True).")


@pytest.mark.points(2)
def test_softmax__large_logits_stable(ch02):
    z = np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-800.0, -801.0, -1e4]])
    hint = ("exp(1000) overflows: subtract each row's maximum from the row before "
            "exponentiating (it does not change the result).")
    res = ch02.call("softmax", z)
    fb.check_no_warnings("softmax for logits of 1e4", res.warnings, hint)
    got = fb.check_finite("softmax(z)", res.value, "for logits as large as 1e4", hint)
    fb.check_close("softmax(z)", got, _softmax_oracle(z), rtol=1e-9, atol=1e-300,
                   context="for logits as large as 1e4")


# ---------------------------------------------------------------- cross-entropy


@pytest.mark.points(1)
def test_cross_entropy_from_logits__hand_worked(ch02):
    logits = np.array([[0.0, 0.0], [math.log(3.0), 0.0]])
    labels = np.array([1, 0])
    expected = (math.log(2.0) - math.log(0.75)) / 2
    got = fb.as_float("loss", ch02.cross_entropy_from_logits(labels, logits),
                      MEAN_HINT)
    fb.check_close("loss", got, expected, rtol=1e-9, factors=_loss_factors(2, 2),
                   context="for logits [[0, 0], [ln 3, 0]] and labels [1, 0]",
                   hint="Example 1 costs log 2; example 2 costs -log(3/4).")


@pytest.mark.points(2)
def test_cross_entropy_from_logits__matches_formula(ch02):
    logits = RNG.normal(scale=2.0, size=(6, 4))
    labels = np.array([3, 0, 1, 3, 2, 0])
    got = fb.as_float("loss", ch02.cross_entropy_from_logits(labels, logits),
                      MEAN_HINT)
    fb.check_close("loss", got, _ce_oracle(labels, logits), rtol=1e-9,
                   factors=_loss_factors(6, 6),
                   context="for 6 examples and 4 classes",
                   hint="Pick each row's logit at its label: "
                   "logits[np.arange(N), y_true].")


@pytest.mark.points(2)
def test_cross_entropy_from_logits__large_logits_stable(ch02):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 5000.0, 0.0], [-1e4, -1e4, -1e4]])
    labels = np.array([1, 1, 2])
    hint = ("Use log-sum-exp: m + log(sum(exp(z - m))) with m the row maximum; "
            "never take log(softmax(z)) directly.")
    res = ch02.call("cross_entropy_from_logits", labels, logits)
    fb.check_no_warnings("cross_entropy_from_logits for logits of 1e4",
                         res.warnings, hint)
    loss = fb.check_finite("loss", res.value, "for logits as large as 1e4", hint)
    fb.check_close("loss", fb.as_float("loss", loss), _ce_oracle(labels, logits),
                   rtol=1e-9, factors=_loss_factors(3, 3),
                   context="for logits as large as 1e4")
