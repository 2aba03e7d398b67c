"""The course's autograder.

- :func:`check` — grade your exercises from a notebook or a Python prompt;
- :func:`grade` — the same with every option (target folder, hidden tests, JSON);
- :class:`Report` — the result: ``.text()``, ``_repr_html_()``, ``.to_gradescope()``;
- :data:`CHAPTERS` — the course's chapters (defined once, in :mod:`.core.chapters`).

The grader is laid out by job, on a small common core:

- :mod:`.core` — the facts every job shares: chapters, paths, solution markers,
  processes;
- :mod:`.checking` — grading one student's work (``course grade``, ``check()``):
  runner, pytest plugin, worker and its wire format, scorecard, feedback;
- :mod:`.assign` — ``course exercises`` and ``course release``;
- :mod:`.batch` — ``course grade-batch`` and its sandbox.

Imports are lazy so that the grading worker starts fast.
"""

from __future__ import annotations

from course_lib.grading.core.chapters import CHAPTERS

__all__ = ["CHAPTERS", "Report", "check", "grade"]


def check(spec: str | int | None = None, *, target=None, include_hidden: bool = False,
          **kwargs):
    """Grade one chapter, one exercise, or everything, and return the scorecard.

    Parameters
    ----------
    spec : str or int, optional
        ``"ch03"``, ``3``, ``"ch03.dense_backward"`` (one exercise), or ``None`` for
        every chapter.
    target : str or Path, optional
        Folder with your files; default: the ``exercises/`` folder of the course,
        found by walking up from the current directory (works from ``book/``).
    include_hidden : bool
        Also run hidden tests (instructors).
    **kwargs
        Passed to :func:`grade` (e.g. ``call_timeout``).

    Returns
    -------
    Report
        Shown as a table in a notebook and as a text scorecard elsewhere.

    Notes
    -----
    The graded code runs in a worker process with your account's rights, with
    no sandbox: grade your own work with it. For work you did not write, use
    ``course grade-batch`` (each submission sandboxed).

    Examples
    --------
    >>> from course_lib.grading import check
    >>> check("ch03")                                   # doctest: +SKIP
    """
    from course_lib.grading.checking.runner import grade

    chapters = None if spec is None else [spec]
    return grade(target, chapters=chapters, include_hidden=include_hidden, **kwargs)


def __getattr__(name: str):
    if name == "grade":
        from course_lib.grading.checking import runner

        return getattr(runner, name)
    if name == "Report":
        from course_lib.grading.checking.report import Report

        return Report
    raise AttributeError(f"module 'course_lib.grading' has no attribute {name!r}")
