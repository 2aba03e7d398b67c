"""Graded tests for chapter 7: handwritten digits (18 points).

Oracles: hand-worked encodings and counts, the definitions as loops
(``oracles.py``, asked through ``expected``: a bundle holds their values, not
their code, which would be chapter 7's answers), statistics from the training
part only, and the accuracy of the returned model on digits it never saw (a
stratified quarter of the data set, held out by this test).
"""

import functools

import numpy as np
import pytest
from expected import expected

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import StudentError

TRAIN_TIMEOUT = 120.0
MIN_ACCURACY = 0.97

# ---------------------------------------------------------------- one_hot


@pytest.mark.points(1)
def test_one_hot__hand_worked(ch07):
    fb.check_close("Y", ch07.one_hot(np.array([2, 0]), 3),
                   np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), rtol=0, atol=0,
                   context="for y = [2, 0], 3 classes",
                   hint="Row i has a single 1, in column y[i].")


@pytest.mark.points(1)
def test_one_hot__classes_absent_from_y(ch07):
    y = np.array([1, 1, 3])
    want = np.array([[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 1.0, 0.0]])
    fb.check_close("Y", ch07.one_hot(y, 5), want, rtol=0, atol=0,
                   context="for y = [1, 1, 3] and n_classes = 5",
                   hint="Use n_classes for the number of columns, not y.max() + 1.")


# ---------------------------------------------------------------- standardize


def _std_case():
    rng = np.random.default_rng(71)
    X_train = rng.normal(loc=[1.0, -2.0, 10.0], scale=[1.0, 3.0, 0.5], size=(6, 3))
    X_test = rng.normal(loc=[4.0, 0.0, 9.0], scale=[2.0, 1.0, 2.0], size=(4, 3))
    return X_train, X_test


def _standardize_result(ch07, X_train, X_test):
    res = ch07.call("standardize", X_train.copy(), X_test.copy())
    a, b = fb.unpack("standardize", res.value, 2, ("X_train_s", "X_test_s"))
    a = fb.check_shape("X_train_s", a, X_train.shape)
    b = fb.check_shape("X_test_s", b, X_test.shape)
    return res, a, b


@pytest.mark.points(2)
def test_standardize__test_set_uses_training_statistics(ch07):
    X_train, X_test = _std_case()
    _, _, got = _standardize_result(ch07, X_train, X_test)
    leak = expected("ch07", "standardize", "X_test by its own statistics", X_test,
                    X_test, 0)
    if np.allclose(got, leak):
        fb.fail("X_test_s was scaled with the test set's own mean and standard "
                "deviation: that leaks the test set. Use the statistics of X_train "
                "for both.")
    if np.allclose(got, expected("ch07", "standardize", "sample std", X_train,
                                 X_test, 1)):
        fb.fail("You used the sample standard deviation (ddof=1); the course uses "
                "np.std's default, the population standard deviation (ddof=0).")
    want = expected("ch07", "standardize", "X_test by X_train's statistics",
                    X_train, X_test, 0)
    fb.check_close("X_test_s", got, want, rtol=1e-9,
                   context="(X_test scaled with X_train's mean and std)",
                   hint="Each column of X_test is shifted by the mean of the same "
                   "column of X_train and divided by its standard deviation.")


@pytest.mark.points(1)
def test_standardize__train_columns_mean_0_std_1(ch07):
    X_train, X_test = _std_case()
    _, got, _ = _standardize_result(ch07, X_train, X_test)
    if np.allclose(got.mean(axis=1), 0) and not np.allclose(got.mean(axis=0), 0):
        fb.fail("Each row of X_train_s has mean 0, not each column: take the "
                "statistics over the examples (axis=0), one per feature.")
    fb.check_close("column means of X_train_s", got.mean(axis=0), np.zeros(3),
                   rtol=0, atol=1e-9)
    fb.check_close("column standard deviations of X_train_s", got.std(axis=0),
                   np.ones(3), rtol=1e-9)


@pytest.mark.points(2)
def test_standardize__constant_column_is_safe(ch07):
    X_train, X_test = _std_case()
    X_train[:, 1] = 7.0
    hint = ("A constant column has standard deviation 0: divide by 1 instead for that "
            "column.")
    res, got_train, got_test = _standardize_result(ch07, X_train, X_test)
    fb.check_no_warnings("standardize with a constant column", res.warnings, hint)
    fb.check_finite("X_train_s", got_train, "when a column of X_train is constant",
                    hint)
    want_train = expected("ch07", "standardize", "X_train, a constant column",
                          X_train, X_train, 0)
    want_test = expected("ch07", "standardize", "X_test, a constant column",
                         X_train, X_test, 0)
    fb.check_close("X_train_s", got_train, want_train, rtol=1e-9, atol=1e-12,
                   context="with column 1 constant (it becomes 0)", hint=hint)
    fb.check_close("X_test_s", got_test, want_test, rtol=1e-9,
                   context="with column 1 constant in X_train", hint=hint)


@pytest.mark.points(1)
def test_standardize__does_not_modify_inputs(ch07):
    X_train, X_test = _std_case()
    res, _, _ = _standardize_result(ch07, X_train, X_test)
    hint = "Return new arrays; the inputs must not be changed in place."
    fb.check_unchanged("X_train", X_train, res.args[0], hint)
    fb.check_unchanged("X_test", X_test, res.args[1], hint)


# ---------------------------------------------------------------- accuracy


