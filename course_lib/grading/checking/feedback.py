"""Student-facing failure messages for graded tests.

Graded tests call the helpers here instead of bare ``assert`` so that a failing
check says, in plain words, what was expected, what came back (shape and
abridged values) and, when the numbers make it recognisable, the likely
mistake: a transposed result, a wrong sign, a factor of ``N`` from a missing
(or extra) batch mean, a factor of 2 from the derivative of a square.

Every check raises :class:`Feedback`, an ``AssertionError`` whose message is
the whole student-facing text, on one line (the scorecard wraps it); nothing
here imports pytest.
"""

import numpy as np

#: Significant digits shown when printing numbers in messages.
PRECISION = 4
#: Entries shown at each end of an abridged array.
EDGE_ITEMS = 3
#: Longest message worth building: beyond it the arrays are left out (the
#: scorecard shortens reasons to about 600 characters).
MAX_MESSAGE = 560


class Feedback(AssertionError):
    """A failed check whose message is written for the student.

    ``rule`` is the hint ladder's second rung (the shape rule or the formula,
    never the fixing line of code): the plugin appends it to the message when
    the same test failed the previous time too (:mod:`.ladder`).
    """

    def __init__(self, message, rule=None):
        super().__init__(message)
        self.rule = rule or None


def fail(message, rule=None):
    """Raise :class:`Feedback` with ``message`` (and the ladder's ``rule``)."""
    raise Feedback(message, rule)


def with_rule(rule):
    """Context manager: a :class:`Feedback` raised inside gets ``rule`` if it has none.

    >>> with with_rule("dW has the shape of W: (D_in, N) times (N, D_out)."):
    ...     check_close("dW", dW, expected)                   # doctest: +SKIP
    """
    return _WithRule(rule)


class _WithRule:
    def __init__(self, rule):
        self.rule = rule

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, Feedback) and not exc.rule:
            exc.rule = self.rule
        return False


# --------------------------------------------------------------------- display


def show(x):
    """Abridged, one-line text for an array, a number or anything else.

    Floats get ``PRECISION`` significant digits; arrays keep ``EDGE_ITEMS``
    entries at each end of every long axis and state their shape.
    """
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return _fmt_float(x)
    if isinstance(x, np.ndarray) or (isinstance(x, list | tuple) and _numeric(x)):
        arr = np.asarray(x)
        if arr.ndim == 0:
            return show(arr.item())
        text = np.array2string(
            arr,
            threshold=2 * EDGE_ITEMS + 1,
            edgeitems=EDGE_ITEMS,
            max_line_width=10_000,
            separator=", ",
            formatter={"float_kind": _fmt_float},
        )
        text = " ".join(text.split())
        return f"{text} (shape {arr.shape})"
    text = repr(x)
    return text if len(text) <= 200 else text[:197] + "..."


def _fmt_float(v):
    return f"{float(v):.{PRECISION}g}"


def _numeric(seq):
    try:
        return np.asarray(seq).dtype.kind in "biufc"
    except (ValueError, TypeError):
        return False


def describe_type(x):
    """Name the kind of thing a student's function returned.

    An object that stayed in the student's worker (a
    :class:`~course_lib.grading.checking.remote.RemoteObject`) is named by its class
    there, e.g. ``"a generator"`` or ``"a Model (from ch07_digits)"``, never
    by the proxy's own class.
    """
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    from course_lib.grading.checking.remote import RemoteObject

    if isinstance(x, RemoteObject):
        return _describe_remote(x.remote_type)
    return f"a {type(x).__name__}"


def _describe_remote(remote_type):
    """``"a Model (from ch07_digits)"`` for ``remote_type`` ``"ch07_digits.Model"``.

    The name comes from the student's process, so it is cut short and stripped
    of anything but name characters.
    """
    text = "".join(c for c in str(remote_type) if c.isalnum() or c in "._<>")[:80]
    module, _, name = text.rpartition(".")
    if not name:
        return "an object"
    if module in ("", "builtins", "__main__"):
        return f"a {name}"
    return f"a {name} (from {module})"


