"""Graded tests for chapter 5: mini-batches, optimizers, schedules (22 points).

Oracles: rows labelled by their own index (so a batch shows which examples it
holds and whether inputs stayed with their targets), the update formulas as
written in the docstrings, iterated here, and hand-worked sequences.

``Rng(seed)`` stands for a fresh ``np.random.default_rng(seed)`` in the
student's worker (see ``course_lib.grading.checking.remote.Rng``).
"""

import math

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import RemoteObject, Rng, StudentError

# ---------------------------------------------------------------- minibatches


def _collect(ch05, X, y, batch_size, seed):
    """Every (X_batch, y_batch) that the student's iterator yields, in order."""
    out = ch05.iterate_minibatches(X, y, batch_size, Rng(seed))
    limit = X.shape[0] + 5
    if isinstance(out, list | tuple):
        batches = list(out)
    elif isinstance(out, RemoteObject):
        it = out.call("__iter__").value
        batches = []
        while len(batches) <= limit:
            try:
                batches.append(it.call("__next__").value)
            except StudentError as exc:
                if exc.is_a("StopIteration"):
                    break
                raise
    else:
        fb.fail("iterate_minibatches must yield (X_batch, y_batch) pairs (use "
                f"`yield` in a loop); it returned {fb.describe_type(out)}.")
    if len(batches) > X.shape[0]:
        fb.fail(f"iterate_minibatches yielded more than {X.shape[0]} batches for "
                f"{X.shape[0]} examples: one pass must cover each example once.")
    for b in batches:
        fb.unpack("each batch", b, 2, ("X_batch", "y_batch"))
    return [(fb.as_array("X_batch", xb), fb.as_array("y_batch", yb))
            for xb, yb in batches]


def _labelled(n, d=3):
    """Row i of X is i + [0, 0.1, 0.2, ...]; y[i] = i."""
    X = np.arange(n, dtype=float)[:, None] + 0.1 * np.arange(d)[None, :]
    return X, np.arange(n)


@pytest.mark.points(2)
def test_iterate_minibatches__covers_every_example_once(ch05):
    X, y = _labelled(10)
    batches = _collect(ch05, X, y, 4, seed=0)
    seen = np.concatenate([yb.ravel() for _, yb in batches]) if batches else []
    if sorted(seen.tolist() if len(seen) else []) != list(range(10)):
        fb.fail(f"One pass over 10 examples with batch_size=4 must yield every "
                f"example exactly once; the targets you yielded were "
                f"{fb.show(np.asarray(seen))}. Take one permutation of the indices "
                "and slice it.")
    sizes = [len(yb) for _, yb in batches]
    if sizes != [4, 4, 2]:
        fb.fail(f"Batch sizes for N=10, batch_size=4 must be [4, 4, 2], got {sizes}.")


@pytest.mark.points(2)
def test_iterate_minibatches__inputs_stay_with_targets(ch05):
    X, y = _labelled(12, d=2)
    for xb, yb in _collect(ch05, X, y, 5, seed=1):
        fb.check_shape("X_batch", xb, (len(yb), 2))
        if not np.array_equal(np.round(xb[:, 0]).astype(int), yb.astype(int)):
            fb.fail("An input is paired with another example's target (X_batch rows "
                    f"{fb.show(xb[:, 0])}, y_batch {fb.show(yb)}): index X and y "
                    "with the same permutation, not two separate shuffles.")


@pytest.mark.points(1)
def test_iterate_minibatches__shuffled_and_reproducible(ch05):
    X, y = _labelled(50, d=1)
    order_a = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=3)])
    order_b = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=3)])
    order_c = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=4)])
    if np.array_equal(order_a, np.arange(50)):
        fb.fail("The examples come out in their original order: shuffle them with "
                "rng.permutation(N) each epoch.")
    if not np.array_equal(order_a, order_b):
        fb.fail("Two passes with generators of the same seed gave different orders: "
                "take all randomness from the rng argument.")
    if np.array_equal(order_a, order_c):
        fb.fail("Seeds 3 and 4 gave the same order: use the rng you are given.")


@pytest.mark.points(1)
def test_iterate_minibatches__last_batch_smaller(ch05):
    X, y = _labelled(10)
    sizes = [len(yb) for _, yb in _collect(ch05, X, y, 3, seed=5)]
    if sizes != [3, 3, 3, 1]:
        fb.fail(f"N=10, batch_size=3 must give batches of sizes [3, 3, 3, 1] (the last "
                f"one smaller, none dropped); got {sizes}.")
    sizes = [len(yb) for _, yb in _collect(ch05, X, y, 32, seed=5)]
    if sizes != [10]:
        fb.fail("A batch_size larger than N=10 must give one batch of 10; "
                f"got {sizes}.")


# ---------------------------------------------------------------- sgd momentum

SGD_HINT = ("The course's convention: velocity = beta * velocity - lr * dw, then "
            "w = w + velocity.")


