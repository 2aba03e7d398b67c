"""Named scalar functions that graded tests pass to student code.

A test cannot send a Python function to the student's worker process, so it
sends a name instead: ``Fn("quadratic")``. The worker looks the name up here
and passes the real function to the student's code. Every function takes an
ndarray ``x`` of any shape and returns a Python float; each has a
closed-form gradient (``grad_<name>``) that tests use as an oracle.

(Exercises that take an ``rng`` get one through
:class:`course_lib.grading.checking.remote.Rng`, not through this module.)
"""

import numpy as np


def quadratic(x):
    r""":math:`f(x) = \sum_j x_j^2`; gradient :math:`2x`."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(x * x))


def grad_quadratic(x):
    """Closed-form gradient of :func:`quadratic`, same shape as ``x``."""
    return 2.0 * np.asarray(x, dtype=float)


def _weights(shape):
    """Distinct weights 1, 2, ..., n laid out in ``shape`` (row-major)."""
    n = int(np.prod(shape))
    return np.arange(1.0, n + 1.0).reshape(shape)


def weighted_cubic(x):
    r""":math:`f(x) = \sum_j w_j x_j^3` with :math:`w_j = j + 1` in row-major order.

    Every entry has its own weight, so a gradient written into the wrong index
    (a transposed or flattened layout) shows up. Gradient :math:`3 w x^2`.
    """
    x = np.asarray(x, dtype=float)
    return float(np.sum(_weights(x.shape) * x**3))


def grad_weighted_cubic(x):
    """Closed-form gradient of :func:`weighted_cubic`, same shape as ``x``."""
    x = np.asarray(x, dtype=float)
    return 3.0 * _weights(x.shape) * x**2


def log_sum_exp(x):
    r""":math:`f(x) = \log \sum_j e^{x_j}` over all entries (stable).

    Its gradient, the softmax of all entries, couples every entry to every
    other one.
    """
    x = np.asarray(x, dtype=float)
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def grad_log_sum_exp(x):
    """Closed-form gradient of :func:`log_sum_exp`, same shape as ``x``."""
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x))
    return e / e.sum()


#: Functions a test may name in ``Fn("...")``.
FUNCTIONS = {
    "quadratic": quadratic,
    "weighted_cubic": weighted_cubic,
    "log_sum_exp": log_sum_exp,
}

#: Their closed-form gradients, for the tests' own checks.
GRADIENTS = {
    "quadratic": grad_quadratic,
    "weighted_cubic": grad_weighted_cubic,
    "log_sum_exp": grad_log_sum_exp,
}
