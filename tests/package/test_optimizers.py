"""Optimizers against updates worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import course_lib as cl

G1 = np.array([0.5, -1.0])
G2 = np.array([1.0, 1.0])


def run(opt, *grads):
    w = np.array([1.0, 2.0])
    params = {"w": w}
    for g in grads:
        opt.step(params, {"w": g.copy()})
    assert params["w"] is w                                  # updated in place
    return w


def test_sgd_by_hand():
    np.testing.assert_allclose(run(cl.SGD(0.1), G1), [0.95, 2.1], rtol=1e-15)
    np.testing.assert_allclose(run(cl.SGD(0.1), G1, G2), [0.85, 2.0], rtol=1e-15)


def test_sgd_momentum_by_hand():
    # v1 = -0.1 g1 = [-0.05, 0.1];  w1 = [0.95, 2.1]
    # v2 = 0.9 v1 - 0.1 g2 = [-0.145, -0.01];  w2 = [0.805, 2.09]
    np.testing.assert_allclose(run(cl.SGD(0.1, momentum=0.9), G1), [0.95, 2.1])
    np.testing.assert_allclose(run(cl.SGD(0.1, momentum=0.9), G1, G2),
                               [0.805, 2.09], rtol=1e-14)


def test_momentum_conventions_agree_for_constant_lr():
    """v <- mu v - lr g; w += v  equals  u <- mu u + g; w -= lr u."""
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=2) for _ in range(6)]
    w_other, u = np.array([1.0, 2.0]), np.zeros(2)
    for g in grads:
        u = 0.8 * u + g
        w_other = w_other - 0.05 * u
    np.testing.assert_allclose(run(cl.SGD(0.05, momentum=0.8), *grads), w_other,
                               rtol=1e-13)


def test_rmsprop_by_hand():
    # s = 0.1 g^2, so the first step is lr * g / (sqrt(0.1) |g| + eps)
    step0 = 0.01 * 0.5 / (math.sqrt(0.1) * 0.5 + 1e-8)
    step1 = 0.01 * 1.0 / (math.sqrt(0.1) * 1.0 + 1e-8)
    np.testing.assert_allclose(run(cl.RMSProp(0.01, rho=0.9, eps=1e-8), G1),
                               [1 - step0, 2 + step1], rtol=1e-14)
    # second step: s = 0.09 g1^2 + 0.1 g2^2
    s = 0.09 * G1 ** 2 + 0.1 * G2 ** 2
    w2 = np.array([1 - step0, 2 + step1]) - 0.01 * G2 / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(run(cl.RMSProp(0.01), G1, G2), w2, rtol=1e-12)


def test_adam_bias_correction_by_hand():
    lr, eps = 0.1, 1e-8
    # t = 1: m = 0.1 g1, v = 0.001 g1^2, m_hat = g1, v_hat = g1^2
    #        step = lr * g1 / (|g1| + eps)
    w1 = np.array([1 - lr * 0.5 / (0.5 + eps), 2 + lr * 1.0 / (1.0 + eps)])
    np.testing.assert_allclose(run(cl.Adam(lr), G1), w1, rtol=1e-14)
    # t = 2: m = 0.09 g1 + 0.1 g2 = [0.145, 0.01]
    #        v = 0.000999 g1^2 + 0.001 g2^2 = [0.00124975, 0.001999]
    m_hat = np.array([0.145, 0.01]) / (1 - 0.9 ** 2)
    v_hat = np.array([0.00124975, 0.001999]) / (1 - 0.999 ** 2)
    w2 = w1 - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(run(cl.Adam(lr), G1, G2), w2, rtol=1e-12)
    # without bias correction the first step would be ~ lr * 0.1 / sqrt(0.001)
    assert abs(w1[0] - 1) == pytest.approx(lr, rel=1e-6)


def test_state_is_kept_per_key_and_in_place():
    opt = cl.Adam(0.01)
    params = {"a": np.ones(3), "b": np.ones((2, 2))}
    grads = {"a": np.ones(3), "b": -np.ones((2, 2))}
    opt.step(params, grads)
    m_a = opt.state["a"]["m"]
    opt.step(params, grads)
    assert opt.state["a"]["m"] is m_a
    assert set(opt.state) == {"a", "b"} and opt.t == 2
    assert opt.state["b"]["v"].shape == (2, 2)
    opt.reset()
    assert opt.state == {} and opt.t == 0


@pytest.mark.parametrize("make", [lambda: cl.SGD(0.1), lambda: cl.SGD(0.1, 0.9),
                                  lambda: cl.RMSProp(0.01), lambda: cl.Adam(0.01)])
def test_float32_stays_float32(make):
    w = np.ones(3, np.float32)
    make().step({"w": w}, {"w": np.full(3, 0.5, np.float32)})
    assert w.dtype == np.float32 and np.all(w < 1)


@pytest.mark.parametrize("make", [lambda: cl.SGD(0.1), lambda: cl.SGD(0.05, 0.9),
                                  lambda: cl.RMSProp(0.05), lambda: cl.Adam(0.1)])
def test_minimises_a_quadratic(make):
    """f(w) = 0.5 * sum(a * (w - c)^2); every optimizer must get close to c."""
    a, c = np.array([1.0, 4.0]), np.array([3.0, -2.0])
    w, opt = np.zeros(2), make()
    for _ in range(500):
        opt.step({"w": w}, {"w": a * (w - c)})
    np.testing.assert_allclose(w, c, atol=0.05)


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), float("inf")])
@pytest.mark.parametrize("cls", [cl.SGD, cl.RMSProp, cl.Adam])
def test_bad_learning_rate_is_rejected(cls, bad):
    with pytest.raises(ValueError, match=f"{cls.__name__}: lr must be a positive"):
        cls(bad)


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="momentum must be in"):
        cl.SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="beta2 must be in"):
        cl.Adam(beta2=1.5)
    with pytest.raises(ValueError, match="rho must be in"):
        cl.RMSProp(rho=-0.1)


def test_get_optimizer():
    assert isinstance(cl.get_optimizer("adam"), cl.Adam)
    assert cl.get_optimizer("sgd", lr=0.5).lr == 0.5
    opt = cl.SGD(0.1)
    assert cl.get_optimizer(opt) is opt
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'.*adam"):
        cl.get_optimizer("lbfgs")