@pytest.mark.points(1)
def test_accuracy__hand_worked(ch07):
    got = fb.as_float("accuracy", ch07.accuracy(np.array([0, 1, 2, 2]),
                                                np.array([0, 2, 2, 2])))
    fb.check_close("accuracy", got, 0.75, rtol=1e-12,
                   context="for y_true = [0, 1, 2, 2], y_pred = [0, 2, 2, 2]",
                   hint="3 of the 4 predictions are right: return the fraction, "
                   "a float in [0, 1].")


@pytest.mark.points(1)
def test_accuracy__fraction_on_a_batch(ch07):
    rng = np.random.default_rng(72)
    y_true = rng.integers(0, 10, size=37)
    y_pred = np.where(rng.random(37) < 0.7, y_true, (y_true + 1) % 10)
    want = expected("ch07", "accuracy", "37 labels", y_true, y_pred)
    got = fb.as_float("accuracy", ch07.accuracy(y_true, y_pred))
    fb.check_close("accuracy", got, want, rtol=1e-12,
                   factors={37.0: "you returned the number of correct predictions; "
                            "divide by N for the fraction."},
                   context="for 37 labels")


# ---------------------------------------------------------------- confusion matrix


@pytest.mark.points(1)
def test_confusion_matrix__hand_worked(ch07):
    got = fb.check_shape("C", ch07.confusion_matrix(np.array([0, 1, 1]),
                                                    np.array([0, 0, 1]), 2), (2, 2))
    if np.array_equal(got, [[1, 1], [0, 1]]):
        fb.fail("Your matrix is transposed: rows are the true classes and columns "
                "the predicted ones, so C[true, predicted] += 1.")
    fb.check_close("C", got, np.array([[1, 0], [1, 1]]), rtol=0, atol=0,
                   context="for y_true = [0, 1, 1], y_pred = [0, 0, 1]")


@pytest.mark.points(2)
def test_confusion_matrix__rows_are_true_classes(ch07):
    rng = np.random.default_rng(73)
    y_true = rng.integers(0, 3, size=40)
    y_pred = np.where(rng.random(40) < 0.5, y_true, rng.integers(0, 3, size=40))
    want = expected("ch07", "confusion_matrix", "40 labels, 3 classes", y_true,
                    y_pred, 3)
    got = fb.check_shape("C", ch07.confusion_matrix(y_true, y_pred, 3), (3, 3))
    if np.array_equal(got, want.T):
        fb.fail("Your matrix is transposed: rows are the true classes and columns "
                "the predicted ones (scikit-learn's convention).")
    if int(np.sum(got)) != 40:
        fb.fail(f"The entries of C must add up to the 40 examples; yours add up to "
                f"{fb.show(np.sum(got))}. Count each example's (true, predicted) "
                "pair once: an update made for many pairs at once counts a pair "
                "that repeats only once.")
    fb.check_close("C", got, want, rtol=0, atol=0, context="for 40 labels, 3 "
                   "classes")


@pytest.mark.points(1)
def test_confusion_matrix__classes_absent(ch07):
    got = fb.check_shape("C", ch07.confusion_matrix(np.array([0, 2, 2]),
                                                    np.array([0, 2, 1]), 4), (4, 4),
                         "The matrix is n_classes x n_classes, even when some "
                         "classes do not occur.")
    want = np.zeros((4, 4), dtype=int)
    want[0, 0] = want[2, 2] = want[2, 1] = 1
    fb.check_close("C", got, want, rtol=0, atol=0,
                   context="for y_true = [0, 2, 2], y_pred = [0, 2, 1], 4 classes")


# ---------------------------------------------------------------- train_digits


@functools.lru_cache(maxsize=1)
def _digits_split():
    import course_lib as cl

    X, y = cl.datasets.digits()
    return cl.datasets.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)


@pytest.mark.points(4)
def test_train_digits__held_out_accuracy(ch07):
    X_train, X_test, y_train, y_test = _digits_split()
    model = ch07.with_timeout(TRAIN_TIMEOUT).train_digits(X_train, y_train, 0)
    try:
        y_pred = model.predict(X_test)
    except (AttributeError, StudentError) as exc:
        if isinstance(exc, StudentError) and not exc.is_a("AttributeError"):
            raise
        kind = getattr(model, "remote_type", "") or fb.describe_type(model)
        fb.fail("train_digits must return a DigitClassifier (your trained model and "
                f"its input scaling), which has a predict method; it returned {kind}. "
                "(train returns the list of losses: return the classifier.)")
    y_pred = fb.as_array("model.predict(X_test)", y_pred)
    if y_pred.shape == (len(y_test), 10):
        fb.fail("predict returned one score per class; it must return labels (the "
                "given DigitClassifier takes the argmax for you).")
    y_pred = fb.check_shape("model.predict(X_test)", y_pred.reshape(-1)
                            if y_pred.size == len(y_test) else y_pred,
                            y_test.shape)
    acc = float(np.mean(y_pred == y_test))
    if acc < MIN_ACCURACY:
        fb.fail(f"Your model classifies {acc:.1%} of {len(y_test)} held-out digits "
                f"correctly; at least {MIN_ACCURACY:.0%} is required. The test calls "
                "predict on raw pixels (0..16), like the X you were given: the "
                "classifier must scale them as the training data were scaled. The "
                "chapter's experiments say what width, optimizer and number of "
                "epochs work.")
