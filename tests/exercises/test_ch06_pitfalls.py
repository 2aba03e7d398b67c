"""Graded tests for chapter 6: initialisers, clipping, dead units, dropout, train/eval.

Oracles: statistics of large random draws (tolerances of six standard
errors for the sample size used: a correct answer fails with probability
below 1e-8, and the seeds are fixed anyway), hand-worked numbers, the global
norm computed entry by entry, dropout's mask read back from the output (the
inputs have no zeros, so ``M = Y / X``), and gradient descent on a linear
layer worked out here in closed form for ``train``. The learner's layers of
chapters 1-5 come from the reference files when those exist.

``Rng(seed)`` stands for a fresh ``np.random.default_rng(seed)`` in the
student's worker (see ``course_lib.grading.checking.remote.Rng``).
"""

import math

import numpy as np
import pytest
from engine_io import cached, read_dict, set_params

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

# ---------------------------------------------------------------- initialisation

STD_RULE = ("A normal distribution is given by its standard deviation, the square "
            "root of its variance. He: variance 2 / n_in. Xavier: uniform on [-a, a] "
            "with a = sqrt(6 / (n_in + n_out)), so variance 2 / (n_in + n_out).")


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
                f"here (you are {ratio:.3g} times that). Check which fan the formula "
                "uses and whether you drew with a variance where a standard "
                "deviation belongs.", rule=STD_RULE)


@pytest.mark.points(1)
def test_he_init__shape(ch06):
    fb.check_shape("W", ch06.he_init(7, 3, Rng(0)), (7, 3),
                   "W has shape (n_in, n_out), like a Dense layer's W.")


@pytest.mark.points(2)
def test_he_init__normal_statistics(ch06):
    n_in, n_out = 500, 400
    W = fb.check_shape("W", ch06.he_init(n_in, n_out, Rng(1)), (n_in, n_out))
    _check_mean_std("W", W, math.sqrt(2.0 / n_in), "He's sqrt(2 / n_in)")
    kurt = _moments(W)[2]
    if abs(kurt - 3.0) > 6 * math.sqrt(24.0 / W.size):
        fb.fail(f"W does not look normally distributed (kurtosis {kurt:.3g}; a "
                "normal distribution has 3).")


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
                   "W has shape (n_in, n_out), like a Dense layer's W.")


@pytest.mark.points(2)
def test_xavier_init__uniform_bounds_and_variance(ch06):
    n_in, n_out = 300, 500
    a = math.sqrt(6.0 / (n_in + n_out))
    W = fb.check_shape("W", ch06.xavier_init(n_in, n_out, Rng(5)),
                       (n_in, n_out))
    biggest = float(np.abs(W).max())
    # among 150000 uniform draws the largest |w| is within 1e-3 a of a
    # except with probability (1 - 1e-3) ** 150000 < 1e-60.
    if biggest > a * (1 + 1e-12) or biggest < a * (1 - 1e-3):
        fb.fail(f"Xavier uniform weights fill [-a, a] with a = sqrt(6 / (n_in + "
                f"n_out)) = {a:.4g} for n_in = {n_in}, n_out = {n_out}; your "
                f"largest |w| is {biggest:.4g}. The bound uses both the fan-in and "
                "the fan-out.", rule=STD_RULE)
    _check_mean_std("W", W, a / math.sqrt(3.0),
                    "Xavier's a / sqrt(3) = sqrt(2 / (n_in + n_out))")
    kurt = _moments(W)[2]
    # (mu8 - mu4**2) / sigma**8 = 5.76 for a uniform law bounds the variance
    if abs(kurt - 1.8) > 6 * math.sqrt(5.76 / W.size):
        fb.fail(f"W does not look uniformly distributed (kurtosis {kurt:.3g}; a "
                "uniform distribution has 1.8).")


# ---------------------------------------------------------------- clipping

CLIP_RULE = ("norm = sqrt(sum of the squares of every entry of every gradient); if "
             "norm > max_norm, multiply every gradient by max_norm / norm, in place; "
             "return norm.")


def _grads():
    rng = np.random.default_rng(61)
    return {"0.W": rng.normal(size=(3, 3)), "0.b": rng.normal(size=3),
            "2.W": rng.normal(size=(3, 2))}


def _global_norm(grads):
    return math.sqrt(sum(float(v) ** 2 for g in grads.values() for v in g.ravel()))


