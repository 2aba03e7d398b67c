"""Run the graded tests in a subprocess and build a :class:`~.report.Report`.

:func:`grade` is the one entry point behind ``course grade``, ``check()`` in a
notebook, batch grading and GitHub Classroom. It runs
``python -m pytest <tests> -p course_lib.grading.checking.plugin ...`` in a separate
process (which in turn runs the student's code in worker processes), with a time
limit for the whole run, and reads the plugin's JSON lines back.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from course_lib.grading.checking.launch import run_pytest
from course_lib.grading.checking.report import Report, TestResult
from course_lib.grading.core.chapters import CHAPTERS
from course_lib.grading.core.paths import find_course_root
from course_lib.grading.core.procs import set_dumpable, signal_name

__all__ = ["GradingError", "collect", "find_course_root", "grade", "parse_selectors"]

DEFAULT_TOTAL_TIMEOUT = 900.0
_SELECTOR = re.compile(r"^(?:ch)?0*(\d{1,2})(?:\.([A-Za-z_][A-Za-z0-9_]*))?$")


class GradingError(RuntimeError):
    """Grading could not run (bad chapter name, missing folder, broken test suite)."""


# --------------------------------------------------------------------------- places
def _default_tests_dir() -> Path:
    root = find_course_root()
    if root is None:
        raise GradingError("cannot find the graded tests (tests/exercises) above "
                           f"{Path.cwd()}; pass tests_dir=... or --tests DIR")
    return root / "tests" / "exercises"


def _default_target() -> Path:
    root = find_course_root()
    if root is None:
        raise GradingError("cannot find the course's exercises/ folder above "
                           f"{Path.cwd()}; pass target=... or --target DIR")
    return root / "exercises"


def parse_selectors(chapters: Iterable | str | int | None) -> list[str]:
    """Normalise chapter specs to plugin selectors.

    Parameters
    ----------
    chapters : iterable or str or int or None
        Items like ``"ch03"``, ``"3"``, ``3``, ``"ch03.dense_backward"``; ``None``
        or empty for everything.

    Returns
    -------
    list of str
        E.g. ``["ch03", "ch05.adam_step"]``.

    Raises
    ------
    GradingError
        For a name that is not a chapter of the course.
    """
    if chapters is None:
        return []
    if isinstance(chapters, (str, int)):
        chapters = [chapters]
    out = []
    for spec in chapters:
        text = str(spec).strip().lower() if not isinstance(spec, str) else spec.strip()
        m = _SELECTOR.match(text if "." in text else text.lower())
        if isinstance(spec, bool) or not m:
            raise GradingError(f"unknown chapter {spec!r}: use ch03, 3 or "
                               "ch03.dense_backward")
        chapter = f"ch{int(m.group(1)):02d}"
        if chapter not in CHAPTERS:
            raise GradingError(f"there is no chapter {spec!r}: the course has "
                               f"{', '.join(CHAPTERS)}")
        sel = chapter + (f".{m.group(2)}" if m.group(2) else "")
        if sel not in out:
            out.append(sel)
    return out


# --------------------------------------------------------------------------- running
def _test_files(tests_dir: Path, selectors: list[str]) -> list[str]:
    """What pytest is given: the selected chapters' test files (public and hidden),
    or the whole folder when nothing is selected or a chapter has no file.
    Collecting one chapter instead of all of them is most of a quick check's time."""
    chapters = sorted({sel.partition(".")[0] for sel in selectors})
    public, hidden = [], []
    for ch in chapters:
        found = sorted(tests_dir.glob(f"test_{ch}_*.py"))
        if not found:
            return [str(tests_dir)]
        public += found
        hidden += sorted((tests_dir / "hidden").glob(f"test_{ch}_*.py"))
    # in the order pytest walks the folder (``hidden/`` sorts before ``test_*``),
    # so that the scorecard lists exercises as it always has
    return [str(f) for f in hidden + public] or [str(tests_dir)]