# ------------------------------------------------------------------- arrays


def as_array(name, got, hint=None):
    """``got`` as an ndarray of numbers, or a :class:`Feedback` naming the problem.

    Python numbers, lists and numpy scalars are accepted and converted.
    """
    if got is None:
        fail(
            f"{name}: your function returned None. Did you forget the `return` "
            "statement?" + _then(hint)
        )
    if isinstance(got, bool | np.bool_):
        return np.asarray(got)
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything unconvertible is the student's
        fail(f"{name}: expected an array of numbers, got {describe_type(got)}.")
    if arr.dtype.kind not in "biufc":
        fail(
            f"{name}: expected an array of numbers, got {describe_type(got)}"
            f" ({show(got)})." + _then(hint)
        )
    return arr


def as_float(name, got, hint=None):
    """``got`` as a Python float (a number or a one-entry array)."""
    arr = as_array(name, got, hint)
    if arr.size != 1:
        fail(
            f"{name}: expected a single number, got an array of shape {arr.shape}"
            f" ({show(arr)}). Reduce it with np.mean (the course's losses are "
            "batch means)." + _then(hint)
        )
    return float(arr.reshape(()))


def check_shape(name, got, expected_shape, hint=None, rule=None):
    """Fail unless ``got`` is an array of exactly ``expected_shape``.

    ``rule`` is the hint ladder's second rung (see :class:`Feedback`).
    """
    with with_rule(rule):
        return _check_shape(name, got, expected_shape, hint)


def _check_shape(name, got, expected_shape, hint):
    arr = as_array(name, got, hint)
    expected_shape = tuple(expected_shape)
    if arr.shape == expected_shape:
        return arr
    parts = [f"{name} has shape {arr.shape}; it must have shape {expected_shape}."]
    guess = shape_diagnosis(arr.shape, expected_shape)
    if guess:
        parts.append(guess)
    if hint:
        parts.append(hint)
    fail(" ".join(parts))
    return arr  # pragma: no cover


def shape_diagnosis(got_shape, expected_shape):
    """A guess at why a shape is wrong, or ``""``."""
    got_shape, expected_shape = tuple(got_shape), tuple(expected_shape)
    if len(got_shape) == len(expected_shape) == 2 and got_shape == expected_shape[::-1]:
        return "That is the transposed shape: check the order of a matrix product."
    squeeze = tuple(d for d in got_shape if d != 1)
    if squeeze == tuple(d for d in expected_shape if d != 1):
        return (
            "Same entries, different layout: a dimension of size 1 is missing "
            "or extra (mind keepdims=True or reshape)."
        )
    if len(got_shape) == len(expected_shape) + 1 and got_shape[1:] == expected_shape:
        return (
            "There is one row per example: sum (or average) over the batch axis "
            "(axis=0)."
        )
    if got_shape == ():
        return "You returned a single number: do not reduce over every axis."
    return ""


