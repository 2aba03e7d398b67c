"""What a bundle copies from the course: ``course_lib`` and the graded tests.

The student bundle (:mod:`.release`) and the Gradescope autograder
(:mod:`.gradescope`) both take them from here, each with its own choice: the
student's ``course_lib`` has no instructor's tools, the student's tests no hidden
tests and no oracles.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .engine_parts import strip_answers
from .leaks import NEVER_SHIPPED, repo_root

#: Parts of ``course_lib/grading/`` a student bundle does not get (the
#: instructor's tools: releasing, batch grading, the points manifest).
INSTRUCTOR_PARTS = ("assign", "batch", "checking/manifest.py")


def _ignore_cache(_dir, names):
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))
            or n.startswith(".")]


def copy_course_lib(dest: Path, student: bool) -> None:
    """Copy ``course_lib`` into ``dest`` (for a student bundle without the
    instructor's tools, and without the engine's parts that are exercises:
    :mod:`.engine_parts`)."""
    src = repo_root() / "course_lib"
    grading = src / "grading"

    def ignore(d, names):
        out = _ignore_cache(d, names)
        if student and Path(d).is_relative_to(grading):
            inside = Path(d).relative_to(grading)
            out += [n for n in names if (inside / n).as_posix() in INSTRUCTOR_PARTS]
        return out

    shutil.copytree(src, dest / "course_lib", ignore=ignore)
    if student:
        strip_answers(dest / "course_lib")


def copy_tests(dest: Path, chapters: list[str], include_hidden: bool) -> None:
    """The graded tests of ``chapters`` and their helpers.

    A student bundle (``include_hidden=False``) gets neither the hidden tests
    nor the oracles (:data:`.leaks.NEVER_SHIPPED`); the autograder gets both.
    """
    src = repo_root() / "tests" / "exercises"
    out = dest / "tests" / "exercises"
    out.mkdir(parents=True)
    if (src.parent / "conftest.py").exists():
        shutil.copy(src.parent / "conftest.py", dest / "tests" / "conftest.py")
    for path in sorted(src.glob("*.py")):
        if path.name.startswith("test_"):
            if path.name.startswith("test_ch") and path.name[5:9] in chapters:
                shutil.copy(path, out / path.name)
        elif include_hidden or path.name not in NEVER_SHIPPED:
            shutil.copy(path, out / path.name)  # conftest and shared helpers
    if include_hidden and (src / "hidden").is_dir():
        hid = out / "hidden"
        hid.mkdir()
        for path in sorted((src / "hidden").glob("*.py")):
            if not path.name.startswith("test_ch") or path.name[5:9] in chapters:
                shutil.copy(path, hid / path.name)