def _pytest_args(tests_dir: Path, jsonl: Path, selectors: list[str], hidden: str,
                 target: Path | None, collect_only: bool = False) -> list[str]:
    cmd = [*_test_files(tests_dir, selectors),
           "-p", "course_lib.grading.checking.plugin", "--grading-json", str(jsonl),
           "--grading-hidden", hidden, "-q", "--no-header", "-p", "no:cacheprovider",
           "-o", "addopts=", "-o", "console_output_style=classic",
           # plugins the graded tests do not need, should autoloading be on
           "-p", "no:hypothesispytest", "-p", "no:nbval",
           # the plugin builds every reason from the exception itself; pytest's
           # own tracebacks are never read and double the time on broken code
           "--tb=no"]
    if target is not None:
        cmd += ["--target", str(target)]
    for sel in selectors:
        cmd += ["--grading-select", sel]
    if collect_only:
        cmd.append("--collect-only")
    return cmd


def _read_lines(path: Path, key: bytes | None = None,
                verify=None) -> tuple[list[dict], int]:
    """The plugin's records; with a key, only correctly signed ones (and how many
    lines were rejected). ``verify`` is the plugin's, imported before any student
    code ran (a module imported afterwards could have been rewritten on disk)."""
    if verify is None:
        from course_lib.grading.checking.plugin import verify
    if not path.exists():
        return [], 0
    records, rejected = [], 0
    for line in path.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:  # a line cut by the time limit
            continue
        if not isinstance(rec, dict):
            rejected += 1
        elif key is None or verify(key, rec):
            rec.pop("sig", None)
            records.append(rec)
        else:
            rejected += 1
    return records, rejected


def _tail(text: str, n: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _environment(env: dict | None, worker_cmd_prefix, rlimits, call_timeout,
                 chapter_budget=None, worker_python=None) -> dict:
    full = dict(os.environ)
    full.update(env or {})
    full["PYTHONDONTWRITEBYTECODE"] = "1"
    # only the grading plugin: whatever else is installed (and costs time, or
    # reorders or skips tests) stays out of a grading run
    full["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if chapter_budget is not None:
        full["COURSE_CHAPTER_BUDGET"] = str(float(chapter_budget))
    if worker_cmd_prefix is not None:
        full["COURSE_WORKER_PREFIX"] = json.dumps(list(worker_cmd_prefix))
    if worker_python is not None:
        full["COURSE_WORKER_PYTHON"] = str(worker_python)
    if rlimits is not None:
        full["COURSE_WORKER_RLIMITS"] = json.dumps(dict(rlimits))
    if call_timeout is not None:
        full["COURSE_TIMEOUT"] = str(float(call_timeout))
    return full


def _hidden_note(tests_dir: Path, selectors: list[str]) -> str:
    """From a ``manifest.json`` shipped with the tests (student bundles)."""
    for path in (tests_dir / "manifest.json", tests_dir.parents[1] / "manifest.json"):
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
            chapters = data.get("chapters", {})
            wanted = {s.split(".")[0] for s in selectors} or set(chapters)
            hidden = sum(float(chapters.get(c, {}).get("hidden_points", 0) or 0)
                         for c in wanted)
        except (ValueError, AttributeError, TypeError):
            return ""
        if hidden > 0:
            from course_lib.grading.checking.report import fmt_points

            return (f"Hidden tests worth {fmt_points(hidden)} more points may be run "
                    "by your instructor.")
        return ""
    return ""


def grade(target: str | Path | None = None, chapters=None, include_hidden: bool = False,
          tests_dir: str | Path | None = None, timeout: float = DEFAULT_TOTAL_TIMEOUT,
          json_path: str | Path | None = None,
          worker_cmd_prefix: Sequence[str] | None = None, env: dict | None = None, *,
          call_timeout: float | None = None, rlimits: dict | None = None,
          chapter_budget: float | None = None,
          worker_python: str | Path | None = None) -> Report:
    """Grade the files in ``target`` and return the scorecard.

    Parameters
    ----------
    target : str or Path, optional
        Folder with the student's ``chNN_*.py`` files; default: the course's
        ``exercises/`` (found upwards from the current directory). Relative paths
        are taken from the current directory.
    chapters : list, optional
        ``"ch03"``, ``"3"``, ``3`` or ``"ch03.dense_backward"`` items; default: all.
    include_hidden : bool
        Run the hidden tests too (otherwise they are only counted).
    tests_dir : str or Path, optional
        The graded tests; default: ``tests/exercises`` of the course.
    timeout : float
        Seconds for the whole run; tests not reached are reported as not run.
    json_path : str or Path, optional
        Also write Gradescope's ``results.json`` there.
    worker_cmd_prefix : list of str, optional
        Sandbox command put before every student worker (e.g. bubblewrap).
    worker_python : str or Path, optional
        Interpreter of the student workers (default: this one). A
        :class:`~course_lib.grading.batch.sandbox.Sandbox` gives both:
        ``grade(target, **box.grade_kwargs())``.
    env : dict, optional
        Extra environment for the pytest process (and its workers).
    call_timeout : float, optional
        Seconds per call to student code (default 10, or ``COURSE_TIMEOUT``).
    rlimits : dict, optional
        Resource limits for the workers, e.g. ``{"RLIMIT_AS": 2_000_000_000}``.
    chapter_budget : float, optional
        Seconds that all calls to one chapter's file may take together (default
        120, or ``COURSE_CHAPTER_BUDGET``), so that one very slow chapter cannot
        use up the whole run's ``timeout`` and cost the others their points.

    Returns
    -------
    Report

    Raises
    ------
    GradingError
        When grading cannot run: unknown chapter, missing folder, a broken test suite.
    """
    t0 = time.monotonic()
    selectors = parse_selectors(chapters)
    tests_dir, target = _folders(tests_dir, target)
    full_env = _environment(env, worker_cmd_prefix, rlimits, call_timeout,
                            chapter_budget, worker_python)
    run = _run_signed(tests_dir, selectors, "run" if include_hidden else "count",
                      target, full_env, timeout)
    collected = _collected(run, selectors)
    killed = run.killed()
    tests = _test_results(collected["tests"], run, timeout, killed)
    pending = collected.get("pending_hidden", [])
    note = ""
    if not include_hidden and not pending and not (tests_dir / "hidden").is_dir():
        note = _hidden_note(tests_dir, selectors)
    report = Report(target=str(target), tests=tests, pending_hidden=pending,
                    hidden_note=note, errors=_run_errors(run, timeout, killed),
                    duration=time.monotonic() - t0, include_hidden=include_hidden)
    if json_path is not None:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_gradescope(), indent=2) + "\n")
    return report


