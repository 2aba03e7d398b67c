"""Hidden graded tests for chapter 5 (run by the instructor at the end)."""

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


def _stop_oracle(losses, patience):
    """First epoch e with e - (index of the first best loss so far) >= patience."""
    for e in range(len(losses)):
        best_at = int(np.argmin(losses[: e + 1]))
        if e - best_at >= patience:
            return e
    return len(losses) - 1


@pytest.mark.points(2)
def test_early_stopping_epoch__random_curves(ch05):
    rng = np.random.default_rng(551)
    for _ in range(20):
        n = int(rng.integers(3, 30))
        losses = np.round(1.0 / np.arange(1, n + 1) + rng.normal(0, 0.05, n), 2)
        patience = int(rng.integers(1, 5))
        expected = _stop_oracle(losses, patience)
        got = ch05.early_stopping_epoch(losses.tolist(), patience)
        if not isinstance(got, int | np.integer) or int(got) != expected:
            fb.fail(f"For val_losses = {losses.tolist()} and patience = {patience}, "
                    f"training stops after epoch {expected}; you returned {got!r}.")


@pytest.mark.points(1)
def test_exponential_decay__array_of_epochs(ch05):
    got = ch05.exponential_decay(0.2, np.arange(5), 0.8)
    fb.check_close("lr", got, 0.2 * 0.8 ** np.arange(5.0), rtol=1e-12,
                   factors={0.8: "off by one epoch: epoch 0 must give lr0 itself."},
                   context="for epoch = np.arange(5)",
                   hint="lr0 * rate ** epoch works for an array of epochs as well.")


@pytest.mark.points(1)
def test_Adam_step__three_steps_on_arrays(ch05):
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    rng = np.random.default_rng(560)
    w0 = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(3)]
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    opt = ch05.Adam(lr=lr)
    params = {"W": w0}
    for g in grads:
        params = opt.call("step", params, {"W": g}).args[0]
    fb.check_close("params['W'] after three steps", params["W"], w, rtol=1e-7,
                   atol=1e-10, context="for a weight matrix over three steps")


@pytest.mark.points(1)
def test_train__same_seed_same_run(ch05):
    rng = np.random.default_rng(561)
    X = rng.normal(size=(10, 2))
    y = (rng.random((10, 1)) < 0.5).astype(float)

    def run(seed):
        layers = [ch05.Dense(2, 4, seed=0), ch05.Tanh(), ch05.Dense(4, 1, seed=1),
                  ch05.Sigmoid()]
        return np.asarray(ch05.train(ch05.Sequential(layers),
                                     ch05.BinaryCrossEntropy(), ch05.SGD(0.3, 0.5),
                                     X, y, 4, 3, seed), dtype=float)

    a, b, c = run(5), run(5), run(6)
    if not np.array_equal(a, b):
        fb.fail("Two runs of train with the same seed gave different losses.")
    if np.array_equal(a, c):
        fb.fail("Runs with different seeds gave the same losses: the seed must "
                "decide the order of the mini-batches.")