def _clip(ch06, grads, max_norm):
    """(the grads as the learner's function left them, the returned norm)."""
    res = ch06.call("clip_by_global_norm", {k: v.copy() for k, v in grads.items()},
                    max_norm)
    after = res.args[0]
    if not isinstance(after, dict) or sorted(after) != sorted(grads):
        fb.fail("clip_by_global_norm must keep the keys of the dict it is given.")
    norm = fb.as_float("the returned norm", res.value,
                       "Return the global norm before clipping, a float.")
    return {k: fb.as_array(f"grads['{k}']", v) for k, v in after.items()}, norm


@pytest.mark.points(2)
def test_clip_by_global_norm__scales_all_by_one_factor(ch06):
    grads = _grads()
    total = _global_norm(grads)
    after, norm = _clip(ch06, grads, 1.0)
    if all(np.array_equal(after[k], g) for k, g in grads.items()):
        fb.fail(f"The gradients (global norm {total:.4g}) were not changed in place "
                "with max_norm = 1: clipping works on the arrays it is given, which "
                "in train are the layers' own gradients (returning new ones does "
                "not reach the optimizer).", rule=CLIP_RULE)
    per_tensor = {k: g * min(1.0, 1.0 / np.linalg.norm(g)) for k, g in grads.items()}
    if all(np.allclose(after[k], per_tensor[k]) for k in grads):
        fb.fail("You clipped each gradient by its own norm; the global norm treats "
                "all of them as one long vector, and every gradient is scaled by "
                "the same factor.", rule=CLIP_RULE)
    fb.check_close("the returned norm", norm, total, rtol=1e-9,
                   context="(the global norm before clipping)", rule=CLIP_RULE)
    for key, g in grads.items():
        fb.check_close(f"grads['{key}'] after clipping", after[key], g / total,
                       rtol=1e-9, context=f"(global norm {total:.4g}, max_norm 1)",
                       rule=CLIP_RULE)


@pytest.mark.points(1)
def test_clip_by_global_norm__hand_worked(ch06):
    after, norm = _clip(ch06, {"a": np.array([3.0]), "b": np.array([[4.0]])}, 1.0)
    fb.check_close("the returned norm", norm, 5.0, rtol=1e-12,
                   context="for gradients [3] and [[4]]",
                   hint="The global norm is taken before clipping.")
    fb.check_close("grads['a']", after["a"], np.array([0.6]), rtol=1e-12,
                   rule=CLIP_RULE)
    fb.check_close("grads['b']", after["b"], np.array([[0.8]]), rtol=1e-12,
                   rule=CLIP_RULE)


@pytest.mark.points(1)
def test_clip_by_global_norm__small_gradients_unchanged(ch06):
    grads = _grads()
    total = _global_norm(grads)
    after, norm = _clip(ch06, grads, 2 * total)
    fb.check_close("the returned norm", norm, total, rtol=1e-9,
                   context="(the global norm before clipping)")
    for key, g in grads.items():
        fb.check_close(f"grads['{key}']", after[key], g, rtol=1e-12,
                       context=f"when the global norm {total:.4g} is below max_norm "
                       f"{2 * total:.4g}",
                       hint="Clipping only ever shortens a step that is too long; "
                       "a shorter one is left as it is.", rule=CLIP_RULE)


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
                "pre-activation is exactly 0 outputs 0 and gets no gradient either.")
    if math.isclose(got, 1.0):
        fb.fail("You looked along the wrong axis: units are columns, and a unit is "
                "dead when its whole column is <= 0.")
    if math.isclose(got, float(np.mean(Z <= 0))):
        fb.fail("You returned the fraction of entries that are <= 0; a unit is dead "
                "only when it is <= 0 for every example in the batch.")
    fb.check_close("fraction", got, 3 / 8, rtol=1e-9,
                   context="for Z of shape (5, 8) with 3 dead units")


# ---------------------------------------------------------------- Dropout

DROPOUT_RULE = ("Training mode: M = 1[u >= p] / (1 - p) with u uniform on [0, 1), a "
                "new draw per forward, Y = X * M; evaluation mode: M = 1, Y = X; "
                "backward: dX = dY * M with the M of the last forward.")


def _positive(shape, seed):
    """Inputs without zeros, so that the mask is Y / X."""
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=shape)


def _set_training(layer, flag):
    layer.call("__setattr__", "training", flag)


