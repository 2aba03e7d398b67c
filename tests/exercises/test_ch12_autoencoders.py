"""Graded tests for chapter 12: the reconstruction loss, its gradient, denoising
pairs and a trained autoencoder (18 points, 3 more in hidden tests).

The loss is checked against its formula as a loop, the gradient against finite
differences of it, the noise by its statistics (six standard errors), and the
trained model on digits it never saw, with the error computed here.
"""

import math

import numpy as np
import pytest
from oracles import digits_scaled, squared_error_grad, squared_error_mean

import course_lib as cl
from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

RNG = np.random.default_rng(1201)


def _case(N=5, D=7):
    # seeded here, not by the module's RNG: the same numbers whichever tests run
    # (a release keeps the oracle's values for exactly these inputs)
    rng = np.random.default_rng(1200 + 10 * N + D)
    return rng.uniform(size=(N, D)), rng.uniform(size=(N, D))


@pytest.mark.points(1)
def test_reconstruction_loss__perfect_is_zero(ch12):
    X = RNG.uniform(size=(4, 6))
    fb.check_close("loss", fb.as_float("loss", ch12.reconstruction_loss(X, X.copy())),
                   0.0, atol=1e-12, context="when X_hat equals X")


@pytest.mark.points(2)
def test_reconstruction_loss__mean_over_every_entry(ch12):
    X, X_hat = _case()
    got = fb.as_float("loss", ch12.reconstruction_loss(X, X_hat))
    want = squared_error_mean(X, X_hat)
    fb.check_close("loss", got, want, rtol=1e-9,
                   factors={35.0: "you summed instead of taking the mean over "
                                  "all N * D = 35 entries",
                            7.0: "you averaged over the N rows only; the mean is "
                                 "over every entry (N * D)",
                            5.0: "you averaged over the D columns only; the mean "
                                 "is over every entry (N * D)"},
                   context="for X and X_hat of shape (5, 7)")


@pytest.mark.points(3)
def test_reconstruction_loss_grad__matches_finite_differences(ch12):
    X, X_hat = _case(4, 6)
    got = fb.check_shape("dX_hat", ch12.reconstruction_loss_grad(X, X_hat),
                         X.shape, "The gradient has the shape of X_hat.")
    want = squared_error_grad(X, X_hat)
    fb.check_close("dX_hat", got, want, rtol=1e-5, atol=1e-9,
                   factors={24.0: "the 1 / (N * D) of the mean is missing",
                            0.5: "the factor 2 of the square's derivative is "
                                 "missing",
                            -1.0: "the sign is reversed: it is X_hat - X"},
                   context="(compared with finite differences)",
                   hint="The derivative of mean((X_hat - X)**2) with respect to "
                        "one entry of X_hat.")


@pytest.mark.points(2)
def test_denoising_pair__target_is_the_clean_input(ch12):
    X = RNG.uniform(size=(6, 8))
    out = fb.unpack("denoising_pair", ch12.denoising_pair(X, 0.3, Rng(5)), 2,
                    ("X_in", "X_target"))
    X_in = fb.check_shape("X_in", out[0], X.shape)
    target = fb.check_shape("X_target", out[1], X.shape)
    if np.allclose(target, X_in):
        fb.fail("X_target is the noisy input. A denoising autoencoder is trained "
                "to give back the *clean* X from the noisy one: the target is X.")
    fb.check_close("X_target", target, X, rtol=1e-12,
                   hint="The target is the clean X, unchanged.")


@pytest.mark.points(2)
def test_denoising_pair__noise_statistics(ch12):
    X = np.full((400, 50), 0.5)
    std = 0.2
    X_in = fb.check_shape("X_in", fb.unpack(
        "denoising_pair", ch12.denoising_pair(X, std, Rng(6)), 2,
        ("X_in", "X_target"))[0], X.shape)
    noise = X_in - X
    n = noise.size
    if abs(noise.mean()) > 6 * std / math.sqrt(n):
        fb.fail(f"The noise has mean {noise.mean():.4g}; it must have mean 0.")
    if abs(noise.std() - std) > 6 * std / math.sqrt(2 * n):
        fb.fail(f"The noise has standard deviation {noise.std():.4g}, not "
                f"noise_std = {std}: add rng.normal(0, noise_std, size=X.shape).")
    again = fb.unpack("denoising_pair", ch12.denoising_pair(X, std, Rng(6)), 2,
                      ("X_in", "X_target"))[0]
    if not np.array_equal(np.asarray(again), X_in):
        fb.fail("Two calls with the same seed gave different noise: draw it from "
                "the rng argument.")


@pytest.fixture(scope="module")
def trained(ch12):
    X_train, X_test = digits_scaled()
    return ch12.with_timeout(60).train_autoencoder(X_train, 8, 0), X_test


@pytest.mark.points(6)
def test_train_autoencoder__reconstruction_error_on_new_digits(trained):
    model, X_test = trained
    X_hat = fb.check_shape("model.reconstruct(X_test)",
                           model.reconstruct(X_test), X_test.shape)
    # the learner's reconstructions: measured with the public engine's MSE
    error = cl.MSE().loss(X_test, np.asarray(X_hat, dtype=float))
    baseline = cl.MSE().loss(X_test, np.broadcast_to(X_test.mean(axis=0),
                                                     X_test.shape))
    if not error < 0.025:
        fb.fail(f"The reconstruction error on 360 digits the model never saw is "
                f"{error:.4f}; it must be below 0.025 with an 8-number code (the "
                f"mean image alone gives {baseline:.4f}). Train longer (tens of "
                "epochs of mini-batches), check the loss gradient, and that the "
                "optimizer steps after every batch.")


@pytest.mark.points(2)
def test_train_autoencoder__code_has_n_code_numbers(trained):
    model, X_test = trained
    fb.check_shape("model.encode(X_test)", model.encode(X_test[:10]), (10, 8),
                   "The code of each digit has n_code = 8 numbers.")
