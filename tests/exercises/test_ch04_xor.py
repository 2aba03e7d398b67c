"""Graded tests for chapter 4: the learner's ``NeuralNetwork`` solves XOR.

The network is assembled from the learner's chapter 1-3 layers (the reference
ones stand in for them when the course's ``solutions/`` exist, so a mistake
there is not charged twice). Oracles: the network's formula
``sigmoid(tanh(X W1 + b1) W2 + b2)`` evaluated with known weights
written into the learner's layers, the binary cross-entropy formula, and
centred finite differences of it for the update (``oracles.py``, asked through
``expected``: a bundle holds their values, not their code). Every random input
comes from a generator seeded in its own test.
"""

import numpy as np
import pytest
from engine_io import cached, read_dict, set_params
from expected import expected
from oracles import XOR_X, XOR_Y

from course_lib.grading.checking import feedback as fb

N_IN, N_HID, N_OUT = 3, 5, 2


def _dense_layers(net):
    """The two Dense layers of the learner's network, or a Feedback."""
    layers = cached(net, "layers")
    if not isinstance(layers, list) or len(layers) != 4:
        fb.fail("A NeuralNetwork keeps its layers in a list self.layers of four: "
                "Dense, Tanh, Dense, Sigmoid; found "
                f"{fb.describe_type(layers)}"
                + (f" of length {len(layers)}." if isinstance(layers, list) else "."))
    return layers[0], layers[2]


def _net(ch04, lr=0.5, seed=0, known=True):
    """A learner's network with known parameters; returns it and the parameters."""
    net = ch04.NeuralNetwork(N_IN, N_HID, N_OUT, lr, seed=seed)
    d1, d2 = _dense_layers(net)
    rng = np.random.default_rng(40 + seed)
    p = {"W1": rng.normal(size=(N_IN, N_HID)), "b1": rng.normal(size=N_HID),
         "W2": rng.normal(size=(N_HID, N_OUT)), "b2": rng.normal(size=N_OUT)}
    if known:
        set_params(d1, W=p["W1"], b=p["b1"])
        set_params(d2, W=p["W2"], b=p["b2"])
    return net, p, (d1, d2)


def _batch(seed, n=6):
    rng = np.random.default_rng(4040 + seed)
    X = rng.normal(size=(n, N_IN))
    y = (rng.random((n, N_OUT)) < 0.5).astype(float)
    return X, y


# ---------------------------------------------------------------- __init__


@pytest.mark.points(2)
def test_NeuralNetwork_init__layers_and_shapes(ch04):
    net = ch04.NeuralNetwork(2, 4, 1, 0.7, seed=3)
    d1, d2 = _dense_layers(net)
    kinds = [t.rsplit(".", 1)[-1] for t in
             (obj.remote_type for obj in net.layers)]
    if kinds != ["Dense", "Tanh", "Dense", "Sigmoid"]:
        fb.fail(f"self.layers holds {kinds}; the chapter's network is Dense, Tanh, "
                "Dense, Sigmoid.")
    for name, layer, shape in (("first", d1, (2, 4)), ("second", d2, (4, 1))):
        W = read_dict(layer, "params", ("W", "b"), f"the {name} Dense")["W"]
        fb.check_shape(f"the {name} Dense layer's W", W, shape,
                       rule="input_size -> hidden_size -> output_size: W1 is "
                       "(input_size, hidden_size), W2 (hidden_size, output_size).")
    lr = fb.as_float("learning_rate", getattr(net, "learning_rate", None))
    fb.check_close("learning_rate", lr, 0.7, rtol=0,
                   hint="Keep the learning rate as self.learning_rate.")


@pytest.mark.points(1)
def test_NeuralNetwork_init__seeded(ch04):
    def weights(seed):
        d1, d2 = _dense_layers(ch04.NeuralNetwork(2, 4, 1, 0.5, seed=seed))
        return [read_dict(d, "params", ("W", "b"))["W"] for d in (d1, d2)]

    a, b, c = weights(5), weights(5), weights(6)
    if not all(np.array_equal(u, v) for u, v in zip(a, b)):
        fb.fail("Two networks with the same seed got different weights: pass the "
                "seed on to the Dense layers.")
    if any(np.array_equal(u, v) for u, v in zip(a, c)):
        fb.fail("Networks with seeds 5 and 6 share a weight matrix: the seed must "
                "decide the weights.")
    if np.allclose(a[0].ravel()[:4] * np.sqrt(2), a[1].ravel() * 2):
        fb.fail("The two Dense layers drew the same numbers: give them different "
                "seeds (seed and seed + 1).")


# ---------------------------------------------------------------- feedforward


@pytest.mark.points(2)
def test_NeuralNetwork_feedforward__matches_formula(ch04):
    net, p, _ = _net(ch04)
    X, _ = _batch(0)
    want = expected("ch04", "NeuralNetwork_feedforward", "3-5-2, seed 0", p, X)
    fb.check_close("y_hat", net.feedforward(X), want, rtol=1e-9,
                   context=f"for a {N_IN}-{N_HID}-{N_OUT} network",
                   hint="The output is the last layer's output, after all four.",
                   rule="y_hat = sigmoid(tanh(X W1 + b1) W2 + b2).")


