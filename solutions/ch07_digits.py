"""Chapter 7 exercises: a real data set, handwritten digits, on your engine.

The helpers (``one_hot``, ``standardize``, ``accuracy``, ``confusion_matrix``)
use numpy only. ``train_digits`` trains **your own engine** (the layers,
losses, optimizers and training loop of chapters 1-6, imported below from
your chapter 6 file, which imports the earlier ones) on the digits;
``course_lib`` is not used.

Check your work with ``course grade ch07``.
"""

import numpy as np
from ch06_pitfalls import (  # noqa: F401  (your engine)
    SGD,
    Adam,
    Dense,
    Dropout,
    LeakyReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Tanh,
    initialize,
    train,
)


def one_hot(y, n_classes):
    r"""One-hot encoding of integer labels.

    .. math:: Y_{ik} = \mathbb{1}[y_i = k]

    Parameters
    ----------
    y : ndarray of int, shape (N,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes ``C`` (there may be classes absent from ``y``).

    Returns
    -------
    Y : ndarray of float, shape (N, C)
        One 1 per row, in the column of that row's label; zeros elsewhere.

    Examples
    --------
    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    # BEGIN SOLUTION: a zero matrix of shape (N, C) with a 1 at each (i, y_i)
    y = np.asarray(y).astype(int).reshape(-1)
    Y = np.zeros((y.shape[0], n_classes))
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y
    # END SOLUTION


def standardize(X_train, X_test):
    r"""Scale every feature to mean 0 and standard deviation 1, using the training set.

    .. math:: X' = \frac{X - \mu}{s}

    with :math:`\mu` and :math:`s` the per-column mean and (population)
    standard deviation of ``X_train`` **only**: the test set is transformed
    with the training statistics, as new data would be. Never compute
    statistics on the test set; that leaks it into training. A column that is
    constant in ``X_train`` has :math:`s = 0`: use :math:`s = 1` for it so
    nothing is divided by zero (the column becomes 0 in the training set).

    Parameters
    ----------
    X_train : ndarray, shape (N_train, D)
    X_test : ndarray, shape (N_test, D)

    Returns
    -------
    X_train_s : ndarray, shape (N_train, D)
    X_test_s : ndarray, shape (N_test, D)
        New arrays; the inputs are unchanged.
    """
    # BEGIN SOLUTION: column means and stds of X_train; replace zero stds by 1
    X_train = np.asarray(X_train, dtype=float)
    X_test = np.asarray(X_test, dtype=float)
    mu = X_train.mean(axis=0)
    s = X_train.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    return (X_train - mu) / s, (X_test - mu) / s
    # END SOLUTION


def accuracy(y_true, y_pred):
    r"""Fraction of correct predictions.

    .. math:: \mathrm{acc} = \frac{1}{N} \sum_i \mathbb{1}[\hat{y}_i = y_i]

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
        True and predicted labels.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> accuracy(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]))
    0.75
    """
    # BEGIN SOLUTION: compare element by element and average
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred).reshape(-1)
    return float(np.mean(y_true == y_pred))
    # END SOLUTION


def confusion_matrix(y_true, y_pred, n_classes):
    r"""Count how often each true class was predicted as each class.

    .. math:: C_{jk} = \#\{i : y_i = j,\ \hat{y}_i = k\}

    Rows are the **true** classes and columns the **predicted** ones (the
    convention of scikit-learn), so the diagonal holds the correct
    predictions and ``C.sum()`` is ``N``.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
        True and predicted labels in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes ``C``.

    Returns
    -------
    ndarray of int, shape (C, C)

    Examples
    --------
    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2)
    array([[1, 0],
           [1, 1]])
    """
    # BEGIN SOLUTION: add 1 at (true, predicted) for every example
    y_true = np.asarray(y_true).astype(int).reshape(-1)
    y_pred = np.asarray(y_pred).astype(int).reshape(-1)
    C = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(C, (y_true, y_pred), 1)
    return C
    # END SOLUTION


class DigitClassifier:
    """Your trained network together with the input scaling it was trained with (given).

    Parameters
    ----------
    model : Sequential
        Your chapter 6 model; its last layer outputs 10 logits.
    mean, std : ndarray, shape (64,)
        The training set's per-pixel statistics: ``predict`` scales raw pixels
        with them exactly as the training data were scaled.
    """

    def __init__(self, model, mean, std):
        self.model, self.mean, self.std = model, mean, std

    def predict(self, X):
        """Labels ``0 .. 9`` of shape ``(N,)`` for raw pixels ``X`` of shape (N, 64).

        The model is switched to evaluation mode first (a ``Dropout`` is off).
        """
        self.model.eval()
        logits = self.model.forward((np.asarray(X, dtype=float) - self.mean) / self.std)
        return np.argmax(logits, axis=1)


def train_digits(X, y, seed=0):
    r"""Train **your engine** on 8x8 digits and return a :class:`DigitClassifier`.

    Use your own pieces (imported at the top of this file): a ``Sequential``
    of your ``Dense`` and activation layers with 64 inputs and 10 output
    logits, your ``SoftmaxCrossEntropy``, your ``Adam`` (or ``SGD``) and your
    ``train`` (chapter 6's ``initialize``, ``Dropout`` and ``clip`` are there
    if you want them). Scale the pixels for training with per-pixel statistics of
    ``X`` and hand the same statistics to the ``DigitClassifier``, so that its
    ``predict`` takes raw pixels. The grader calls ``predict`` on held-out
    digits and expects at least 97 % accuracy, within 60 seconds of training
    (the reference takes a few seconds). Pass ``seed`` on, so that the result
    is reproducible.

    Parameters
    ----------
    X : ndarray, shape (N, 64)
        Pixel intensities in ``[0, 16]``, as ``course_lib.datasets.digits()``
        returns them.
    y : ndarray of int, shape (N,)
        Labels ``0 .. 9``.
    seed : int, optional
        Seed for the initialisation and the shuffling.

    Returns
    -------
    DigitClassifier
    """
    # BEGIN SOLUTION: scale with X's statistics; your Sequential, loss, optimizer, train
    X = np.asarray(X, dtype=float)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1.0
    model = Sequential([Dense(64, 128, seed=seed), Tanh(),
                        Dense(128, 10, seed=seed + 1)])
    train(model, SoftmaxCrossEntropy(), Adam(lr=0.003), (X - mean) / std, y,
          epochs=30, batch_size=32, seed=seed)
    return DigitClassifier(model, mean, std)
    # END SOLUTION