def _forward(layer, X):
    return fb.check_shape("Y", layer.forward(X), X.shape)


@pytest.mark.points(2)
def test_Dropout_forward__inverted_mask_in_training(ch06):
    p = 0.3
    X = _positive((40, 50), 63)
    Y = _forward(ch06.Dropout(p, seed=1), X)
    M = Y / X
    values = np.unique(np.round(M, 12))
    if np.all(M == 1):
        fb.fail("In training mode (the layer's start) your Dropout returned X "
                "unchanged: it must drop entries.", rule=DROPOUT_RULE)
    if set(values.tolist()) <= {0.0, 1.0}:
        fb.fail("The kept entries are not rescaled: inverted dropout multiplies "
                f"them by 1 / (1 - p) = {1 / (1 - p):.4g} so that the expected "
                "output equals X.", rule=DROPOUT_RULE)
    if not np.allclose(np.sort(values), [0.0, 1.0 / (1.0 - p)]):
        fb.fail(f"Y / X must hold only 0 (dropped) and 1 / (1 - p) = "
                f"{1 / (1 - p):.4g} (kept); yours holds {fb.show(values)}.",
                rule=DROPOUT_RULE)


@pytest.mark.points(1)
def test_Dropout_forward__drop_rate_is_p(ch06):
    p = 0.25
    X = np.ones((200, 300))
    Y = _forward(ch06.Dropout(p, seed=2), X)
    dropped = float(np.mean(Y == 0))
    tol = 6 * math.sqrt(p * (1 - p) / X.size)
    if abs(dropped - (1 - p)) < tol:
        fb.fail(f"You drop a fraction {dropped:.3f} of the entries, about 1 - p: p is "
                "the probability of dropping an entry, not of keeping it.")
    if abs(dropped - p) > tol:
        fb.fail(f"With p = {p} about {p:.0%} of the entries must be dropped; you "
                f"dropped {dropped:.2%}.")
    mean_out = float(np.mean(Y))
    if abs(mean_out - 1.0) > 6 * math.sqrt(p / (1 - p) / X.size):
        fb.fail(f"For X of ones the mean output must stay about 1 (inverted "
                f"dropout keeps expectations); yours is {mean_out:.4g}.",
                rule=DROPOUT_RULE)


@pytest.mark.points(2)
def test_Dropout_forward__identity_in_evaluation_mode(ch06):
    X = _positive((6, 8), 64)
    layer = ch06.Dropout(0.5, seed=3)
    if np.array_equal(_forward(layer, X), X):
        fb.fail("In training mode (training = True) your Dropout returned X "
                "unchanged: it must drop entries.", rule=DROPOUT_RULE)
    _set_training(layer, False)
    fb.check_close("Y", _forward(layer, X), X, rtol=1e-12, atol=0,
                   context="in evaluation mode (training = False)",
                   hint="At test time inverted dropout does nothing: the training "
                   "mode's scaling already keeps the expectations right.",
                   rule=DROPOUT_RULE)
    _set_training(layer, True)
    if np.array_equal(_forward(layer, X), X):
        fb.fail("After training was set back to True your Dropout no longer drops "
                "entries: read the flag at every forward.", rule=DROPOUT_RULE)


@pytest.mark.points(1)
def test_Dropout_forward__seeded_and_new_mask_each_call(ch06):
    X = _positive((10, 20), 65)
    a, b = ch06.Dropout(0.5, seed=7), ch06.Dropout(0.5, seed=7)
    Ya, Yb = _forward(a, X), _forward(b, X)
    Yc = _forward(ch06.Dropout(0.5, seed=8), X)
    if not np.array_equal(Ya, Yb) or np.array_equal(Ya, Yc):
        fb.fail("Dropout must draw its masks from its own generator self.rng (made "
                "from the seed), so that the same seed gives the same mask and "
                "another seed another one.")
    if np.array_equal(_forward(a, X), Ya):
        fb.fail("Two forward passes in training mode used the same mask: draw a new "
                "one at every call.", rule=DROPOUT_RULE)


def _mask(shape, p, seed):
    """A dropout mask: 0 with probability p, else 1 / (1 - p)."""
    keep = np.random.default_rng(seed).random(shape) >= p
    return keep / (1.0 - p)