def close_enough(got, expected, rtol, atol):
    """Element-wise closeness like ``np.allclose``, with NaN never close."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    return np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)


def check_close(
    name,
    got,
    expected,
    rtol=1e-6,
    atol=1e-9,
    hint=None,
    factors=None,
    context="",
    rule=None,
):
    """Fail unless ``got`` matches ``expected`` (shape, then values).

    Parameters
    ----------
    name : str
        What the student computed, as the exercise names it (``"dW"``).
    got, expected : array_like
        The student's value and the oracle's.
    rtol, atol : float
        Tolerances, as for ``np.allclose``.
    hint : str, optional
        Appended to any failure message.
    factors : dict of float to str, optional
        Known scale mistakes: if ``got == k * expected`` for one of the keys
        ``k``, the message quotes its explanation. Without a match, any
        constant factor is still reported.
    context : str, optional
        The inputs, described briefly (``"for X of shape (3, 2)"``).
    rule : str, optional
        The hint ladder's second rung: the shape rule or the formula, shown
        from the second failure in a row of the same test (never the code).

    Returns
    -------
    ndarray
        ``got`` as an array (when it passes).
    """
    with with_rule(rule):
        return _check_close(name, got, expected, rtol, atol, hint, factors, context)


def _check_close(name, got, expected, rtol, atol, hint, factors, context):
    expected = np.asarray(expected, dtype=float)
    arr = check_shape(name, got, expected.shape, hint)
    ok = close_enough(arr, expected, rtol, atol)
    if ok.all():
        return arr
    ctx = f" {context}" if context else ""
    wrong = int((~ok).sum())
    if expected.size == 1:
        head = f"{name} is wrong{ctx}."
    else:
        head = f"{name} is wrong{ctx}: {wrong} of {ok.size} entries differ."
    guess = value_diagnosis(arr, expected, factors, rtol=max(rtol, 1e-6), atol=atol)
    likely = f"Likely mistake: {guess}" if guess else ""
    values = f"Expected {show(expected)}; received {show(arr)}."
    near = _largest_relative_error(arr, expected, atol)
    if near is not None and near < 1e-2:
        detail = (
            f"Close, but not close enough: the largest relative error is "
            f"{near:.2g} (allowed: {rtol:.2g})."
        )
    elif expected.size > 1 and wrong < ok.size:
        idx = np.unravel_index(np.argmax(~ok), ok.shape)
        detail = (
            f"First difference at index {tuple(int(i) for i in idx)}: expected "
            f"{show(float(expected[idx]))}, received {show(float(arr[idx]))}."
        )
    else:
        detail = ""
    lines = [head, likely, values, detail, hint or ""]
    if len(" ".join(lines)) > MAX_MESSAGE:  # keep the diagnosis, drop the arrays
        if not detail and expected.size > 1:
            idx = np.unravel_index(np.argmax(~ok), ok.shape)
            detail = (
                f"For example at index {tuple(int(i) for i in idx)}: expected "
                f"{show(float(expected[idx]))}, received {show(float(arr[idx]))}."
            )
        lines = [head, likely, detail, hint or ""]
    lines = [line for line in lines if line]
    fail(" ".join(lines))
    return arr  # pragma: no cover


def value_diagnosis(got, expected, factors=None, rtol=1e-6, atol=1e-9):
    """Recognise a common mistake from the numbers alone, or return ``""``."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(got)):
        return (
            "your result contains nan or inf: an overflow in exp, a log(0) or a "
            "division by zero."
        )
    if got.shape != expected.shape:
        return shape_diagnosis(got.shape, expected.shape)
    if (
        got.ndim == 2
        and got.shape[0] == got.shape[1]
        and np.allclose(got, expected.T, rtol=rtol, atol=atol)
        and not np.allclose(expected, expected.T, rtol=rtol, atol=atol)
    ):
        return "your result is the transpose of the expected one."
    if not np.any(expected) and np.any(got):
        return "the expected result is all zeros here."
    if np.any(expected) and not np.any(got):
        return "your result is all zeros."
    k = scale_factor(got, expected, rtol=rtol, atol=atol)
    if k is None:
        return ""
    for factor, explanation in (factors or {}).items():
        if np.isclose(k, factor, rtol=1e-6):
            return explanation
    if np.isclose(k, -1.0):
        return "the sign is flipped."
    if expected.size == 1:
        return ""  # any two numbers differ by "a constant factor": say nothing
    if np.isclose(k, 2.0):
        return "your result is twice the expected one."
    if np.isclose(k, 0.5):
        return "your result is half the expected one: a missing factor of 2?"
    if np.isclose(k, 1.0):
        return ""
    return f"your result is {show(k)} times the expected one (a constant factor)."


