"""Graded tests for chapter 11: a recurrent step, BPTT, clipping (20 points, 4
more in hidden tests).

The references are the recurrence written from its formula, entry by entry,
and finite differences of it (``oracles.py``). Shapes differ (N=3, D=2, H=4,
T=5) so that a transposed product cannot pass by accident.
"""

import numpy as np
import pytest
from oracles import (
    rnn_last_step_dWh,
    rnn_sequence_formula,
    rnn_sequence_grads,
    rnn_step_db_tanh_of_output,
    rnn_step_formula,
    rnn_step_grads,
    rnn_without_carry,
    summed_and_clipped,
)

from course_lib.grading.checking import feedback as fb

N, D, H, T = 3, 2, 4, 5


def _weights(seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 0.6, size=(D, H)), rng.normal(0, 0.5, size=(H, H)),
            rng.normal(0, 0.3, size=H))


def _step_case(seed):
    rng = np.random.default_rng(seed + 50)
    return rng.normal(size=(N, D)), np.tanh(rng.normal(size=(N, H)))


@pytest.mark.points(1)
def test_rnn_step_forward__shape(ch11):
    x, h_prev = _step_case(1)
    fb.check_shape("h", ch11.rnn_step_forward(x, h_prev, *_weights(1)), (N, H),
                   "h has shape (N, H): x (N, D) times Wx (D, H).")


@pytest.mark.points(3)
def test_rnn_step_forward__matches_the_formula(ch11):
    x, h_prev = _step_case(2)
    Wx, Wh, b = _weights(2)
    got = fb.check_shape("h", ch11.rnn_step_forward(x, h_prev, Wx, Wh, b), (N, H))
    if np.allclose(got, rnn_step_formula(x, np.zeros_like(h_prev), Wx, Wh, b)):
        fb.fail("h ignores h_prev: the recurrence adds h_prev Wh inside the tanh.")
    fb.check_close("h", got, rnn_step_formula(x, h_prev, Wx, Wh, b), rtol=1e-9,
                   hint="h = tanh(x Wx + h_prev Wh + b).")


def _step_backward(ch11, seed):
    x, h_prev = _step_case(seed)
    Wx, Wh, b = _weights(seed)
    h = rnn_step_formula(x, h_prev, Wx, Wh, b)
    dY = np.random.default_rng(seed + 70).normal(size=(N, H))
    out = fb.unpack("rnn_step_backward",
                    ch11.rnn_step_backward(dY, x, h_prev, h, Wx, Wh), 5,
                    ("dx", "dh_prev", "dWx", "dWh", "db"))
    for name, got, shape in zip(("dx", "dh_prev", "dWx", "dWh", "db"), out,
                                [(N, D), (N, H), (D, H), (H, H), (H,)]):
        fb.check_shape(name, got, shape)
    want = rnn_step_grads(dY, x, h_prev, Wx, Wh, b)
    if np.allclose(out[4], rnn_step_db_tanh_of_output(dY, h)):
        fb.fail("Your tanh derivative is 1 - tanh(h)**2, taken of the output h. "
                "You are given h = tanh(z), so tanh'(z) = 1 - tanh(z)**2 = 1 - h**2.")
    return out, want


@pytest.mark.points(2)
def test_rnn_step_backward__weight_gradients(ch11):
    out, want = _step_backward(ch11, 3)
    for name, got, expected in zip(("dWx", "dWh", "db"), out[2:], want[2:]):
        fb.check_close(name, got, expected, rtol=1e-5, atol=1e-8,
                       context="(compared with finite differences)",
                       hint="With dz = dY * (1 - h**2): dWx = x^T dz, "
                            "dWh = h_prev^T dz, db = dz summed over the batch.")


@pytest.mark.points(2)
def test_rnn_step_backward__input_and_state_gradients(ch11):
    out, want = _step_backward(ch11, 4)
    for name, got, expected in zip(("dx", "dh_prev"), out[:2], want[:2]):
        fb.check_close(name, got, expected, rtol=1e-5, atol=1e-8,
                       context="(compared with finite differences)",
                       hint="dx = dz Wx^T and dh_prev = dz Wh^T.")


def _sequence_case(seed, T_=T):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, T_, D))
    Wx, Wh, b = _weights(seed)
    return X, Wx, Wh, b, rnn_sequence_formula(X, Wx, Wh, b)


def _bptt(ch11, dY, X, Wx, Wh, Hs):
    out = fb.unpack("rnn_backward", ch11.rnn_backward(dY, X, Hs, Wx, Wh), 4,
                    ("dX", "dWx", "dWh", "db"))
    for name, got, shape in zip(("dX", "dWx", "dWh", "db"), out,
                                [X.shape, Wx.shape, Wh.shape, (Wh.shape[0],)]):
        fb.check_shape(name, got, shape)
    return out


