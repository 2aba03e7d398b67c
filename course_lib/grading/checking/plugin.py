"""Pytest plugin that turns graded tests into points and short reasons.

Loaded by the runner with ``-p course_lib.grading.checking.plugin``. For every
graded test it records the chapter (from the file name ``test_chNN_*.py``), the
exercise (from the test name ``test_<exercise>__<what is checked>``), the points
(``@pytest.mark.points``), whether it is hidden, the outcome, and a short
student-facing reason. Records are appended as JSON lines to ``--grading-json FILE``
as the tests finish, so that a run stopped by its time limit still leaves the
results obtained so far.

Line types: ``{"type": "collected", "tests": [...], "pending_hidden": [...]}``,
``{"type": "result", ...}``, ``{"type": "collect_error", ...}``,
``{"type": "finished", "exitstatus": n, "duration": s}``.

Options: ``--grading-json FILE``, ``--grading-select chNN[.exercise]`` (repeatable),
``--grading-hidden {run,count}`` (``count``: hidden tests are collected, counted, and
not run), ``--grading-key-fd N``: read a secret key from file descriptor ``N`` (then
closed, before any student code starts) and sign every line with HMAC-SHA256 in a
``"sig"`` field, so that lines a student's process appends to the file are detected
(:func:`sign` / :func:`verify`).

With ``--grading-key-fd`` (the runner's dedicated pytest process) the plugin also
hardens this process: it is made non-dumpable (a worker of the same user cannot read
the key through ``/proc/PPID/mem``), and it becomes a child subreaper so that
processes a student detaches from its worker (``os.setsid``) are killed when the
worker stops, after each test and at the end of the session
(:func:`~course_lib.grading.checking.remote.reap_strays`). Reasons are stripped of
terminal control sequences and invisible characters before they are recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from pathlib import Path

import pytest

from course_lib.grading.checking import remote
from course_lib.grading.checking.ladder import Ladder
from course_lib.grading.checking.remote import (
    ImportFailed,
    MissingFunction,
    NotAttempted,
    StudentCrash,
    StudentProblem,
    StudentTimeout,
    WorkerStartError,
)
from course_lib.grading.core.chapters import chapter_of_file

_MAX_REASON = 600
# terminal control sequences and invisible characters that a student's exception
# message could carry into a scorecard (newlines and tabs are kept)
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


# --------------------------------------------------------------------------- metadata
def test_meta(item) -> dict:
    """Chapter, exercise, what, points and hidden flag of a collected test item."""
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    body = name[5:] if name.startswith("test_") else name
    exercise, _, what = body.partition("__")
    param = item.name[len(name):] if item.name.startswith(name) else ""
    what = what.replace("_", " ").strip() + (f" {param}" if param else "")
    chapter = chapter_of_file(Path(str(item.path)).name) or next(
        (f for f in sorted(item.fixturenames) if re.fullmatch(r"ch\d\d", f)), "")
    marker = item.get_closest_marker("points")
    points = None
    if marker is not None and marker.args:
        points = marker.args[0]
    hidden = item.get_closest_marker("hidden") is not None or "hidden" in Path(
        str(item.path)).parts
    return {"nodeid": item.nodeid, "chapter": chapter, "exercise": exercise,
            "what": what, "points": points, "hidden": hidden}


def check_graded_items(items, root: Path) -> None:
    """Fail the session when a graded test lacks points or a proper name.

    Parameters
    ----------
    items : list of pytest.Item
        The collected items (only those under ``root`` are checked).
    root : Path
        The graded tests' folder (``tests/exercises``).
    """
    root = Path(root).resolve()
    problems = []
    for item in items:
        try:
            Path(str(item.path)).resolve().relative_to(root)
        except ValueError:
            continue
        meta = test_meta(item)
        pts = meta["points"]
        if pts is None:
            problems.append(f"{item.nodeid}: no @pytest.mark.points(n)")
        elif isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts <= 0:
            problems.append(f"{item.nodeid}: points must be a positive number, "
                            f"got {pts!r}")
        if "__" not in (getattr(item, "originalname", None) or item.name):
            problems.append(f"{item.nodeid}: name must be "
                            "test_<exercise function>__<what is checked>")
        if not meta["chapter"]:
            problems.append(f"{item.nodeid}: file name must start with test_chNN_")
    if problems:
        raise pytest.UsageError(
            "graded tests break the grading contract (CONTRIBUTING.md):\n  "
            + "\n  ".join(problems))


def _selected(meta: dict, selectors: list[str]) -> bool:
    if not selectors:
        return True
    for sel in selectors:
        chapter, _, exercise = sel.partition(".")
        if meta["chapter"] == chapter and exercise in ("", meta["exercise"]):
            return True
    return False


# --------------------------------------------------------------------------- reasons
def _shorten(text: str, limit: int = _MAX_REASON) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return text if len(text) <= limit else text[: limit - 4].rstrip() + " ..."


def assertion_text(text: str) -> str:
    """The test author's message from a (rewritten) assertion, without pytest's detail.

    ``assert ok, "msg"`` fails with ``"msg\\nassert False\\n +  where ..."``; the
    message is what the student should read. Without a message, the first
    ``assert ...`` line is kept.
    """
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if i > 0 and line.startswith("assert "):
            return _shorten("\n".join(lines[:i]))
    return _shorten(lines[0] if lines else "assertion failed")


#: the scorecard's kind of each student-side problem, most specific first
#: (a TimeBudgetExceeded is a StudentTimeout, a ResultRefused a StudentCrash)
_PROBLEM_KINDS = ((NotAttempted, "not_attempted"), (StudentTimeout, "timeout"),
                  (StudentCrash, "crash"), (ImportFailed, "import"),
                  (MissingFunction, "missing"), (StudentProblem, "student_error"))


def classify(exc: BaseException | None) -> tuple[str, str]:
    """Map an exception from a graded test to ``(kind, student-facing reason)``."""
    if exc is None:
        return "failed", "failed"
    for cls, kind in _PROBLEM_KINDS:
        if isinstance(exc, cls):
            return kind, _shorten(exc.reason)
    if isinstance(exc, WorkerStartError):
        return "grader_error", _shorten(
            f"the grader could not start (a problem of the grading set-up, not of "
            f"your code): {exc}")
    if isinstance(exc, AssertionError):
        return "assert", assertion_text(str(exc))
    if isinstance(exc, pytest.fail.Exception):
        return "assert", _shorten(str(exc.msg if hasattr(exc, "msg") else exc))
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", _shorten(str(getattr(exc, "msg", exc)))
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:
        text = type(exc).__name__
    return "test_error", _shorten(
        f"the grader could not use what your code returned ({text})")


# --------------------------------------------------------------------------- signing
def _digest(key: bytes, record: dict) -> str:
    body = json.dumps({k: v for k, v in record.items() if k != "sig"},
                      sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def sign(key: bytes | None, record: dict) -> dict:
    """``record`` with its ``"sig"`` field set (unchanged when there is no key)."""
    if key:
        record["sig"] = _digest(key, record)
    return record


def verify(key: bytes, record: dict) -> bool:
    """True when ``record["sig"]`` was made with ``key``."""
    sig = record.get("sig")
    return isinstance(sig, str) and hmac.compare_digest(sig, _digest(key, record))


def _read_key(fd: int | None) -> bytes | None:
    if fd is None:
        return None
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).strip() or None


# --------------------------------------------------------------------------- recorder
class GradingRecorder:
    """Collects metadata and outcomes; writes JSON lines to ``path``."""

    def __init__(self, config, path: str | None, key: bytes | None = None):
        self.config = config
        self.key = key
        self.path = Path(path) if path else None
        self.meta: dict[str, dict] = {}
        self.done: set[str] = set()
        self.t0 = time.monotonic()
        folder = (config.getoption("target", default=None)
                  or os.environ.get("COURSE_TARGET") or "")
        self.ladder = Ladder(folder=os.path.realpath(folder) if folder
                             else f"{config.rootpath}/exercises")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def emit(self, record: dict) -> None:
        if self.path is None:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(sign(self.key, record)) + "\n")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        selectors = config.getoption("grading_select") or []
        hidden_mode = config.getoption("grading_hidden")
        keep, drop, pending = [], [], []
        available: dict[str, list] = {}
        for item in items:
            meta = test_meta(item)
            names = available.setdefault(meta["chapter"], [])
            if meta["exercise"] not in names:
                names.append(meta["exercise"])
            if not _selected(meta, selectors):
                drop.append(item)
            elif meta["hidden"] and hidden_mode == "count":
                drop.append(item)
                pending.append(meta)
            else:
                keep.append(item)
                self.meta[item.nodeid] = meta
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        self.emit({"type": "collected", "tests": list(self.meta.values()),
                   "pending_hidden": pending, "selectors": selectors,
                   "available": available})

    def pytest_collectreport(self, report):
        if report.failed:
            text = str(report.longrepr)
            self.emit({"type": "collect_error", "nodeid": report.nodeid,
                       "reason": _shorten(text, 2000)})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        meta = self.meta.get(item.nodeid)
        if meta is None or item.nodeid in self.done:
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        if rep.when == "call" or rep.failed or rep.skipped:
            if rep.passed:
                outcome_, kind, reason = "passed", "passed", ""
            elif rep.skipped:
                outcome_, kind = "skipped", "skipped"
                reason = _shorten(str(rep.longrepr[2]) if isinstance(
                    rep.longrepr, tuple) else str(rep.longrepr))
                if hasattr(rep, "wasxfail"):
                    outcome_, kind, reason = "failed", "xfail", "expected failure"
            else:
                kind, reason = classify(exc)
                rule = getattr(exc, "rule", None)
                if kind == "assert" and rule and self.ladder.failures_before(
                        item.nodeid) >= 1:
                    tail = _shorten(f" Hint: {rule}", 300)
                    reason = _shorten(reason, _MAX_REASON - len(tail)) + " " + tail
                grader_fault = kind == "grader_error" or (
                    rep.when != "call"
                    and not isinstance(exc, (StudentProblem, AssertionError)))
                outcome_ = "error" if grader_fault else "failed"
                if rep.when == "teardown":
                    return
            self.done.add(item.nodeid)
            if outcome_ in ("passed", "failed"):
                self.ladder.record(item.nodeid, outcome_ == "failed")
            pts = meta["points"] or 0
            self.emit({"type": "result", **meta, "outcome": outcome_, "kind": kind,
                       "reason": reason, "score": pts if outcome_ == "passed" else 0,
                       "duration": round(rep.duration, 4)})

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        remote.reap_strays()

    def pytest_sessionfinish(self, session, exitstatus):
        remote.reap_strays()
        self.ladder.save()
        self.emit({"type": "finished", "exitstatus": int(exitstatus),
                   "duration": round(time.monotonic() - self.t0, 3)})


def pytest_addoption(parser):
    group = parser.getgroup("course-grading", "course autograder")
    group.addoption("--grading-json", default=None, metavar="FILE",
                    help="append one JSON line per graded test to FILE")
    group.addoption("--grading-select", action="append", default=[],
                    metavar="CHAPTER[.EXERCISE]",
                    help="grade only this chapter (ch03) or exercise "
                         "(ch03.dense_backward); repeatable")
    group.addoption("--grading-hidden", choices=("run", "count"), default="run",
                    help="run hidden tests, or only count their points (default: run)")
    group.addoption("--grading-key-fd", type=int, default=None, metavar="N",
                    help="read a signing key from file descriptor N (used by the "
                         "runner to detect forged result lines)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): points this graded test is worth")
    config.addinivalue_line("markers", "hidden: graded test not shown to students")
    key_fd = config.getoption("grading_key_fd")
    if key_fd is not None:  # the runner's own pytest process: harden it
        remote.set_dumpable(False)
        remote.become_subreaper()
    key = _read_key(key_fd)
    recorder = GradingRecorder(config, config.getoption("grading_json"), key)
    config.pluginmanager.register(recorder, "course-grading-recorder")
