"""Hidden graded tests for chapter 8 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import fd

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden

EPS = 1e-5


def _stats(X):
    axes = (0,) if X.ndim == 2 else (0, 2, 3)
    return X.mean(axis=axes), X.var(axis=axes), axes


def _reference(X, gamma, beta, eps=EPS):
    mean, var, _ = _stats(X)
    shape = (1, -1) + (1,) * (X.ndim - 2)
    return (gamma.reshape(shape) * (X - mean.reshape(shape))
            / np.sqrt(var.reshape(shape) + eps) + beta.reshape(shape))


@pytest.mark.points(1)
def test_batch_norm__constant_feature_stays_finite(ch08):
    X = np.column_stack([np.full(6, 7.0), np.arange(6.0)])
    res = ch08.call("batch_norm", X, np.ones(2), np.zeros(2), EPS)
    Y = fb.unpack("batch_norm", res.value, 3, ("Y", "mean", "var"))[0]
    fb.check_finite("Y", Y, "for a feature that is constant over the batch",
                    "eps keeps the division finite when the variance is 0.")
    fb.check_close("Y", Y, _reference(X, np.ones(2), np.zeros(2)), atol=1e-9,
                   context="for a feature that is constant over the batch")


@pytest.mark.points(1)
def test_batch_norm_backward__two_rows_and_a_large_offset(ch08):
    rng = np.random.default_rng(801)
    X = 1000.0 + rng.normal(size=(2, 3))
    gamma, G = rng.normal(size=3), rng.normal(size=(2, 3))
    out = fb.unpack("batch_norm_backward", ch08.batch_norm_backward(G, X, gamma, EPS),
                    3, ("dX", "dgamma", "dbeta"))
    num = fd(lambda x: float(np.sum(G * _reference(x, gamma, 0 * gamma))), X, h=1e-5)
    fb.check_close("dX", out[0], num, rtol=1e-4, atol=1e-5,
                   context="for a batch of two rows around 1000")


@pytest.mark.points(1)
def test_BatchNorm_forward__image_running_averages(ch08):
    rng = np.random.default_rng(802)
    batches = [rng.normal(1.0, 2.0, (2, 3, 2, 2)) for _ in range(2)]
    bn = ch08.BatchNorm(3, 0.5, EPS)
    mean, var = np.zeros(3), np.ones(3)
    for X in batches:
        bn.forward(X)
        m, v, axes = _stats(X)
        mean = 0.5 * mean + 0.5 * m
        var = 0.5 * var + 0.5 * X.var(axis=axes, ddof=1)
    fb.check_close("running_mean", bn.running_mean, mean,
                   context="for images with momentum 0.5")
    fb.check_close("running_var", bn.running_var, var,
                   context="for images with momentum 0.5 (M = N * H * W)")


@pytest.mark.points(1)
def test_BatchNorm_backward__image_gradients_overwritten(ch08):
    rng = np.random.default_rng(803)
    bn = ch08.BatchNorm(2, 0.9, EPS)
    X, G = rng.normal(size=(3, 2, 2, 3)), rng.normal(size=(3, 2, 2, 3))
    for _ in range(2):                       # the second call must not add up
        bn.forward(X)
        dX = bn.backward(G)
    num = fd(lambda x: float(np.sum(G * _reference(x, np.ones(2), np.zeros(2)))), X)
    fb.check_close("dX", dX, num, rtol=1e-5, atol=1e-7, context="for images")
    fb.check_close("grads['beta']", bn.grads["beta"], G.sum(axis=(0, 2, 3)),
                   context="after two backward calls (overwrite, do not add)")