@pytest.mark.points(4)
def test_rnn_backward__loss_on_the_last_step(ch11):
    X, Wx, Wh, b, Hs = _sequence_case(5)
    dY = np.zeros_like(Hs)
    dY[:, -1] = np.random.default_rng(51).normal(size=(N, H))
    out = _bptt(ch11, dY, X, Wx, Wh, Hs)
    if np.allclose(out[0][:, :-1], 0):
        fb.fail("With a loss on the last step only, dX is zero at every earlier "
                "step: the gradient must be carried back through h_prev "
                "(dh_prev = dz Wh^T) and added to dY of the step before.")
    want = rnn_sequence_grads(dY, X, Wx, Wh, b)
    for name, got, expected in zip(("dX", "dWx", "dWh", "db"), out, want):
        fb.check_close(name, got, expected, rtol=1e-5, atol=1e-8,
                       context="for a loss on the last step of 5",
                       hint="Walk from the last step to the first; the gradient "
                            "reaching h_t is dY[:, t] plus what step t + 1 sent "
                            "back.")


@pytest.mark.points(4)
def test_rnn_backward__loss_on_every_step(ch11):
    X, Wx, Wh, b, Hs = _sequence_case(6)
    dY = np.random.default_rng(61).normal(size=Hs.shape)
    out = _bptt(ch11, dY, X, Wx, Wh, Hs)
    want = rnn_sequence_grads(dY, X, Wx, Wh, b)
    direct = rnn_without_carry(dY, X, Hs, Wx, Wh)
    if all(np.allclose(g, d) for g, d in zip(out, direct)):
        fb.fail("Your gradients contain only each step's own dY: nothing is carried "
                "from step t + 1 back to step t. The gradient reaching h_t is "
                "dY[:, t] plus dh_prev of step t + 1.")
    if np.allclose(out[2], rnn_last_step_dWh(dY, Hs)):
        fb.fail("dWh looks like the contribution of one step only. The same Wh is "
                "used at every step, so dWh is the sum over all steps of "
                "h_{t-1}^T dz_t.")
    for name, got, expected in zip(("dX", "dWx", "dWh", "db"), out, want):
        fb.check_close(name, got, expected, rtol=1e-5, atol=1e-8,
                       context="for a loss on every step",
                       hint="Every weight gradient is a sum over the steps.")


def _step_grads(seed, scale):
    rng = np.random.default_rng(seed)
    return [{"Wx": scale * rng.normal(size=(D, H)), "Wh": scale * rng.normal(
        size=(H, H)), "b": scale * rng.normal(size=H)} for _ in range(T)]


def _clip(ch11, steps, max_norm):
    out = fb.unpack("clip_bptt_gradients",
                    ch11.clip_bptt_gradients(steps, max_norm), 2, ("grads", "norm"))
    grads, norm = out
    if not isinstance(grads, dict) or sorted(grads) != ["Wh", "Wx", "b"]:
        fb.fail("grads must be a dict with the keys of the step dicts (Wx, Wh, b); "
                f"got {fb.describe_type(grads)}.")
    return grads, norm


@pytest.mark.points(2)
def test_clip_bptt_gradients__small_total_unchanged(ch11):
    steps = _step_grads(7, 0.01)
    grads, norm = _clip(ch11, steps, 100.0)
    want, want_norm = summed_and_clipped(steps, 100.0)
    for key in want:
        fb.check_close(f"grads['{key}']", grads[key], want[key], rtol=1e-9,
                       context="when the total is below max_norm",
                       hint="First add up the contributions of all steps.")
    fb.check_close("norm", norm, want_norm, rtol=1e-9,
                   hint="The norm of the summed gradients, over all keys.")


@pytest.mark.points(2)
def test_clip_bptt_gradients__global_after_summing(ch11):
    steps = _step_grads(8, 3.0)
    grads, norm = _clip(ch11, steps, 1.0)
    want, want_norm = summed_and_clipped(steps, 1.0)
    per_step = summed_and_clipped(
        [summed_and_clipped([g], 1.0)[0] for g in steps], 1e9)[0]
    if all(np.allclose(grads[k], per_step[k]) for k in want):
        fb.fail("You clipped each step's gradients before adding them up. Clip "
                "once, the summed gradient, by its global norm: a step-by-step "
                "clip changes the direction of the update.")
    fb.check_close("norm", norm, want_norm, rtol=1e-9,
                   hint="The norm is that of the summed gradients, before clipping.")
    for key in want:
        fb.check_close(f"grads['{key}']", grads[key], want[key], rtol=1e-9,
                       context=f"(global norm {want_norm:.4g}, max_norm 1)",
                       hint="Multiply every summed gradient by max_norm / norm.")
