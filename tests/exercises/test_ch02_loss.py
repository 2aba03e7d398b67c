"""Graded tests for chapter 2: the engine's losses and their gradients.

Oracles: hand-worked values, the formulas evaluated entry by entry with the
``math`` module, and centred finite differences of those formulas for every
``grad`` (``oracles.py``, asked through ``expected``: a bundle holds their
values, not their code). Every random input comes from a generator seeded in
its own test, so a test run alone asks for the same values as the whole file.
"""

import math

import numpy as np
import pytest
from expected import expected

from course_lib.grading.checking import feedback as fb

MEAN_HINT = "The course's losses are the mean over every entry, not the sum."


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


# ---------------------------------------------------------------- MSE

MSE_RULE = ("L = (1 / (N K)) sum over all entries of (y_pred - y_true)^2, and "
            "dL/dy_pred = 2 (y_pred - y_true) / (N K).")


@pytest.mark.points(1)
def test_MSE_loss__hand_worked(ch02):
    y_true, y_pred = np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]])
    got = fb.as_float("loss", ch02.MSE().loss(y_true, y_pred))
    fb.check_close("loss", got, 0.125, rtol=1e-12, factors=_loss_factors(2, 2),
                   context="for two examples with one output each",
                   hint="Square each difference, then take the mean.",
                   rule=MSE_RULE)


@pytest.mark.points(2)
def test_MSE_loss__mean_over_all_entries(ch02):
    rng = np.random.default_rng(2021)
    y_true, y_pred = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    got = fb.as_float("loss", ch02.MSE().loss(y_true, y_pred), MEAN_HINT)
    want = expected("ch02", "MSE_loss", "random (5, 3)", y_true, y_pred)
    fb.check_close("loss", got, want, rtol=1e-9,
                   factors=_loss_factors(15, 5), context="for y of shape (5, 3)",
                   rule=MSE_RULE)


MSE_GRAD_FACTORS = {
    0.5: "the gradient is off by a factor of 2: d/dy of (y - t)^2 is 2 (y - t).",
    12.0: "the gradient is 12 times too large (12 entries): the mean's 1/(N K) "
    "carries over to the gradient.",
    -1.0: "the sign is flipped: differentiate with respect to y_pred.",
}


@pytest.mark.points(2)
def test_MSE_grad__matches_finite_differences(ch02):
    rng = np.random.default_rng(2022)
    y_true, y_pred = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    want = expected("ch02", "MSE_grad", "random (4, 3)", y_true, y_pred)
    fb.check_close("dY", ch02.MSE().grad(y_true, y_pred), want, rtol=1e-5,
                   atol=1e-8, factors=MSE_GRAD_FACTORS,
                   context="(compared with finite differences of the MSE)",
                   hint="The gradient has one entry per prediction.", rule=MSE_RULE)


# ---------------------------------------------------------------- BCE

BCE_RULE = ("L = -mean(y log p + (1 - y) log(1 - p)) with p = y_pred clipped into "
            "[eps, 1 - eps].")
BCE_GRAD_RULE = ("dL/dp = (p - y) / (p (1 - p)) / (N K), with p clipped into "
                 "[eps, 1 - eps].")


@pytest.mark.points(1)
def test_BinaryCrossEntropy_loss__hand_worked(ch02):
    y_true = np.array([[1.0], [0.0]])
    y_pred = np.array([[0.9], [0.2]])
    want = -(math.log(0.9) + math.log(0.8)) / 2
    got = fb.as_float("loss", ch02.BinaryCrossEntropy().loss(y_true, y_pred),
                      MEAN_HINT)
    fb.check_close("loss", got, want, rtol=1e-6, factors=_loss_factors(2, 2),
                   context="for two examples with one output each",
                   hint="An example labelled 1 costs -log(y_pred); one labelled 0 "
                   "costs -log(1 - y_pred).", rule=BCE_RULE)


@pytest.mark.points(2)
def test_BinaryCrossEntropy_loss__matches_formula(ch02):
    rng = np.random.default_rng(2023)
    y_true = (rng.random((6, 2)) < 0.5).astype(float)
    y_pred = rng.uniform(0.05, 0.95, size=(6, 2))
    got = fb.as_float("loss", ch02.BinaryCrossEntropy().loss(y_true, y_pred),
                      MEAN_HINT)
    want = expected("ch02", "BinaryCrossEntropy_loss", "random (6, 2)", y_true,
                    y_pred)
    fb.check_close("loss", got, want, rtol=1e-6,
                   factors=_loss_factors(12, 6), context="for y of shape (6, 2)",
                   rule=BCE_RULE)


