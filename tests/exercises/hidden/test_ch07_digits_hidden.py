"""Hidden graded tests for chapter 7 (run by the instructor at the end)."""

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import StudentError

pytestmark = pytest.mark.hidden


@pytest.mark.points(2)
def test_train_digits__other_split_and_seed(ch07):
    import course_lib as cl

    X, y = cl.datasets.digits()
    X_train, X_test, y_train, y_test = cl.datasets.train_test_split(
        X, y, test_size=0.3, seed=5, stratify=True)
    model = ch07.with_timeout(120.0).train_digits(X_train, y_train, 1)
    try:
        y_pred = model.predict(X_test)
    except (AttributeError, StudentError) as exc:
        if isinstance(exc, StudentError) and not exc.is_a("AttributeError"):
            raise
        fb.fail("train_digits must return a DigitClassifier, which has a predict "
                "method.")
    y_pred = fb.as_array("model.predict(X_test)", y_pred).reshape(-1)
    acc = float(np.mean(y_pred == y_test))
    if acc < 0.96:
        fb.fail(f"With another seed on another split your model gets {acc:.1%} of "
                "the held-out digits right; at least 96% is required.")


@pytest.mark.points(1)
def test_confusion_matrix__diagonal_is_correct_count(ch07):
    rng = np.random.default_rng(771)
    y_true = rng.integers(0, 10, size=200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, rng.integers(0, 10, size=200))
    C = fb.check_shape("C", ch07.confusion_matrix(y_true, y_pred, 10), (10, 10))
    fb.check_close("trace of C", float(np.trace(C)), float(np.sum(y_true == y_pred)),
                   rtol=0, atol=0, context="(the number of correct predictions)")
    fb.check_close("row sums of C", C.sum(axis=1),
                   np.bincount(y_true, minlength=10).astype(float), rtol=0, atol=0,
                   context="(the number of examples of each true class)")