def _sgd_case():
    rng = np.random.default_rng(55)
    return (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))


@pytest.mark.points(1)
def test_sgd_momentum_step__hand_worked(ch05):
    got = fb.unpack("sgd_momentum_step", ch05.sgd_momentum_step(
        np.array([1.0]), np.array([2.0]), np.array([-0.5]), 0.1, 0.9), 2,
        ("w", "velocity"))
    fb.check_close("velocity", got[1], np.array([-0.65]), rtol=1e-9,
                   context="for w=1, dw=2, velocity=-0.5, lr=0.1, beta=0.9",
                   hint="0.9 * (-0.5) - 0.1 * 2 = -0.65. " + SGD_HINT)
    fb.check_close("w", got[0], np.array([0.35]), rtol=1e-9,
                   context="for w=1, dw=2, velocity=-0.5, lr=0.1, beta=0.9",
                   hint="1 + (-0.65) = 0.35. " + SGD_HINT)


@pytest.mark.points(2)
def test_sgd_momentum_step__matches_update_rule(ch05):
    w, dw, v = _sgd_case()
    lr, beta = 0.05, 0.8
    got_w, got_v = fb.unpack("sgd_momentum_step",
                             ch05.sgd_momentum_step(w, dw, v, lr, beta), 2,
                             ("w", "velocity"))
    got_v = fb.check_shape("velocity", got_v, v.shape)
    if np.allclose(got_v, beta * v + dw):
        fb.fail("Your velocity follows v = beta * v + dw (the other convention). "
                + SGD_HINT)
    exp_v = beta * v - lr * dw
    fb.check_close("velocity", got_v, exp_v, rtol=1e-9, hint=SGD_HINT,
                   context="for arrays of shape (3, 2)")
    fb.check_close("w", got_w, w + exp_v, rtol=1e-9, hint=SGD_HINT,
                   factors={-1.0: "the sign is flipped."},
                   context="for arrays of shape (3, 2)")


@pytest.mark.points(1)
def test_sgd_momentum_step__returns_new_arrays(ch05):
    w, dw, v = _sgd_case()
    res = ch05.call("sgd_momentum_step", w.copy(), dw.copy(), v.copy(), 0.1, 0.9)
    hint = "Compute new arrays (w = w + velocity), never w += ... on the inputs."
    fb.check_unchanged("w", w, res.args[0], hint)
    fb.check_unchanged("dw", dw, res.args[1], hint)
    fb.check_unchanged("velocity", v, res.args[2], hint)


@pytest.mark.points(1)
def test_sgd_momentum_step__beta_zero_is_gradient_descent(ch05):
    w, dw, v = _sgd_case()
    got_w, _ = fb.unpack("sgd_momentum_step",
                         ch05.sgd_momentum_step(w, dw, v, 0.3, 0.0), 2,
                         ("w", "velocity"))
    fb.check_close("w", got_w, w - 0.3 * dw, rtol=1e-9,
                   context="with beta = 0 (plain gradient descent: w - lr * dw)")


# ---------------------------------------------------------------- adam

B1, B2, EPS = 0.9, 0.999, 1e-8


def _adam_oracle(w, grads, lr, correct=True):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        m_hat = m / (1 - B1**t) if correct else m
        v_hat = v / (1 - B2**t) if correct else v
        w = w - lr * m_hat / (np.sqrt(v_hat) + EPS)
    return w, m, v


def _adam_student(ch05, w, grads, lr):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        out = fb.unpack("adam_step", ch05.adam_step(w, g, m, v, t, lr, B1, B2, EPS),
                        3, ("w", "m", "v"))
        w, m, v = (fb.check_shape(n, a, g.shape) for n, a in zip("wmv", out))
    return w, m, v


@pytest.mark.points(1)
def test_adam_step__first_step_is_lr_times_sign(ch05):
    z = np.zeros((1, 3))
    dw = np.array([[3.0, -0.5, 1e-3]])
    out = fb.unpack("adam_step", ch05.adam_step(z, dw, z, z, 1, 0.1, B1, B2, EPS),
                    3, ("w", "m", "v"))
    fb.check_close("w", out[0], np.array([[-0.1, 0.1, -0.1]]), rtol=1e-4,
                   context="after the first step (t=1) from w = 0 with lr = 0.1",
                   hint="With bias correction, the first step is m_hat / sqrt(v_hat) "
                   "= sign(dw) (up to eps), times lr.")


@pytest.mark.points(2)
def test_adam_step__three_steps_with_bias_correction(ch05):
    rng = np.random.default_rng(56)
    w0 = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(3)]
    got_w, _, _ = _adam_student(ch05, w0, grads, 0.01)
    no_corr, _, _ = _adam_oracle(w0, grads, 0.01, correct=False)
    if np.allclose(got_w, no_corr, rtol=1e-7):
        fb.fail("Your Adam has no bias correction: divide m by (1 - beta1**t) and v "
                "by (1 - beta2**t) before the step (t counts from 1).")
    exp_w, _, _ = _adam_oracle(w0, grads, 0.01)
    fb.check_close("w", got_w, exp_w, rtol=1e-7, atol=1e-10,
                   context="after 3 steps (t = 1, 2, 3), shape (2, 3)",
                   hint="m = b1 m + (1 - b1) dw; v = b2 v + (1 - b2) dw**2; "
                   "w - lr * m_hat / (sqrt(v_hat) + eps).")