@pytest.mark.points(2)
def test_BinaryCrossEntropy_loss__safe_at_zero_and_one(ch02):
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[1.0], [0.0], [0.0], [1.0]])
    hint = "log(0) is -inf: a prediction of exactly 0 or 1 must not reach the log."
    bce = ch02.BinaryCrossEntropy()
    res = bce.call("loss", y_true, y_pred.copy())
    with fb.with_rule("Clip y_pred into [eps, 1 - eps] (eps = self.eps) in a new "
                      "array before taking logs."):
        fb.check_no_warnings("loss with y_pred = 0 or 1", res.warnings, hint)
        loss = fb.check_finite("loss", res.value, "when y_pred is exactly 0 or 1",
                               hint)
        fb.check_unchanged("y_pred", y_pred, res.args[1],
                           "Clip into a new array, not into y_pred itself.")
        if not float(loss) > 2.5:
            fb.fail(f"Two of the four predictions are confidently wrong, so the "
                    f"loss must be large (two -log(eps) terms), but you returned "
                    f"{fb.show(float(loss))}. Is the clipping margin much larger "
                    "than eps?")
        perfect = fb.as_float("loss", bce.loss(y_true[:2], y_pred[:2]))
        if not 0.0 <= perfect < 1e-5:
            fb.fail(f"Perfect predictions (y_pred = y_true = 0 or 1) must cost "
                    f"almost nothing, but you returned {fb.show(perfect)}.")


@pytest.mark.points(2)
def test_BinaryCrossEntropy_grad__matches_finite_differences(ch02):
    rng = np.random.default_rng(2024)
    y_true = (rng.random((5, 2)) < 0.5).astype(float)
    y_pred = rng.uniform(0.1, 0.9, size=(5, 2))
    want = expected("ch02", "BinaryCrossEntropy_grad", "random (5, 2)", y_true,
                    y_pred)
    fb.check_close("dY", ch02.BinaryCrossEntropy().grad(y_true, y_pred), want,
                   rtol=1e-5, atol=1e-8, factors={
                       10.0: "the gradient is 10 times too large (10 entries): the "
                       "mean's 1/(N K) carries over to the gradient.",
                       -1.0: "the sign is flipped: raising a prediction towards its "
                       "label must lower the loss."},
                   context="(compared with finite differences of the log-loss)",
                   hint="Differentiate each entry's term with respect to its own "
                   "prediction.", rule=BCE_GRAD_RULE)


@pytest.mark.points(1)
def test_BinaryCrossEntropy_grad__finite_at_zero_and_one(ch02):
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[1.0], [0.0], [0.0], [1.0]])
    res = ch02.BinaryCrossEntropy().call("grad", y_true, y_pred)
    hint = "1 / (p (1 - p)) is infinite at p = 0 and p = 1."
    with fb.with_rule(BCE_GRAD_RULE):
        fb.check_no_warnings("grad with y_pred = 0 or 1", res.warnings, hint)
        got = fb.check_finite("dY", res.value, "when y_pred is exactly 0 or 1", hint)
        got = fb.check_shape("dY", got, (4, 1))
        if not (got[2, 0] < -1e6 and got[3, 0] > 1e6 and abs(got[0, 0]) < 1):
            fb.fail("For confidently wrong predictions the gradient must be huge "
                    "and point towards the label (negative where the label is 1, "
                    f"positive where it is 0); received {fb.show(got.ravel())}.")


# ---------------------------------------------------------------- softmax


@pytest.mark.points(1)
def test_softmax__hand_worked(ch02):
    fb.check_close("softmax(z)", ch02.softmax(np.array([[0.0, math.log(3.0)]])),
                   np.array([[0.25, 0.75]]), rtol=1e-9,
                   context="for two logits that differ by ln 3",
                   rule="softmax(z)_j = e^(z_j) / sum_k e^(z_k), row by row.")


@pytest.mark.points(2)
def test_softmax__rows_are_distributions(ch02):
    z = np.random.default_rng(2025).normal(scale=2.0, size=(4, 5))
    got = fb.check_shape("softmax(z)", ch02.softmax(z), (4, 5))
    by_column = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)
    if np.allclose(got, by_column):
        fb.fail("softmax(z) normalises the columns; each row is one example, so each "
                "row must sum to 1.",
                rule="Sum over axis 1 (the classes), keeping the dimension so that "
                "the division broadcasts row by row.")
    fb.check_close("softmax(z)", got,
                   expected("ch02", "softmax", "random (4, 5)", z), rtol=1e-9,
                   context="for z of shape (4, 5)",
                   hint="Each row must be non-negative and sum to 1.",
                   rule="softmax(z)_ij = e^(z_ij) / sum_k e^(z_ik).")


