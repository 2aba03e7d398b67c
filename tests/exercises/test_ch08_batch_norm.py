"""Graded tests for chapter 8: your batch-normalization layer (21 points, 4
more in hidden tests).

Forward passes are checked against hand-worked numbers and against the
properties batch normalization must have; backward passes against centred
finite differences of the definition. Every reference comes from an oracle
(``oracles.py``: ``batch_norm_definition``, ``batch_norm_grads``, the running
averages ``batch_norm_running`` and the evaluation-mode map ``batch_norm_eval``
with its gradients), called with data made here; a student release replays
their values. The layer ``BatchNorm`` lives in your worker: the tests call its
methods and read or set its attributes (``running_mean``, ``grads``) there.
"""

import numpy as np
import pytest
from oracles import (
    batch_norm_definition,
    batch_norm_eval,
    batch_norm_eval_grads,
    batch_norm_grads,
    batch_norm_running,
)

from course_lib.grading.checking import feedback as fb

EPS = 1e-5


def _data(shape, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    return (rng.normal(2.0, 3.0, shape), rng.normal(1.0, 0.5, C),
            rng.normal(0.0, 0.5, C), rng.normal(size=shape))


def _channel_sum(A):
    """The sum of each channel's values: channels last, one row per value."""
    A = np.asarray(A, dtype=float)
    return np.moveaxis(A, 1, -1).reshape(-1, A.shape[1]).sum(axis=0)


# ------------------------------------------------------------ batch_norm


@pytest.mark.points(2)
def test_batch_norm__hand_worked_example(ch08):
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    out = fb.unpack("batch_norm", ch08.batch_norm(X, np.array([2.0, 1.0]),
                                                  np.array([0.0, 1.0]), 0.0),
                    3, ("Y", "mean", "var"))
    ctx = "for X = [[1, 2], [3, 6]], gamma = [2, 1], beta = [0, 1], eps = 0"
    fb.check_close("mean", out[1], [2.0, 4.0], context=ctx,
                   hint="The mean is taken over the batch (axis 0), per feature.")
    fb.check_close("var", out[2], [1.0, 4.0], context=ctx,
                   factors={2.0: "you divided by M - 1 (the unbiased variance); "
                                 "batch normalization divides by M"},
                   hint="The variance of [1, 3] is ((1-2)**2 + (3-2)**2) / 2 = 1.")
    fb.check_close("Y", out[0], [[-2.0, 0.0], [2.0, 2.0]], context=ctx,
                   hint="Y = gamma * (X - mean) / sqrt(var + eps) + beta.")


@pytest.mark.points(2)
def test_batch_norm__per_channel_statistics_of_images(ch08):
    X, gamma, beta, _ = _data((4, 3, 2, 5), 81)
    Y_ref, mean_ref, var_ref = batch_norm_definition(X, gamma, beta, EPS)
    out = fb.unpack("batch_norm", ch08.batch_norm(X, gamma, beta, EPS), 3,
                    ("Y", "mean", "var"))
    ctx = "for images X of shape (4, 3, 2, 5)"
    hint = ("Each channel (axis 1) has one mean and one variance, taken over "
            "the batch and every pixel: axes (0, 2, 3).")
    fb.check_close("mean", out[1], mean_ref, context=ctx, hint=hint)
    fb.check_close("var", out[2], var_ref, context=ctx, hint=hint,
                   factors={40 / 39: "you divided by M - 1 (unbiased); divide by M"})
    fb.check_close("Y", out[0], Y_ref, rtol=1e-6, context=ctx, hint=hint)


@pytest.mark.points(1)
def test_batch_norm__standardises_each_feature(ch08):
    X = np.random.default_rng(82).normal(5.0, 4.0, (50, 6))
    out = fb.unpack("batch_norm", ch08.batch_norm(X, np.ones(6), np.zeros(6), EPS),
                    3, ("Y", "mean", "var"))
    Y = fb.check_shape("Y", out[0], (50, 6))
    fb.check_close("the mean of each column of Y", Y.mean(axis=0), np.zeros(6),
                   atol=1e-9, context="with gamma = 1 and beta = 0")
    fb.check_close("the variance of each column of Y", Y.var(axis=0),
                   np.ones(6), rtol=1e-5, context="with gamma = 1 and beta = 0",
                   factors={49 / 50: "you normalised with the unbiased variance "
                                     "(dividing by M - 1); divide by M"})


# ------------------------------------------------------------ batch_norm_backward


def _check_backward(ch08, shape, seed):
    X, gamma, beta, G = _data(shape, seed)
    out = fb.unpack("batch_norm_backward",
                    ch08.batch_norm_backward(G, X, gamma, EPS), 3,
                    ("dX", "dgamma", "dbeta"))
    ctx = f"for X of shape {shape}"
    dX_num, dg_num, db_num = batch_norm_grads(G, X, gamma, beta, EPS)
    axis_hint = ("dgamma and dbeta have one entry per channel: sum over every "
                 "axis except axis 1.")
    fb.check_close("dbeta", out[2], db_num, rtol=1e-5, atol=1e-7, context=ctx,
                   hint=axis_hint)
    fb.check_close("dgamma", out[1], dg_num, rtol=1e-5, atol=1e-7, context=ctx,
                   hint=axis_hint)
    dX = fb.check_shape("dX", out[0], shape)
    sums = _channel_sum(dX)
    if np.max(np.abs(sums)) > 1e-6 * max(1.0, np.max(np.abs(dX))):
        fb.fail(f"dX is wrong {ctx}: its values for one channel should add up to "
                f"0 but add up to {fb.show(sums)}. Every x moves the batch mean "
                "too: the path through the mean is missing.")
    fb.check_close("dX", dX, dX_num, rtol=1e-5, atol=1e-7, context=ctx,
                   hint="x reaches the output three ways: directly, through the "
                        "mean and through the variance.")


@pytest.mark.points(3)
def test_batch_norm_backward__matches_finite_differences(ch08):
    _check_backward(ch08, (6, 4), 83)


@pytest.mark.points(3)
def test_batch_norm_backward__images_match_finite_differences(ch08):
    _check_backward(ch08, (3, 2, 3, 4), 84)


# ------------------------------------------------------------ BatchNorm.forward


def _trained_layer(ch08, batches, momentum=0.9):
    bn = ch08.BatchNorm(batches[0].shape[1], momentum, EPS)
    for X in batches:
        bn.forward(X)
    return bn


def _batches(shape, seed, n=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(3.0, 2.0, shape) for _ in range(n)]


@pytest.mark.points(1)
def test_BatchNorm_forward__training_uses_batch_statistics(ch08):
    X = _batches((8, 3), 85, 1)[0]
    bn = ch08.BatchNorm(3, 0.9, EPS)
    Y = bn.forward(X)
    want = batch_norm_definition(X, np.ones(3), np.zeros(3), EPS)[0]
    fb.check_close("Y", Y, want, rtol=1e-6,
                   context="for a new layer in training mode (gamma 1, beta 0)",
                   hint="In training mode normalise with the batch's own statistics.")


@pytest.mark.points(2)
def test_BatchNorm_forward__running_averages_follow_the_rule(ch08):
    batches = _batches((8, 3), 86)
    bn = _trained_layer(ch08, batches)
    mean, var = batch_norm_running(batches, 0.9)
    ctx = "after three training batches of 8 rows (momentum 0.9)"
    fb.check_close("running_mean", bn.running_mean, mean, context=ctx,
                   hint="running = momentum * running + (1 - momentum) * batch.")
    fb.check_close("running_var", bn.running_var, var, context=ctx,
                   hint="The running variance averages the unbiased batch "
                        "variance, M / (M - 1) times the biased one.")


@pytest.mark.points(2)
def test_BatchNorm_forward__eval_uses_running_averages(ch08):
    batches = _batches((8, 3), 87)
    bn = _trained_layer(ch08, batches)
    mean, var = batch_norm_running(batches, 0.9)
    bn.eval()
    X = np.random.default_rng(88).normal(0.0, 1.0, (4, 3))
    ones, zeros = np.ones(3), np.zeros(3)
    expected = batch_norm_eval(X, ones, zeros, mean, var, EPS)
    Y = bn.forward(X)
    batch_stats = batch_norm_definition(X, ones, zeros, EPS)[0]
    if np.allclose(np.asarray(Y, dtype=float), batch_stats, rtol=1e-6):
        fb.fail("In evaluation mode your layer normalised with the statistics of "
                "the evaluation batch. It must use the running averages, so that "
                "a prediction does not depend on the other samples in its batch.")
    fb.check_close("Y", Y, expected, rtol=1e-6, context="in evaluation mode",
                   hint="Y = gamma * (X - running_mean) / sqrt(running_var + eps)"
                        " + beta.")


@pytest.mark.points(1)
def test_BatchNorm_forward__eval_changes_nothing(ch08):
    batches = _batches((8, 3), 89)
    bn = _trained_layer(ch08, batches)
    before = (np.asarray(bn.running_mean, float), np.asarray(bn.running_var, float))
    bn.eval()
    ones, zeros = np.ones(3), np.zeros(3)
    mean, var = batch_norm_running(batches, 0.9)
    for X in _batches((5, 3), 90):
        fb.check_close("Y", bn.forward(X),
                       batch_norm_eval(X, ones, zeros, mean, var, EPS), rtol=1e-6,
                       context="in evaluation mode, after three training batches")
    for name, old in zip(("running_mean", "running_var"), before):
        fb.check_close(name, getattr(bn, name), old, rtol=1e-12,
                       context="after forward passes in evaluation mode",
                       hint="Evaluation must not update the running averages.")


# ------------------------------------------------------------ BatchNorm.backward


@pytest.mark.points(2)
def test_BatchNorm_backward__training_gradients(ch08):
    X, _, _, G = _data((6, 3), 91)
    bn = ch08.BatchNorm(3, 0.9, EPS)
    bn.forward(X)
    dX = bn.backward(G)
    ones, zeros = np.ones(3), np.zeros(3)
    ctx = "after a training-mode forward"
    want_dX, want_dgamma, want_dbeta = batch_norm_grads(G, X, ones, zeros, EPS)
    fb.check_close("dX", dX, want_dX, rtol=1e-5, atol=1e-7, context=ctx)
    grads = bn.grads
    if not isinstance(grads, dict) or sorted(grads) != ["beta", "gamma"]:
        fb.fail(f"grads must be a dict with keys 'gamma' and 'beta'; got "
                f"{fb.describe_type(grads)}.")
    fb.check_close("grads['gamma']", grads["gamma"], want_dgamma, rtol=1e-5,
                   atol=1e-7, context=ctx)
    fb.check_close("grads['beta']", grads["beta"], want_dbeta, rtol=1e-5,
                   atol=1e-7, context=ctx)


@pytest.mark.points(1)
def test_BatchNorm_backward__eval_gradients(ch08):
    # momentum 1 and known averages written into the layer: they stay put even if
    # forward updated them in evaluation, so this checks backward, not forward
    bn = ch08.BatchNorm(2, 1.0, EPS)
    rng = np.random.default_rng(95)
    mean, var = rng.normal(size=2), rng.uniform(0.5, 2.0, size=2)
    bn.call("__setattr__", "running_mean", mean)
    bn.call("__setattr__", "running_var", var)
    bn.eval()
    X, _, _, G = _data((5, 2), 93)
    bn.forward(X)
    want_dX, want_dgamma, _ = batch_norm_eval_grads(G, X, np.ones(2), np.zeros(2),
                                                    mean, var, EPS)
    ctx = "after an evaluation-mode forward"
    fb.check_close("dX", bn.backward(G), want_dX, rtol=1e-5, atol=1e-7, context=ctx,
                   hint="In evaluation the statistics are constants: the layer is "
                        "an affine map of x, scaled by gamma / sqrt(running_var + "
                        "eps).")
    fb.check_close("grads['gamma']", bn.grads["gamma"], want_dgamma, rtol=1e-5,
                   atol=1e-7, context=ctx)


@pytest.mark.points(1)
def test_BatchNorm_backward__leaves_params_alone(ch08):
    X, _, _, G = _data((6, 3), 94)
    bn = ch08.BatchNorm(3, 0.9, EPS)
    bn.forward(X)
    fb.check_close("dX", bn.backward(G),
                   batch_norm_grads(G, X, np.ones(3), np.zeros(3), EPS)[0],
                   rtol=1e-5, atol=1e-7, context="after a training-mode forward")
    params = bn.params
    fb.check_close("params['gamma']", params["gamma"], np.ones(3), rtol=0,
                   context="after backward", hint="backward computes gradients; "
                   "updating the parameters is the optimizer's job.")
    fb.check_close("params['beta']", params["beta"], np.zeros(3), rtol=0,
                   context="after backward")