def _folders(tests_dir, target) -> tuple[Path, Path]:
    """The graded tests and the folder to grade, resolved and checked."""
    tests_dir = Path(tests_dir).resolve() if tests_dir else _default_tests_dir()
    if not tests_dir.is_dir():
        raise GradingError(f"no graded tests at {tests_dir}")
    target = Path(target).expanduser().resolve() if target else _default_target()
    if not target.is_dir():
        raise GradingError(f"the folder to grade does not exist: {target}")
    return tests_dir, target


@dataclass
class _Run:
    """What one pytest run left: exit code, output, signed records."""

    code: int | None
    output: str
    timed_out: bool
    records: list
    forged: int

    def first(self, kind: str) -> dict | None:
        return next((r for r in self.records if r.get("type") == kind), None)

    def killed(self) -> str:
        """``"the grading process was killed by SIGKILL"``, or ``""``."""
        if self.code is not None and self.code < 0 and not self.timed_out:
            return f"the grading process was killed by {signal_name(-self.code)}"
        return ""


def _run_signed(tests_dir: Path, selectors: list[str], hidden: str, target: Path,
                env: dict, timeout: float) -> _Run:
    """Run the graded tests under a fresh signing key; keep only signed lines."""
    from course_lib.grading.checking.plugin import verify

    # while this process holds the key, other processes of the same user (the
    # student's code) may not read its memory (see procs.set_dumpable)
    was_dumpable = set_dumpable(False)
    try:
        with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
            jsonl = Path(tmp) / "results.jsonl"
            key = secrets.token_hex(32).encode()
            args = _pytest_args(tests_dir, jsonl, selectors, hidden, target)
            code, output, timed_out = run_pytest(args, tests_dir.parents[1], env,
                                                 timeout, key, Path(tmp) / "out")
            records, forged = _read_lines(jsonl, key, verify)
            del key
    finally:
        if was_dumpable:
            set_dumpable(True)
    return _Run(code, output, timed_out, records, forged)


