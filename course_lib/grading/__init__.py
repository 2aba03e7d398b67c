"""The course's autograder.

- :func:`check` — grade your exercises from a notebook or a Python prompt;
- :func:`grade` — the same with every option (target folder, hidden tests, JSON);
- :class:`Report` — the result: ``.text()``, ``_repr_html_()``, ``.to_gradescope()``;
- :mod:`.remote` / :mod:`.worker` — run student code in a separate process;
- :mod:`.plugin` — the pytest plugin that records points and reasons;
- :mod:`.stubs` — generates ``exercises/`` from ``solutions/``.

Imports are lazy so that the grading worker starts fast.
"""

from __future__ import annotations

__all__ = ["CHAPTERS", "Report", "check", "classroom_config", "grade"]

#: chapter id -> (module file name without .py, short title)
CHAPTERS = {
    "ch01": ("ch01_forward_pass", "forward pass"),
    "ch02": ("ch02_loss", "loss functions"),
    "ch03": ("ch03_chain_rule", "chain rule and backprop"),
    "ch04": ("ch04_xor", "solving XOR"),
    "ch05": ("ch05_hyperparameters", "hyperparameters and optimizers"),
    "ch06": ("ch06_pitfalls", "pitfalls"),
    "ch07": ("ch07_digits", "digits capstone"),
    "ch08": ("ch08_batch_norm", "batch normalization"),
    "ch10": ("ch10_convolution", "convolutional networks"),
    "ch11": ("ch11_recurrent", "recurrent networks and BPTT"),
    "ch12": ("ch12_autoencoders", "autoencoders"),
}


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

    Examples
    --------
    >>> from course_lib.grading import check
    >>> check("ch03")                                   # doctest: +SKIP
    """
    from course_lib.grading.checking.runner import grade

    chapters = None if spec is None else [spec]
    return grade(target, chapters=chapters, include_hidden=include_hidden, **kwargs)


def __getattr__(name: str):
    if name in ("grade", "classroom_config"):
        from course_lib.grading.checking import runner

        return getattr(runner, name)
    if name == "Report":
        from course_lib.grading.checking.report import Report

        return Report
    raise AttributeError(f"module 'course_lib.grading' has no attribute {name!r}")
