"""Hidden graded tests for chapter 11 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import rnn_sequence_formula, rnn_sequence_grads, summed_and_clipped

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


def _case(seed, N=2, T=1, D=3, H=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, T, D))
    Wx, Wh, b = rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    return X, Wx, Wh, b


@pytest.mark.points(1)
def test_rnn_step_forward__one_example(ch11):
    X, Wx, Wh, b = _case(1101, N=1)
    h_prev = np.array([[0.3, -0.2]])
    want = np.tanh(X[:, 0] @ Wx + h_prev @ Wh + b)
    fb.check_close("h", ch11.rnn_step_forward(X[:, 0], h_prev, Wx, Wh, b), want,
                   rtol=1e-9, context="for one example")


@pytest.mark.points(1)
def test_rnn_backward__one_step_sequence(ch11):
    X, Wx, Wh, b = _case(1102)
    Hs = rnn_sequence_formula(X, Wx, Wh, b)
    dY = np.random.default_rng(1103).normal(size=Hs.shape)
    out = fb.unpack("rnn_backward", ch11.rnn_backward(dY, X, Hs, Wx, Wh), 4,
                    ("dX", "dWx", "dWh", "db"))
    for name, got, want in zip(("dX", "dWx", "dWh", "db"), out,
                               rnn_sequence_grads(dY, X, Wx, Wh, b)):
        fb.check_close(name, got, want, rtol=1e-5, atol=1e-8,
                       context="for a sequence of one step (h_0 = 0)")


@pytest.mark.points(1)
def test_rnn_backward__inputs_unchanged(ch11):
    X, Wx, Wh, b = _case(1104, T=4)
    Hs = rnn_sequence_formula(X, Wx, Wh, b)
    dY = np.random.default_rng(1105).normal(size=Hs.shape)
    res = ch11.call("rnn_backward", dY, X, Hs, Wx, Wh)
    for name, before, after in zip(("dY", "X", "H", "Wx", "Wh"),
                                   (dY, X, Hs, Wx, Wh), res.args):
        fb.check_unchanged(name, before, after,
                           "rnn_backward must not modify its arguments.")
    out = fb.unpack("rnn_backward", res.value, 4, ("dX", "dWx", "dWh", "db"))
    for name, got, want in zip(("dX", "dWx", "dWh", "db"), out,
                               rnn_sequence_grads(dY, X, Wx, Wh, b)):
        fb.check_close(name, got, want, rtol=1e-5, atol=1e-8,
                       context="(and the inputs left as they were)")


@pytest.mark.points(1)
def test_clip_bptt_gradients__inputs_unchanged_and_one_step(ch11):
    steps = [{"Wx": np.array([[3.0]]), "Wh": np.array([[0.0]]),
              "b": np.array([4.0])}]
    res = ch11.call("clip_bptt_gradients", steps, 1.0)
    out = fb.unpack("clip_bptt_gradients", res.value, 2, ("grads", "norm"))
    want, norm = summed_and_clipped(steps, 1.0)
    fb.check_close("norm", out[1], norm, rtol=1e-12, context="for one step")
    for key in want:
        fb.check_close(f"grads['{key}']", out[0][key], want[key], rtol=1e-12,
                       context="for one step of norm 5 and max_norm 1")
    for key, v in steps[0].items():
        fb.check_unchanged(f"step_grads[0]['{key}']", v, res.args[0][0][key],
                           "Do not modify the arrays you are given.")