def _collected(run: _Run, selectors: list[str]) -> dict:
    """The run's ``collected`` record; every selector must have found tests."""
    collected = run.first("collected")
    if collected is None:
        raise GradingError("the graded tests could not be started "
                           f"(pytest exit code {run.code}):\n{_tail(run.output)}")
    found = collected["tests"] + collected.get("pending_hidden", [])
    for sel in selectors:
        ch, _, ex = sel.partition(".")
        if not any(m["chapter"] == ch and (not ex or m["exercise"] == ex)
                   for m in found):
            known = collected.get("available", {}).get(ch, [])
            hint = f" (exercises: {', '.join(known)})" if known else ""
            raise GradingError(f"no graded tests for {sel}{hint}")
    return collected


def _not_run_reason(run: _Run, timeout: float, killed: str, in_progress: bool) -> str:
    """Why a collected test has no result."""
    if run.timed_out:
        why = f"not run: grading stopped at its {timeout:g} s time limit"
        return why + (" while this test was running" if in_progress else "")
    if killed and in_progress:
        return (f"not run: {killed} while this test was running; does your "
                "code kill, stop or signal other processes?")
    if killed:
        return f"not run: {killed} before this test"
    return "not run (the test run ended early)"


def _test_results(metas: list[dict], run: _Run, timeout: float,
                  killed: str) -> list[TestResult]:
    """One TestResult per collected test, in collection order."""
    results: dict[str, dict] = {}
    for r in run.records:
        if r.get("type") == "result":
            results.setdefault(r["nodeid"], r)
    tests = []
    in_progress = True  # the first test without a result was running at the end
    for meta in metas:
        r = results.get(meta["nodeid"])
        if r is not None:
            fields = {k: r[k] for k in TestResult.__dataclass_fields__ if k in r}
            tests.append(TestResult(**fields))
            continue
        why = _not_run_reason(run, timeout, killed, in_progress)
        in_progress = False
        tests.append(TestResult(**{k: meta[k] for k in (
            "nodeid", "chapter", "exercise", "what", "points", "hidden")},
            outcome="not_run", kind="not_run", reason=why))
    return tests


def _run_errors(run: _Run, timeout: float, killed: str) -> list[str]:
    """What went wrong with the run itself (not with the student's code)."""
    errors = [f"{r['nodeid']} could not be loaded (a problem in the course's tests, "
              "not in your code); its points are missing"
              for r in run.records if r.get("type") == "collect_error"]
    if run.forged:
        errors.append(f"{run.forged} line(s) in the results file were not written by "
                      "the grader and were ignored (was the file tampered with?)")
    finished = run.first("finished")
    if run.timed_out:
        errors.append(f"grading stopped at its {timeout:g} s time limit")
    elif finished is None:
        errors.append(f"the test run ended early ({killed})" if killed else
                      f"the test run ended early (pytest exit code {run.code})")
    elif finished.get("exitstatus") not in (0, 1, 5):
        errors.append(f"the test run reported a problem (pytest exit code "
                      f"{finished.get('exitstatus')}):\n{_tail(run.output, 8)}")
    return errors


def collect(tests_dir: str | Path | None = None, chapters=None,
            include_hidden: bool = True, timeout: float = 300.0) -> list[dict]:
    """Collect graded tests without running them.

    Returns
    -------
    list of dict
        One per test: ``nodeid``, ``chapter``, ``exercise``, ``what``, ``points``,
        ``hidden``.
    """
    selectors = parse_selectors(chapters)
    tests_dir = Path(tests_dir).resolve() if tests_dir else _default_tests_dir()
    with tempfile.TemporaryDirectory(prefix="course-collect-") as tmp:
        jsonl = Path(tmp) / "results.jsonl"
        args = _pytest_args(tests_dir, jsonl, selectors,
                            "run" if include_hidden else "count", None, True)
        code, output, _ = run_pytest(args, tests_dir.parents[1], _environment(
            None, None, None, None), timeout, None, Path(tmp) / "out")
        records, _ = _read_lines(jsonl)
    collected = next((r for r in records if r.get("type") == "collected"), None)
    if collected is None or code not in (0, 5):
        raise GradingError(f"collecting {tests_dir} failed:\n{_tail(output)}")
    return list(collected["tests"])