@pytest.mark.points(2)
def test_Dropout_backward__routes_through_the_mask(ch06):
    M = _mask((8, 9), 0.4, 66)
    dY = np.random.default_rng(67).normal(size=M.shape)
    layer = ch06.Dropout(0.4, seed=4)
    layer.call("__setattr__", "mask", M)        # as a forward pass would leave it
    dX = fb.check_shape("dX", layer.backward(dY), dY.shape)
    if np.array_equal(dX, dY):
        fb.fail("backward returned dY unchanged: the entries that forward dropped "
                "pass no gradient, the kept ones pass it scaled like the forward.",
                rule=DROPOUT_RULE)
    if np.allclose(dX, dY * (M != 0)):
        fb.fail("backward zeroes the dropped entries but does not scale the kept "
                "ones: the forward multiplied them by 1 / (1 - p), so does the "
                "gradient.", rule=DROPOUT_RULE)
    agree = np.isclose(dX, dY * M)
    if np.mean(agree) < 0.9:
        fb.fail(f"dX follows another mask than the forward's (it agrees with dY * "
                f"mask on {np.mean(agree):.0%} of the entries): use the mask the "
                "forward pass kept in self.mask, do not draw a new one.",
                rule=DROPOUT_RULE)
    fb.check_close("dX", dX, dY * M, rtol=1e-12, atol=1e-15,
                   context="(dY times the mask kept by the forward pass)",
                   rule=DROPOUT_RULE)


@pytest.mark.points(1)
def test_Dropout_backward__after_a_forward(ch06):
    X = _positive((5, 6), 68)
    dY = np.random.default_rng(69).normal(size=X.shape)
    layer = ch06.Dropout(0.5, seed=5)
    layer.forward(X)
    M = cached(layer, "mask")
    if M is None:
        fb.fail("After a forward pass the layer has no self.mask: forward keeps its "
                "mask there for backward.", rule=DROPOUT_RULE)
    M = fb.check_shape("self.mask", M, X.shape)
    fb.check_close("dX", layer.backward(dY), dY * M, rtol=1e-12, atol=1e-15,
                   context="(dY times the mask the forward pass kept)",
                   rule=DROPOUT_RULE)


# ---------------------------------------------------------------- train and evaluate

TRAIN_RULE = ("Training mode first (every layer's training flag on); one generator "
              "from the seed; per batch the forward pass, the loss, the backward pass, "
              "then, when clip is given, the model's gradients scaled in place to that "
              "global norm, then the optimizer's step.")


def _linear_case(seed):
    """A Dense(3, 3) with known parameters, data and targets of 3 outputs."""
    rng = np.random.default_rng(600 + seed)
    X = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 3))
    W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    return X, y, W, b


def _linear_model(ch06, W, b, seed=0, extra=()):
    layer = ch06.Dense(3, 3, seed=seed)
    set_params(layer, W=W, b=b)
    return ch06.Sequential([layer, *extra]), layer


def _gd_linear(X, y, W, b, lr, batches, clip=None):
    """Gradient descent on MSE of Y = X W + b, in closed form; losses before steps."""
    W, b = W.copy(), b.copy()
    losses = []
    for idx in batches:
        Xb, yb = X[idx], y[idx]
        E = Xb @ W + b - yb
        losses.append((float(np.mean(E**2)), len(idx)))
        dY = 2.0 * E / E.size
        dW, db = Xb.T @ dY, dY.sum(axis=0)
        norm = math.sqrt(float(np.sum(dW**2) + np.sum(db**2)))
        scale = clip / norm if clip is not None and norm > clip else 1.0
        W, b = W - lr * scale * dW, b - lr * scale * db
    return W, b, losses


def _trained_params(layer):
    return read_dict(layer, "params", ("W", "b"), "the Dense layer")


