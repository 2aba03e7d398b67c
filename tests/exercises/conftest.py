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
COURSE_REFERENCES
    Folder of reference answers for the earlier chapters (default: the course's
    ``solutions/`` when it exists; ``none`` turns it off). The learner's engine
    grows: ``ch04_xor.py`` imports ``Dense`` from ``ch03_chain_rule``. To keep a
    mistake from costing points twice, grading chapter k puts the reference
    files of chapters 1 .. k-1 (links in a private temporary folder) on the
    worker's ``sys.path`` ahead of the graded folder; chapter k itself always
    comes from the graded folder. A student bundle has no ``solutions/``, so
    there the learner's own earlier files are used; so are they where a sandbox
    hides the temporary folder from the worker.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
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
_LINKS: list[Path] = []  # the private folder of links to reference files, if made


def _references_dir(target: Path) -> Path | None:
    raw = os.environ.get("COURSE_REFERENCES", "")
    if raw.lower() in ("none", "off"):
        return None
    refs = Path(raw).expanduser().resolve() if raw else COURSE_ROOT / "solutions"
    if not refs.is_dir() or refs.resolve() == target.resolve():
        return None
    return refs


def _earlier_chapters(target: Path, chapter: str) -> list[str]:
    """A folder of links to the reference files of the chapters before ``chapter``."""
    refs = _references_dir(target)
    if refs is None:
        return []
    names = [CHAPTERS[ch][0] for ch in sorted(CHAPTERS) if ch < chapter]
    names = [n for n in names if (refs / f"{n}.py").is_file()]
    if not names:
        return []
    if not _LINKS:
        _LINKS.append(Path(tempfile.mkdtemp(prefix="course-refs-")))
    folder = _LINKS[0] / chapter
    folder.mkdir(exist_ok=True)
    for name in names:
        link = folder / f"{name}.py"
        if not link.exists():
            link.symlink_to(refs / f"{name}.py")
    return [str(folder)]


def _open(config, chapter: str) -> StudentModule:
    """The proxy of one chapter's file (one per session, started on first use)."""
    if chapter not in _OPENED:
        timeout = config.getoption("student_timeout", default=None) or float(
            os.environ.get("COURSE_TIMEOUT") or DEFAULT_TIMEOUT)
        raw = os.environ.get("COURSE_CHAPTER_BUDGET")
        budget = DEFAULT_CHAPTER_BUDGET if not raw else float(raw)
        target = _target_dir(config)
        _OPENED[chapter] = StudentModule(
            target, CHAPTERS[chapter][0], timeout=timeout,
            worker_cmd_prefix=_json_env("COURSE_WORKER_PREFIX", list),
            rlimits=_json_env("COURSE_WORKER_RLIMITS", dict), budget=budget or None,
            python=os.environ.get("COURSE_WORKER_PYTHON") or None,
            path_before=_earlier_chapters(target, chapter))
    return _OPENED[chapter]


@pytest.fixture(scope="session")
def _student_modules(pytestconfig, student_target):
    yield lambda chapter: _open(pytestconfig, chapter)
    for module in _OPENED.values():
        module.close()
    _OPENED.clear()
    for folder in _LINKS:
        shutil.rmtree(folder, ignore_errors=True)
    _LINKS.clear()


def _chapter_fixture(chapter: str):
    def fixture(_student_modules) -> StudentModule:
        return _student_modules(chapter)

    fixture.__name__ = chapter
    fixture.__doc__ = (f"Proxy for the student's {CHAPTERS[chapter][0]}.py "
                       "(calls run in a worker process).")
    return pytest.fixture(scope="session", name=chapter)(fixture)


for _chapter in CHAPTERS:  # one fixture per chapter of the course: ch01, ch02, ...
    globals()[_chapter] = _chapter_fixture(_chapter)