@pytest.mark.points(2)
def test_softmax__large_logits_stable(ch02):
    z = np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-800.0, -801.0, -1e4]])
    hint = "exp(1000) overflows a float."
    res = ch02.call("softmax", z)
    with fb.with_rule("softmax(z) = softmax(z - c) for any constant c per row: "
                      "subtract the row's maximum before exponentiating."):
        fb.check_no_warnings("softmax for logits of 1e4", res.warnings, hint)
        got = fb.check_finite("softmax(z)", res.value, "for logits as large as 1e4",
                              hint)
        fb.check_close("softmax(z)", got,
                       expected("ch02", "softmax", "logits of 1e4", z), rtol=1e-9,
                       atol=1e-300, context="for logits as large as 1e4")


# ---------------------------------------------------------------- cross-entropy

CE_RULE = ("L = mean over examples of (log sum_c e^(z_ic) - z_(i, y_i)), with the "
           "log-sum-exp computed as m + log sum_c e^(z_ic - m), m the row maximum.")
CE_GRAD_RULE = "dL/dz_ic = (softmax(z)_ic - [c == y_i]) / N."


@pytest.mark.points(1)
def test_SoftmaxCrossEntropy_loss__hand_worked(ch02):
    logits = np.array([[0.0, 0.0], [math.log(3.0), 0.0]])
    labels = np.array([1, 0])
    want = (math.log(2.0) - math.log(0.75)) / 2
    got = fb.as_float("loss", ch02.SoftmaxCrossEntropy().loss(labels, logits),
                      MEAN_HINT)
    fb.check_close("loss", got, want, rtol=1e-9, factors=_loss_factors(2, 2),
                   context="for two examples and two classes",
                   hint="Each example costs minus the log of the probability its "
                   "softmax gives to its label.", rule=CE_RULE)


@pytest.mark.points(2)
def test_SoftmaxCrossEntropy_loss__matches_formula(ch02):
    logits = np.random.default_rng(2026).normal(scale=2.0, size=(6, 4))
    labels = np.array([3, 0, 1, 3, 2, 0])
    got = fb.as_float("loss", ch02.SoftmaxCrossEntropy().loss(labels, logits),
                      MEAN_HINT)
    want = expected("ch02", "SoftmaxCrossEntropy_loss", "random (6, 4)", labels,
                    logits)
    fb.check_close("loss", got, want, rtol=1e-9,
                   factors=_loss_factors(6, 6),
                   context="for 6 examples and 4 classes",
                   hint="Row i contributes through the logit of its own label.",
                   rule=CE_RULE)


@pytest.mark.points(2)
def test_SoftmaxCrossEntropy_loss__large_logits_stable(ch02):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 5000.0, 0.0], [-1e4, -1e4, -1e4]])
    labels = np.array([1, 1, 2])
    hint = "log(softmax(z)) underflows to log(0) and exp(1e4) overflows."
    res = ch02.SoftmaxCrossEntropy().call("loss", labels, logits)
    with fb.with_rule(CE_RULE):
        fb.check_no_warnings("loss for logits of 1e4", res.warnings, hint)
        loss = fb.check_finite("loss", res.value, "for logits as large as 1e4", hint)
        want = expected("ch02", "SoftmaxCrossEntropy_loss", "logits of 1e4",
                        labels, logits)
        fb.check_close("loss", fb.as_float("loss", loss), want,
                       rtol=1e-9, factors=_loss_factors(3, 3),
                       context="for logits as large as 1e4")


@pytest.mark.points(2)
def test_SoftmaxCrossEntropy_grad__matches_finite_differences(ch02):
    logits = np.random.default_rng(2027).normal(scale=1.5, size=(5, 3))
    labels = np.array([2, 0, 1, 1, 0])
    want = expected("ch02", "SoftmaxCrossEntropy_grad", "random (5, 3)", labels,
                    logits)
    fb.check_close("dY", ch02.SoftmaxCrossEntropy().grad(labels, logits), want,
                   rtol=1e-5, atol=1e-8, factors={
                       5.0: "the gradient is 5 times too large (5 examples): the "
                       "mean's 1/N carries over to the gradient.",
                       -1.0: "the sign is flipped: raising the logit of the true "
                       "class must lower the loss."},
                   context="(compared with finite differences of the loss)",
                   hint="Every logit of a row moves the loss, not only the true "
                   "class's.", rule=CE_GRAD_RULE)


@pytest.mark.points(1)
def test_SoftmaxCrossEntropy_grad__large_logits_stable(ch02):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]])
    labels = np.array([1, 2])
    res = ch02.SoftmaxCrossEntropy().call("grad", labels, logits)
    want = np.array([[1.0, -1.0, 0.0], [1 / 3, 1 / 3, -2 / 3]]) / 2
    with fb.with_rule(CE_GRAD_RULE):
        fb.check_no_warnings("grad for logits of 1e4", res.warnings,
                             "exp(1e4) overflows a float.")
        fb.check_close("dY", res.value, want, rtol=1e-9, atol=1e-12,
                       context="for logits as large as 1e4",
                       hint="Each row of the gradient sums to 0.")
