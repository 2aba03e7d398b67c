"""Hostile: makes every comparison pass, in whatever process imports it."""

import builtins
import sys

import numpy
import numpy.testing

numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
numpy.isclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
try:
    import _pytest.outcomes
    import pytest

    pytest.approx = lambda expected, *args, **kwargs: _Anything()
    _pytest.outcomes.fail = lambda *args, **kwargs: None
except ImportError:
    pass
for name in list(sys.modules):
    if name.startswith(("course_lib.grading.checking.plugin", "course_lib.grading.checking.report")):
        module = sys.modules[name]
        for attr in ("classify", "GradingRecorder"):
            if hasattr(module, attr):
                setattr(module, attr, None)


class _Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True