def _largest_relative_error(got, expected, atol):
    """``max |got - expected| / max(|expected|, atol)``, or None if not finite."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return None
    denom = np.maximum(np.abs(expected), max(atol, 1e-300))
    return float(np.max(np.abs(got - expected) / denom))


def scale_factor(got, expected, rtol=1e-6, atol=1e-9):
    """``k`` such that ``got == k * expected`` everywhere, or ``None``."""
    got = np.asarray(got, dtype=float).ravel()
    expected = np.asarray(expected, dtype=float).ravel()
    denom = float(expected @ expected)
    if denom == 0.0 or not np.all(np.isfinite(got)):
        return None
    k = float(got @ expected) / denom
    if k == 0.0:
        return None
    if np.allclose(got, k * expected, rtol=max(rtol, 1e-6), atol=atol):
        return k
    return None


def batch_factors(n, what="the result"):
    """Explanations for ``got == N * expected`` and ``got == expected / N``."""
    return {
        float(n): (
            f"{what} is {n} times too large, with {n} examples in the batch: the "
            "course averages over the batch (divide by N), or a sum was taken "
            "instead of a mean."
        ),
        1.0 / n: (
            f"{what} is {n} times too small, with {n} examples in the batch: the "
            "1/N is already in the incoming gradient; do not divide by N again."
        ),
    }


# ----------------------------------------------------------------- records


def harmful_warnings(warnings):
    """The warnings that signal a real numerical problem.

    Underflow to 0 (``exp(-1000)``) is harmless and ignored; overflow, division
    by zero, invalid operations and every other warning are kept. Accepts
    strings, ``warnings.WarningMessage`` objects or dicts with a ``message``.
    """
    kept = []
    for w in warnings or ():
        text = _warning_text(w)
        if "underflow" in text.lower():
            continue
        kept.append(text)
    return kept


def _warning_text(w):
    if isinstance(w, str):
        return w
    if isinstance(w, dict):
        category = w.get("category", "")
        return (
            f"{category}: {w.get('message', w)}"
            if category
            else str(w.get("message", w))
        )
    message = getattr(w, "message", w)
    category = getattr(w, "category", None)
    name = getattr(category, "__name__", category)
    return f"{name}: {message}" if name else str(message)


def check_no_warnings(what, warnings, hint):
    """Fail if the call raised a harmful warning (see :func:`harmful_warnings`)."""
    bad = harmful_warnings(warnings)
    if bad:
        fail(f"{what} raised a warning: {bad[0]}. {hint}")


def check_finite(name, got, what, hint):
    """Fail if ``got`` holds NaN or infinity."""
    arr = as_array(name, got)
    if not np.all(np.isfinite(arr)):
        fail(f"{name} is not finite {what}: received {show(arr)}. {hint}")
    return arr


def check_unchanged(name, before, after, hint="", rtol=0.0, atol=0.0):
    """Fail if an input array was modified by the student's function.

    With the default tolerances of 0 the array must be bit for bit the same;
    pass small ones where putting a value back may round (``x += h; x -= h``).
    """
    before = np.asarray(before)
    after_arr = np.asarray(after)
    same = before.shape == after_arr.shape and (
        np.array_equal(before, after_arr, equal_nan=True)
        or (
            before.dtype.kind in "fc"
            and np.allclose(after_arr, before, rtol=rtol, atol=atol)
            and (rtol > 0 or atol > 0)
        )
    )
    if not same:
        advice = hint or (
            "Work on new arrays (x = x - ... rather than x -= ...) or copy first."
        )
        message = (
            f"Your function changed its input {name} in place. {advice} "
            f"(Before the call: {show(before)}; after: {show(after_arr)}.)"
        )
        if len(message) > MAX_MESSAGE:
            message = f"Your function changed its input {name} in place. {advice}"
        fail(message)


def unpack(name, got, n, names):
    """Check that a function returned a tuple of ``n`` values; return it."""
    if not isinstance(got, tuple | list) or len(got) != n:
        fail(
            f"{name} must return {n} values ({', '.join(names)}) as a tuple, "
            f"got {describe_type(got)}."
        )
    return tuple(got)


def _then(hint):
    return f" {hint}" if hint else ""
