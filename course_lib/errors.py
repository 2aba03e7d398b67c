"""Errors raised by course_lib, written to be read by a student.

Every message names the argument, what was expected and what was received, so the
fix is obvious without reading a traceback.
"""

from __future__ import annotations

__all__ = ["DivergenceError", "ShapeError", "shape_str"]


class ShapeError(ValueError):
    """An array has the wrong shape.

    A subclass of :class:`ValueError`, so ``except ValueError`` still catches it.
    """


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or non-finite weights.

    The message names the epoch and suggests a smaller learning rate.
    """


def shape_str(shape) -> str:
    """Format a shape the way numpy prints it: ``(4, 3)``, ``(3,)``."""
    return str(tuple(int(s) for s in shape))
