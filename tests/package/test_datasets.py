"""Datasets and data helpers: shapes, dtypes, determinism, geometry."""

from __future__ import annotations

import numpy as np
import pytest

import course_lib as cl
from course_lib import datasets


def test_xor():
    X, y = datasets.xor()
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(y.ravel(), np.logical_xor(X[:, 0], X[:, 1]))


@pytest.mark.parametrize("make", [datasets.moons, datasets.circles])
@pytest.mark.parametrize("n", [2, 7, 200])
def test_two_class_sets(make, n):
    X, y = make(n=n)
    assert X.shape == (n, 2) and y.shape == (n, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert y.sum() == n // 2
    X2, y2 = make(n=n)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make(n=n, seed=1)[0]) or n == 2


def test_circles_radii_without_noise():
    X, y = datasets.circles(n=100, noise=0.0, factor=0.3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y.ravel() == 0], 1.0)
    np.testing.assert_allclose(r[y.ravel() == 1], 0.3)


def test_moons_geometry_without_noise():
    X, y = datasets.moons(n=100, noise=0.0)
    upper, lower = X[y.ravel() == 0], X[y.ravel() == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12


def test_spirals():
    X, y = datasets.spirals(n=301, n_classes=3)
    assert X.shape == (301, 2) and y.shape == (301,)
    assert np.issubdtype(y.dtype, np.integer)
    assert sorted(np.bincount(y)) == [100, 100, 101]
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-12
    np.testing.assert_array_equal(X, datasets.spirals(n=301)[0])


def test_bad_sizes():
    with pytest.raises(ValueError, match="n must be an integer"):
        datasets.moons(n=1)
    with pytest.raises(ValueError, match="factor"):
        datasets.circles(factor=1.5)


def test_digits():
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and X.min() == 0 and X.max() == 16
    assert set(np.unique(y)) == set(range(10))


def test_train_test_split():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=1)
    assert len(X_te) == 5 and len(X_tr) == 15
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)       # rows stay paired
    assert sorted(np.concatenate([y_tr, y_te])) == list(range(20))
    again = datasets.train_test_split(X, y, test_size=0.25, seed=1)
    np.testing.assert_array_equal(again[1], X_te)
    assert len(datasets.train_test_split(X, y, test_size=3)[1]) == 3
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="rows"):
        datasets.train_test_split(X, y[:5])


def test_stratified_split_keeps_proportions():
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100).reshape(-1, 1)
    _, _, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, stratify=True)
    assert np.sum(y_te == 1) == 5 and np.sum(y_te == 0) == 20
    y_col = y.reshape(-1, 1).astype(float)
    _, _, _, y_te = datasets.train_test_split(X, y_col, test_size=0.2, stratify=True)
    assert y_te.shape == (20, 1) and y_te.sum() == 4


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_tr = rng.normal(5.0, 3.0, size=(200, 3))
    X_tr[:, 2] = 7.0                                  # constant feature
    X_te = rng.normal(0.0, 1.0, size=(50, 3))
    A, B = datasets.standardize(X_tr, X_te)
    np.testing.assert_allclose(A[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(A[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(A[:, 2], 0.0)       # no division by zero
    mu, sd = X_tr[:, 0].mean(), X_tr[:, 0].std()
    np.testing.assert_allclose(B[:, 0], (X_te[:, 0] - mu) / sd)
    np.testing.assert_allclose(B[:, 2], X_te[:, 2] - 7.0)
    assert datasets.standardize(X_tr)[1] is None


def test_one_hot():
    np.testing.assert_array_equal(cl.datasets.one_hot([2, 0], 3),
                                  [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="labels must be in"):
        cl.datasets.one_hot([3], 3)
