"""Where things are: the course folder, its graded tests and its exercises.

A *course folder* holds ``tests/exercises`` (the graded tests): the repository
itself, or a student bundle laid out as ``bundle/{course_lib, exercises,
tests/exercises}``. Every part of the grader finds it through this module.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["course_root", "default_exercises", "default_tests_dir",
           "find_course_root", "package_parent"]


def package_parent() -> Path:
    """The folder holding the ``course_lib`` package in use.

    The course folder in a checkout or a bundle (editable install), a
    ``site-packages`` folder when ``course_lib`` is installed.
    """
    return Path(__file__).resolve().parents[3]


def course_root() -> Path | None:
    """The course folder holding the ``course_lib`` in use, or None when
    ``course_lib`` is installed elsewhere (e.g. in ``site-packages``)."""
    root = package_parent()
    markers = (root / "tests" / "exercises", root / "solutions")
    if "-packages" in root.name or not any(m.is_dir() for m in markers):
        return None
    return root


def find_course_root(start: str | Path | None = None) -> Path | None:
    """The course folder (it holds ``tests/exercises``), searched upwards.

    Looks from ``start`` (default: the current directory) upwards, then from the
    installed ``course_lib`` package upwards.
    """
    starts = [Path(start or Path.cwd()).resolve(), package_parent() / "course_lib"]
    for s in starts:
        for d in (s, *s.parents):
            if (d / "tests" / "exercises").is_dir():
                return d
    return None


def default_tests_dir() -> Path:
    """``tests/exercises`` beside the ``course_lib`` package in use."""
    return package_parent() / "tests" / "exercises"


def default_exercises() -> Path | None:
    """The ``exercises/`` folder of the course found upwards, or None."""
    root = find_course_root()
    return None if root is None else root / "exercises"