@pytest.mark.points(1)
def test_adam_step__returns_uncorrected_moments(ch05):
    rng = np.random.default_rng(57)
    w0 = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(2)]
    _, got_m, got_v = _adam_student(ch05, w0, grads, 0.01)
    _, exp_m, exp_v = _adam_oracle(w0, grads, 0.01)
    hint = ("Return the running averages m and v themselves; the bias-corrected "
            "m_hat and v_hat are only used for the step.")
    fb.check_close("m", got_m, exp_m, rtol=1e-9, hint=hint, context="after 2 steps")
    fb.check_close("v", got_v, exp_v, rtol=1e-9, hint=hint, context="after 2 steps")


@pytest.mark.points(1)
def test_adam_step__returns_new_arrays(ch05):
    rng = np.random.default_rng(58)
    w, dw, m = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(
        size=(3, 2))
    v = rng.uniform(0.1, 1.0, size=(3, 2))
    res = ch05.call("adam_step", w.copy(), dw.copy(), m.copy(), v.copy(), 4, 0.01,
                    B1, B2, EPS)
    hint = "Build new arrays (m = beta1 * m + ...), never m *= ... on the inputs."
    for i, (name, before) in enumerate(zip(("w", "dw", "m", "v"), (w, dw, m, v))):
        fb.check_unchanged(name, before, res.args[i], hint)


# ---------------------------------------------------------------- schedules


@pytest.mark.points(1)
def test_exponential_decay__first_epochs(ch05):
    got = [fb.as_float("lr", ch05.exponential_decay(0.1, e, 0.5)) for e in range(4)]
    expected = [0.1, 0.05, 0.025, 0.0125]
    if np.allclose(got, [0.05, 0.025, 0.0125, 0.00625]):
        fb.fail("Off by one epoch: epoch 0 must give lr0 itself (rate ** 0 = 1).")
    fb.check_close("lr", np.array(got), np.array(expected), rtol=1e-12,
                   context="for lr0 = 0.1, rate = 0.5, epochs 0..3",
                   hint="lr = lr0 * rate ** epoch.")


@pytest.mark.points(1)
def test_exponential_decay__late_epoch(ch05):
    got = fb.as_float("lr", ch05.exponential_decay(0.3, 50, 0.9))
    fb.check_close("lr", got, 0.3 * math.exp(50 * math.log(0.9)), rtol=1e-9,
                   factors={0.9: "off by one epoch: epoch 0 must give lr0 itself.",
                            1 / 0.9: "off by one epoch: epoch e uses rate ** e."},
                   context="for lr0 = 0.3, rate = 0.9, epoch 50")


# ---------------------------------------------------------------- early stopping


def _check_stop(ch05, losses, patience, expected, why):
    got = ch05.early_stopping_epoch(list(losses), patience)
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        fb.fail(f"early_stopping_epoch must return an int (an epoch index), got "
                f"{fb.describe_type(got)}.")
    if int(got) != expected:
        off = int(got) - expected
        more = (" (off by one: count the epochs without improvement after the best "
                "one, and stop at the epoch where that count reaches patience)"
                if abs(off) == 1 else "")
        fb.fail(f"For val_losses = {list(losses)} and patience = {patience} training "
                f"stops after epoch {expected} ({why}); you returned {int(got)}"
                f"{more}.")


@pytest.mark.points(1)
def test_early_stopping_epoch__docstring_example(ch05):
    _check_stop(ch05, [1.0, 0.8, 0.9, 0.85, 0.7], 2, 3,
                "the best loss is at epoch 1 and epochs 2 and 3 do not improve")


@pytest.mark.points(1)
def test_early_stopping_epoch__never_triggered(ch05):
    _check_stop(ch05, [5.0, 4.0, 3.5, 3.6, 3.0, 2.0], 2, 5,
                "no two epochs in a row fail to improve, so training runs to the "
                "last epoch, index len - 1")


@pytest.mark.points(1)
def test_early_stopping_epoch__ties_do_not_improve(ch05):
    _check_stop(ch05, [1.0, 1.0, 1.0, 0.5], 2, 2,
                "an equal loss is not an improvement: epochs 1 and 2 do not improve "
                "on epoch 0")


@pytest.mark.points(1)
def test_early_stopping_epoch__patience_one(ch05):
    _check_stop(ch05, [3.0, 2.0, 2.5, 1.0], 1, 2,
                "with patience 1 the first epoch without improvement ends training")
