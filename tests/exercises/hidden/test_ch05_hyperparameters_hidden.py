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