@pytest.mark.points(2)
def test_train__clips_every_step(ch06):
    X, y, W, b = _linear_case(1)
    model, layer = _linear_model(ch06, W, b)
    got = ch06.train(model, ch06.MSE(), ch06.SGD(0.1), X, y, 3, 6, 0, 0.5)
    W_want, b_want, losses = _gd_linear(X, y, W, b, 0.1, [np.arange(6)] * 3, 0.5)
    W_free = _gd_linear(X, y, W, b, 0.1, [np.arange(6)] * 3)[0]
    p = _trained_params(layer)
    if np.allclose(p["W"], W_free, rtol=1e-9):
        fb.fail("With clip=0.5 your train took the full gradient steps: clip "
                "model.grads (the layers' own arrays) after each backward pass, "
                "before the step.", rule=TRAIN_RULE)
    fb.check_close("W after training", p["W"], W_want, rtol=1e-9, atol=1e-12,
                   context="(3 full-batch SGD steps, lr 0.1, each clipped to global "
                   "norm 0.5)", rule=TRAIN_RULE)
    fb.check_close("b after training", p["b"], b_want, rtol=1e-9, atol=1e-12,
                   rule=TRAIN_RULE)
    if not isinstance(got, list | tuple):
        fb.fail(f"train must return the list of the epochs' losses; got "
                f"{fb.describe_type(got)}.")
    fb.check_close("the epochs' losses", np.asarray(got, dtype=float),
                   [ls for ls, _ in losses], rtol=1e-9,
                   context="(each taken before that epoch's step)", rule=TRAIN_RULE)


@pytest.mark.points(1)
def test_train__without_clip_is_chapter_5s_loop(ch06):
    X, y, W, b = _linear_case(2)
    model, layer = _linear_model(ch06, W, b)
    got = ch06.train(model, ch06.MSE(), ch06.SGD(0.05), X, y, 2, 4, 7)
    rng = np.random.default_rng(7)
    batches = []
    for _ in range(2):
        order = rng.permutation(6)
        batches += [order[:4], order[4:]]
    W_want, _, losses = _gd_linear(X, y, W, b, 0.05, batches)
    fb.check_close("W after training", _trained_params(layer)["W"], W_want,
                   rtol=1e-9, atol=1e-12,
                   context="(2 epochs of batches of 4 and 2, seed 7, no clipping)",
                   rule=TRAIN_RULE)
    want = [(losses[0][0] * 4 + losses[1][0] * 2) / 6,
            (losses[2][0] * 4 + losses[3][0] * 2) / 6]
    if not isinstance(got, list | tuple):
        fb.fail(f"train must return the list of the epochs' losses; got "
                f"{fb.describe_type(got)}.")
    fb.check_close("the epochs' losses", np.asarray(got, dtype=float), want,
                   rtol=1e-9, context="(size-weighted means of the batch losses)",
                   rule=TRAIN_RULE)


@pytest.mark.points(1)
def test_train__switches_to_training_mode(ch06):
    X, y, W, b = _linear_case(3)
    drop = ch06.Dropout(0.5, seed=0)
    model, _ = _linear_model(ch06, W, b, extra=[drop])
    model.eval()
    ch06.train(model, ch06.MSE(), ch06.SGD(0.01), X, y, 1, 6, 0)
    if cached(drop, "training") is not True:
        fb.fail("After train the model's Dropout layer is not in training mode: a "
                "model evaluated before training (model.eval()) would train "
                "without dropout. Switch the model to training mode at the start "
                "of train.", rule=TRAIN_RULE)


EVAL_RULE = ("Evaluation mode first (every layer's training flag off), then the loss "
             "of one forward pass on X.")


@pytest.mark.points(2)
def test_evaluate__loss_in_evaluation_mode(ch06):
    X, y, W, b = _linear_case(4)
    model, layer = _linear_model(ch06, W, b)
    got = fb.as_float("the loss", ch06.evaluate(model, ch06.MSE(), X, y))
    fb.check_close("the loss", got, float(np.mean((X @ W + b - y) ** 2)),
                   rtol=1e-12, context="(MSE of a linear layer on 6 examples)",
                   rule=EVAL_RULE)
    if cached(layer, "training") is not False:
        fb.fail("After evaluate the model is not in evaluation mode (its layers' "
                "training flag is not False): a Dropout layer would still drop "
                "units while you measure.", rule=EVAL_RULE)


@pytest.mark.points(1)
def test_evaluate__dropout_is_off(ch06):
    X, y, W, b = _linear_case(5)
    model, _ = _linear_model(ch06, W, b, extra=[ch06.Dropout(0.5, seed=1)])
    want = float(np.mean((X @ W + b - y) ** 2))
    got = [fb.as_float("the loss", ch06.evaluate(model, ch06.MSE(), X, y))
           for _ in range(2)]
    fb.check_close("the loss", got[0], want, rtol=1e-12,
                   context="(a model with Dropout(0.5): evaluation turns it off)",
                   rule=EVAL_RULE)
    fb.check_close("the loss of a second evaluation", got[1], want, rtol=1e-12,
                   rule=EVAL_RULE)
