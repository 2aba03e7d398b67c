"""The student-facing messages of ``course_lib.grading.checking.feedback``.

Each test builds a wrong answer with a known mistake (a transpose, a factor
of N, a factor of 2, a flipped sign...) and checks that the message names
that mistake, with expected substrings written out by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import RemoteObject

E = np.arange(1.0, 7.0).reshape(2, 3)  # [[1, 2, 3], [4, 5, 6]], not symmetric


def message(check, *args, **kwargs) -> str:
    """The Feedback message of a check that must fail."""
    with pytest.raises(fb.Feedback) as info:
        check(*args, **kwargs)
    text = str(info.value)
    assert isinstance(info.value, AssertionError)  # what the plugin expects
    assert "\n" not in text  # one line: the scorecard wraps it
    return text


# ------------------------------------------------------------------ display
def test_show_abridges_long_arrays_and_states_the_shape():
    assert fb.show(np.arange(100.0)) == "[0, 1, 2, ..., 97, 98, 99] (shape (100,))"
    text = fb.show(np.arange(100.0).reshape(10, 10))
    assert text.startswith("[[0, 1, 2, ..., 7, 8, 9], [10, 11, 12, ..., 17, 18, 19],")
    assert text.endswith("[90, 91, 92, ..., 97, 98, 99]] (shape (10, 10))")
    assert text.count("...") == 7  # six long rows and the row axis itself
    assert len(fb.show(np.zeros((1000, 1000)))) < 200


def test_show_rounds_numbers_and_keeps_short_things_whole():
    assert fb.show(1 / 3) == "0.3333"
    assert fb.show(np.float64(2.5)) == "2.5"
    assert fb.show(7) == "7"
    assert fb.show(True) == "True"
    assert fb.show([1, 2, 3]) == "[1, 2, 3] (shape (3,))"
    assert fb.show(np.array(4.0)) == "4"
    long = fb.show("x" * 500)
    assert len(long) == 200 and long.endswith("...")


def test_describe_type_names_arrays_none_and_plain_types():
    assert fb.describe_type(None) == "None"
    assert fb.describe_type(np.zeros((2, 3))) == (
        "an array of shape (2, 3) and dtype float64")
    assert fb.describe_type([1]) == "a list"
    assert fb.describe_type((1, 2)) == "a tuple"


def _remote(remote_type: str) -> RemoteObject:
    """A RemoteObject detached from any worker (only its type name is read)."""
    worker = SimpleNamespace(generation=1, pending_release=[], proc=None)
    return RemoteObject(SimpleNamespace(_worker=worker), 1, 1, remote_type, False)


@pytest.mark.parametrize("remote_type, expected", [
    ("ch07_digits.DigitModel", "a DigitModel (from ch07_digits)"),
    ("builtins.generator", "a generator"),
    ("numpy.random._generator.Generator",
     "a Generator (from numpy.random._generator)"),
    ("", "an object"),
])
def test_describe_type_names_the_class_of_a_remote_object(remote_type, expected):
    got = fb.describe_type(_remote(remote_type))
    assert got == expected
    assert "RemoteObject" not in got


def test_describe_type_strips_what_a_student_could_smuggle_in_a_class_name():
    got = fb.describe_type(_remote("evil.\x1b[2J" + "A" * 500))
    assert "\x1b" not in got and len(got) < 100


# ------------------------------------------------------------------ shapes
def test_transposed_shape_is_named():
    text = message(fb.check_shape, "dW", np.zeros((3, 2)), (2, 3))
    assert "dW has shape (3, 2); it must have shape (2, 3)." in text
    assert "transposed shape" in text
    assert "order of a matrix product" in text


@pytest.mark.parametrize("got_shape, expected_shape, phrase", [
    ((3, 1), (3,), "a dimension of size 1 is missing or extra"),
    ((1, 4), (4,), "keepdims=True"),
    ((5, 4), (4,), "one row per example"),
    ((), (4,), "You returned a single number"),
])
def test_other_shape_mistakes_are_named(got_shape, expected_shape, phrase):
    text = message(fb.check_shape, "db", np.zeros(got_shape), expected_shape)
    assert f"db has shape {got_shape}; it must have shape {expected_shape}." in text
    assert phrase in text


def test_unrecognised_shape_gives_no_guess_but_the_hint():
    text = message(fb.check_shape, "A", np.zeros((2, 5)), (3, 4), hint="Use X @ W.")
    assert text == "A has shape (2, 5); it must have shape (3, 4). Use X @ W."


# ------------------------------------------------------------------ values
def test_square_transpose_is_named():
    S = np.array([[1.0, 2.0], [3.0, 4.0]])
    text = message(fb.check_close, "dW", S.T, S)
    assert "Likely mistake: your result is the transpose of the expected one." in text


def test_symmetric_matrix_is_never_called_transposed():
    S = np.array([[2.0, 1.0], [1.0, 3.0]])
    text = message(fb.check_close, "dW", S + 1.0, S)
    assert "transpose" not in text


def test_factor_of_n_too_small_names_the_one_over_n():
    text = message(fb.check_close, "dW", E / 4, E, factors=fb.batch_factors(4, "dW"))
    assert text.startswith("dW is wrong: 6 of 6 entries differ.")
    assert "dW is 4 times too small, with 4 examples in the batch" in text
    assert "the 1/N is already in the incoming gradient" in text


def test_factor_of_n_too_large_names_the_mean():
    text = message(fb.check_close, "loss grad", 4 * E, E,
                   factors=fb.batch_factors(4, "the gradient"))
    assert "the gradient is 4 times too large, with 4 examples" in text
    assert "divide by N" in text


def test_factor_of_two_is_named_both_ways():
    assert "your result is twice the expected one." in message(
        fb.check_close, "dY", 2 * E, E)
    text = message(fb.check_close, "dY", E / 2, E)
    assert "your result is half the expected one: a missing factor of 2?" in text


def test_a_known_factor_uses_the_tests_own_explanation():
    text = message(fb.check_close, "dY", 2 * E, E,
                   factors={2.0: "d/dy of (y_hat - y)^2 is 2 (y_hat - y)."})
    assert "Likely mistake: d/dy of (y_hat - y)^2 is 2 (y_hat - y)." in text
    assert "twice" not in text


def test_flipped_sign_and_other_constant_factors():
    assert "Likely mistake: the sign is flipped." in message(
        fb.check_close, "dW", -E, E)
    assert "your result is 3.5 times the expected one (a constant factor)." in (
        message(fb.check_close, "dW", 3.5 * E, E))


def test_a_single_number_gets_no_made_up_factor():
    # any two numbers differ by a factor: only known ones may be named
    text = message(fb.check_close, "loss", 3.0, 1.0)
    assert text == "loss is wrong. Expected 1; received 3."


def test_all_zeros_and_nan_are_named():
    assert "Likely mistake: your result is all zeros." in message(
        fb.check_close, "dX", np.zeros_like(E), E)
    text = message(fb.check_close, "dX", np.array([1.0, np.nan]), np.ones(2))
    assert "nan or inf" in text and "log(0)" in text


def test_one_wrong_entry_is_located():
    got = E.copy()
    got[1, 2] = 7.0
    text = message(fb.check_close, "Z", got, E, context="for X of shape (2, 4)")
    assert text.startswith("Z is wrong for X of shape (2, 4): 1 of 6 entries differ.")
    assert "First difference at index (1, 2): expected 6, received 7." in text
    assert "Expected [[1, 2, 3], [4, 5, 6]] (shape (2, 3))" in text


def test_nearly_right_values_report_the_relative_error():
    text = message(fb.check_close, "dW", E * (1 + 1e-4), E, rtol=1e-6)
    assert "Close, but not close enough" in text
    assert "largest relative error is 0.0001 (allowed: 1e-06)" in text


def test_long_arrays_are_left_out_but_the_diagnosis_stays():
    expected = np.arange(1.0, 401.0).reshape(20, 20)
    name = "the gradient of the first layer's weights"
    text = message(fb.check_close, name, expected / 20, expected,
                   factors=fb.batch_factors(20, "dW1"),
                   hint="Divide by N once, in the loss gradient.")
    assert len(text) <= fb.MAX_MESSAGE + 100
    assert "dW1 is 20 times too small" in text
    assert "For example at index (0, 0): expected 1, received 0.05." in text
    assert text.endswith("Divide by N once, in the loss gradient.")
    assert "Expected [[" not in text  # the arrays were dropped


def test_passing_values_come_back_as_an_array():
    got = fb.check_close("dW", E.tolist(), E)
    assert isinstance(got, np.ndarray) and got.shape == (2, 3)


# ------------------------------------------------------------------ types and records
def test_none_and_non_numbers_are_explained():
    assert "Did you forget the `return` statement?" in message(
        fb.as_array, "y_hat", None)
    assert "expected an array of numbers, got a str ('abc')" in message(
        fb.as_array, "y_hat", "abc")
    text = message(fb.as_float, "loss", np.ones(3))
    assert "expected a single number, got an array of shape (3,)" in text
    assert "np.mean" in text
    assert fb.as_float("loss", np.array([[2.5]])) == 2.5


def test_unpack_names_the_expected_values():
    text = message(fb.unpack, "dense_backward", None, 3, ("dX", "dW", "db"))
    assert text == ("dense_backward must return 3 values (dX, dW, db) as a tuple, "
                    "got None.")
    text = message(fb.unpack, "f", (1, 2), 3, ("a", "b", "c"))
    assert "got a tuple" in text
    assert fb.unpack("f", [1, 2], 2, ("a", "b")) == (1, 2)


def test_in_place_changes_are_reported_with_before_and_after():
    text = message(fb.check_unchanged, "X", np.zeros(3), np.array([0.0, 1.0, 0.0]))
    assert text.startswith("Your function changed its input X in place.")
    assert "Before the call: [0, 0, 0] (shape (3,)); after: [0, 1, 0]" in text
    fb.check_unchanged("X", np.ones(2), np.ones(2))
    fb.check_unchanged("x", np.ones(2), np.ones(2) + 1e-15, atol=1e-12)


def test_underflow_is_harmless_but_overflow_is_reported():
    warnings = ["RuntimeWarning: underflow encountered in exp",
                {"category": "RuntimeWarning",
                 "message": "overflow encountered in exp"}]
    assert fb.harmful_warnings(warnings) == [
        "RuntimeWarning: overflow encountered in exp"]
    text = message(fb.check_no_warnings, "sigmoid(-1000)", warnings,
                   "Use a stable form.")
    assert text == ("sigmoid(-1000) raised a warning: RuntimeWarning: overflow "
                    "encountered in exp. Use a stable form.")
    fb.check_no_warnings("f", ["RuntimeWarning: underflow encountered"], "")