# ---------------------------------------------------------------- backpropagate


UPDATE_RULE = ("After the backward pass every parameter takes one step against its "
               "gradient: w <- w - learning_rate * dL/dw.")


@pytest.mark.points(2)
def test_NeuralNetwork_backpropagate__returns_loss_before_update(ch04):
    net, p, _ = _net(ch04, lr=0.5)
    X, y = _batch(1)
    want, grads = expected("ch04", "NeuralNetwork_backpropagate", "seed 0", p, X, y)
    after = {k: p[k] - 0.5 * grads[k] for k in p}
    after_loss, _ = expected("ch04", "NeuralNetwork_backpropagate",
                             "seed 0, after the step", after, X, y)
    got = fb.as_float("loss", net.backpropagate(X, y))
    if np.isclose(got, after_loss, rtol=1e-6) and not np.isclose(got, want):
        fb.fail("backpropagate returned the loss after the update; return the one "
                "the step was computed from.")
    fb.check_close("loss", got, want, rtol=1e-6,
                   context="(the binary cross-entropy of the batch)",
                   hint="The loss of the forward pass at the start of the step.",
                   rule="L = BCE(y, y_hat) for the y_hat of the weights before the "
                   "update.")


@pytest.mark.points(3)
def test_NeuralNetwork_backpropagate__one_gradient_step(ch04):
    lr = 0.3
    net, p, (d1, d2) = _net(ch04, lr=lr, seed=1)
    X, y = _batch(2)
    _, grads = expected("ch04", "NeuralNetwork_backpropagate", "seed 1", p, X, y)
    net.backpropagate(X, y)
    new = {}
    for n, layer in (("1", d1), ("2", d2)):
        q = read_dict(layer, "params", ("W", "b"), "a Dense layer")
        new["W" + n], new["b" + n] = q["W"], q["b"]
    if all(np.array_equal(new[k], p[k]) for k in p):
        fb.fail("After backpropagate the weights are unchanged: the step must update "
                "every parameter in place.", rule=UPDATE_RULE)
    for k in ("W2", "b2", "W1", "b1"):
        step = new[k] - p[k]
        fb.check_close(f"the change of {k}", step, -lr * grads[k], rtol=1e-5,
                       atol=1e-9, factors={
                           -1.0: "the weights moved uphill: subtract the gradient.",
                           1.0 / lr: "the step is the gradient itself: multiply it "
                           "by the learning rate."},
                       context=f"after one step with learning_rate = {lr} "
                       "(finite differences)", rule=UPDATE_RULE)


# ---------------------------------------------------------------- train


@pytest.mark.points(2)
def test_NeuralNetwork_train__one_loss_per_epoch(ch04):
    a, _, _ = _net(ch04, lr=0.5, seed=2)
    b, _, _ = _net(ch04, lr=0.5, seed=2)
    X, y = _batch(3)
    got = a.train(X, y, 7)
    if not isinstance(got, list | tuple):
        fb.fail(f"train must return a list with the loss of every epoch; got "
                f"{fb.describe_type(got)}.")
    want = [fb.as_float("loss", b.backpropagate(X, y)) for _ in range(7)]
    fb.check_close("the losses of train(X, y, 7)", np.asarray(got, dtype=float),
                   np.array(want), rtol=1e-9,
                   hint="Each epoch is one full-batch step, and its loss goes "
                   "into the list.",
                   rule="train(X, y, epochs) = [loss of step 1, ..., loss of step "
                   "epochs].")


# ---------------------------------------------------------------- predict


@pytest.mark.points(1)
def test_NeuralNetwork_predict__thresholds_at_one_half(ch04):
    net, p, _ = _net(ch04, seed=3)
    X = np.random.default_rng(4044).normal(size=(20, N_IN))
    got = fb.check_shape("predict(X)", net.predict(X), (20, N_OUT))
    if got.dtype.kind not in "iu":
        fb.fail(f"predict must return integers 0 and 1; got dtype {got.dtype}.")
    want = expected("ch04", "NeuralNetwork_predict", "seed 3, 20 rows", p, X)
    fb.check_close("predict(X)", got, want, rtol=0,
                   hint="1 where the output is above one half, 0 elsewhere.")


# ---------------------------------------------------------------- train_xor


def _check_solves(ch04, seed):
    net = ch04.with_timeout(30.0).train_xor(seed)
    got = fb.as_array("predict(XOR_X)", net.predict(XOR_X))
    if got.shape != XOR_Y.shape or not np.array_equal(got, XOR_Y):
        out = fb.as_array("feedforward", net.feedforward(XOR_X))
        fb.fail(f"train_xor({seed}) returned a network that does not solve XOR: "
                f"outputs {fb.show(out.ravel())} for targets 0, 1, 1, 0. More "
                "epochs or a larger learning rate (the chapter's table shows what "
                "works)?")


@pytest.mark.points(2)
def test_train_xor__solves_xor(ch04):
    _check_solves(ch04, 0)


@pytest.mark.points(1)
def test_train_xor__solves_xor_other_seed(ch04):
    _check_solves(ch04, 4)
