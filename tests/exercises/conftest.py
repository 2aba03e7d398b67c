"""Fixtures for the graded tests: one proxy per chapter (``ch01`` ... ``ch07``).

Each fixture is a session-wide
:class:`course_lib.grading.checking.remote.StudentModule` for the chapter's file in
the target folder; the student's code runs in a separate worker
process, never in this one. Works under plain ``pytest tests/exercises`` as well as
under ``course grade``. Reference computations shared by several test files
(finite differences, the sigmoid, the XOR data) live in ``oracles.py`` here.

Options
-------
--target DIR
    Folder with the files to grade (default: ``<course>/exercises``; relative paths are
    taken from the current directory). ``--target solutions`` grades the reference
    answers.
--student-timeout SECONDS
    Default time limit of one call (10 s). A test needing more uses
    ``ch04.with_timeout(60).train_xor(...)``.

Environment (set by the instructor tools, rarely by hand)
---------------------------------------------------------
COURSE_TARGET
    Default for ``--target``.
COURSE_TIMEOUT
    Default for ``--student-timeout``.
COURSE_CHAPTER_BUDGET
    Seconds that all calls to one chapter's file may take together (default 120;
    ``0`` for no limit). When a chapter's calls have used it up, its remaining
    tests fail at once with a reason saying so, and the other chapters keep their
    share of the run's time limit (seven chapters x 120 s < the 900 s default).
    Calls a test explicitly allows to be long (``ch07.with_timeout(120)...``) are
    bounded by their own limit and not counted.
COURSE_WORKER_PREFIX
    JSON list prepended to the worker command (a sandbox such as bubblewrap).
COURSE_WORKER_PYTHON
    Interpreter the worker runs (default: this one); the sandbox's fallback as
    root gives its workers a copy they can read.
COURSE_WORKER_RLIMITS
    JSON object of resource limits for the worker, e.g. ``{"RLIMIT_AS": 2e9}``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
COURSE_ROOT = HERE.parents[1]

try:  # a student bundle may not have course_lib installed
    import course_lib  # noqa: F401
except ImportError:  # pragma: no cover - exercised in release bundles
    sys.path.insert(0, str(COURSE_ROOT))

# the tests import their shared oracles by name (``from oracles import fd``):
# pytest's default import mode puts this folder on sys.path, importlib mode not
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from course_lib.grading import CHAPTERS  # noqa: E402
from course_lib.grading.checking.plugin import check_graded_items  # noqa: E402
from course_lib.grading.checking.remote import DEFAULT_TIMEOUT, StudentModule  # noqa: E402

DEFAULT_CHAPTER_BUDGET = 120.0


def pytest_addoption(parser):
    group = parser.getgroup("course-exercises", "graded exercises")
    for args, kwargs in [
        (("--target",), dict(default=None, metavar="DIR",
                             help="folder with the student's files "
                                  "(default: <course>/exercises)")),
        (("--student-timeout",), dict(type=float, default=None, metavar="SECONDS",
                                      help="time limit of one call to student code "
                                           f"(default {DEFAULT_TIMEOUT:g} s)")),
    ]:
        try:
            group.addoption(*args, **kwargs)
        except ValueError:  # already added by another conftest or plugin
            pass


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): points this graded test is worth")
    config.addinivalue_line("markers", "hidden: graded test not shown to students")
    # start the workers of the chapters being graded while pytest collects
    chosen = {s.partition(".")[0] for s in
              config.getoption("grading_select", default=None) or []}
    if _target_dir(config).is_dir():
        for chapter in sorted(chosen & set(CHAPTERS))[:2]:
            _open(config, chapter).prestart()


def pytest_collection_modifyitems(config, items):
    check_graded_items(items, HERE)


def _target_dir(config) -> Path:
    value = config.getoption("target", default=None) or os.environ.get("COURSE_TARGET")
    if not value:
        return COURSE_ROOT / "exercises"
    return Path(value).expanduser().resolve()


def _json_env(name: str, kind: type):
    raw = os.environ.get(name)
    if not raw:
        return None
    value = json.loads(raw)
    if not isinstance(value, kind):
        raise pytest.UsageError(f"{name} must hold a JSON {kind.__name__}")
    return value


@pytest.fixture(scope="session")
def student_target(pytestconfig) -> Path:
    """The folder whose files are graded."""
    target = _target_dir(pytestconfig)
    if not target.is_dir():
        raise pytest.UsageError(f"--target {target} is not a folder")
    return target


_OPENED: dict[str, StudentModule] = {}


def _open(config, chapter: str) -> StudentModule:
    """The proxy of one chapter's file (one per session, started on first use)."""
    if chapter not in _OPENED:
        timeout = config.getoption("student_timeout", default=None) or float(
            os.environ.get("COURSE_TIMEOUT") or DEFAULT_TIMEOUT)
        raw = os.environ.get("COURSE_CHAPTER_BUDGET")
        budget = DEFAULT_CHAPTER_BUDGET if not raw else float(raw)
        _OPENED[chapter] = StudentModule(
            _target_dir(config), CHAPTERS[chapter][0], timeout=timeout,
            worker_cmd_prefix=_json_env("COURSE_WORKER_PREFIX", list),
            rlimits=_json_env("COURSE_WORKER_RLIMITS", dict), budget=budget or None,
            python=os.environ.get("COURSE_WORKER_PYTHON") or None)
    return _OPENED[chapter]


@pytest.fixture(scope="session")
def _student_modules(pytestconfig, student_target):
    yield lambda chapter: _open(pytestconfig, chapter)
    for module in _OPENED.values():
        module.close()
    _OPENED.clear()


def _chapter_fixture(chapter: str):
    def fixture(_student_modules) -> StudentModule:
        return _student_modules(chapter)

    fixture.__name__ = chapter
    fixture.__doc__ = (f"Proxy for the student's {CHAPTERS[chapter][0]}.py "
                       "(calls run in a worker process).")
    return pytest.fixture(scope="session", name=chapter)(fixture)


for _chapter in CHAPTERS:  # one fixture per chapter of the course: ch01, ch02, ...
    globals()[_chapter] = _chapter_fixture(_chapter)
