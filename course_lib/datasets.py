"""Small datasets for the course, generated with numpy (no downloads).

Two-class toy sets return ``X (n, 2)`` float64 and ``y (n, 1)`` float64 of 0/1 (ready
for a sigmoid output and ``BinaryCrossEntropy``); multi-class sets return integer
labels ``y (n,)`` (ready for ``SoftmaxCrossEntropy``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "circles",
    "digits",
    "moons",
    "one_hot",
    "spirals",
    "standardize",
    "train_test_split",
    "xor",
]


def _check_n(n, minimum, name):
    if isinstance(n, bool) or int(n) != n or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")
    return int(n)


def xor():
    """The four XOR points.

    Returns
    -------
    X : (4, 2) float64
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]``
    y : (4, 1) float64
        ``[[0], [1], [1], [0]]``
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, y


def _finish(X, y, noise, rng):
    X = X + rng.normal(0.0, noise, size=X.shape) if noise else X
    order = rng.permutation(len(X))
    return X[order], y[order]


def moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles.

    Class 0 lies on the upper half circle of radius 1 centred at (0, 0); class 1 on
    the lower half circle centred at (1, 0.5). Gaussian noise of std ``noise`` is
    added and the samples are shuffled.

    Returns
    -------
    X : (n, 2) float64
    y : (n, 1) float64 of 0/1 (``n // 2`` ones, the rest zeros)
    """
    n = _check_n(n, 2, "moons")
    rng = np.random.default_rng(seed)
    n0 = n - n // 2
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n // 2)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0), np.ones(n // 2)]).reshape(-1, 1)
    return _finish(X, y, noise, rng)


def circles(n=200, noise=0.1, factor=0.5, seed=0):
    """A circle inside another: class 0 on radius 1, class 1 on radius ``factor``.

    Returns
    -------
    X : (n, 2) float64
    y : (n, 1) float64 of 0/1
    """
    n = _check_n(n, 2, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n0 = n - n // 2
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n // 2, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.concatenate([np.zeros(n0), np.ones(n // 2)]).reshape(-1, 1)
    return _finish(X, y, noise, rng)


def spirals(n=300, noise=0.2, n_classes=3, seed=0):
    """Interleaved spiral arms, one per class.

    Arm ``k`` has radius growing from 0 to 1 while the angle runs over
    ``[4k, 4k + 4]`` radians plus Gaussian angle noise of std ``noise``.

    Returns
    -------
    X : (n, 2) float64
    y : (n,) int64 in ``0..n_classes-1`` (classes differ in size by at most one)
    """
    n = _check_n(n, n_classes, "spirals")
    n_classes = _check_n(n_classes, 2, "spirals (n_classes)")
    rng = np.random.default_rng(seed)
    sizes = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    Xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), m) + rng.normal(0.0, noise, m)
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(m, k, dtype=np.int64))
    order = rng.permutation(n)
    return np.concatenate(Xs)[order], np.concatenate(ys)[order]


def digits():
    """The 8x8 handwritten digits that scikit-learn ships (no download needed).

    Returns
    -------
    X : (1797, 64) float64
        Pixel intensities 0..16, row by row (``X[i].reshape(8, 8)`` is the image).
    y : (1797,) int64
        Digit labels 0..9.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def train_test_split(X, y, test_size=0.25, seed=0, stratify=False):
    """Split arrays into random train and test parts.

    Parameters
    ----------
    X : (N, ...) array
    y : (N, ...) array
    test_size : float in (0, 1) or int
        Fraction (rounded up) or number of test samples.
    seed : int or None
    stratify : bool
        Keep the class proportions of ``y`` in both parts (labels are taken from
        ``y`` flattened per row).

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    X, y = np.asarray(X), np.asarray(y)
    N = len(X)
    if len(y) != N:
        raise ValueError(f"train_test_split: X has {N} rows but y has {len(y)}")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: test_size must be in (0, 1), "
                             f"got {test_size}")
        n_test = int(np.ceil(test_size * N))
    else:
        n_test = int(test_size)
    if not 0 < n_test < N:
        raise ValueError(f"train_test_split: need 0 < test samples < {N}, "
                         f"got {n_test}")
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(N)
        test, train = order[:n_test], order[n_test:]
    else:
        labels = y.reshape(N, -1)[:, 0] if y.ndim > 1 else y
        classes, inverse = np.unique(labels, return_inverse=True)
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            idx = rng.permutation(np.flatnonzero(inverse == c))
            k = round(n_test * len(idx) / N)
            test_parts.append(idx[:k])
            train_parts.append(idx[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


def standardize(X_train, X_test=None):
    r"""Scale features to mean 0 and std 1 using the *training* statistics only:
    :math:`X' = (X - \mu_{train}) / \sigma_{train}`, with :math:`\sigma` = 1 where a
    feature is constant in training (no division by zero).

    Parameters
    ----------
    X_train : (N_train, D)
    X_test : (N_test, D) or None

    Returns
    -------
    X_train_s, X_test_s : the scaled arrays (``X_test_s`` is None if X_test is)
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    X_test_s = None if X_test is None else (np.asarray(X_test) - mean) / std
    return (X_train - mean) / std, X_test_s


def one_hot(y, n_classes=None):
    """Integer labels (N,) -> one-hot float64 matrix (N, n_classes)."""
    y = np.asarray(y).astype(np.int64).ravel()
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"one_hot: labels must be in 0..{n_classes - 1}")
    out = np.zeros((y.size, n_classes))
    out[np.arange(y.size), y] = 1.0
    return out
