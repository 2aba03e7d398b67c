"""The trusted grader of one submission: ``python -m course_lib.grading.batch.child``.

:func:`~.grade_batch.grade_submission` starts one per submission, in a session
of its own. It runs the graded tests (hidden ones included) on a private copy
of the tests, starts the student's code only in :mod:`.sandbox` workers, and
writes a small JSON file of scores, problems and what the sandbox stopped. It
is a child subreaper: whatever a submission leaves comes back to it and is
killed before it exits.

On Linux the batch does not start a new interpreter for each submission: it
keeps one *grader server* per worker slot (:func:`serve`, ``--serve``), a
process that has imported the grader, pytest, numpy and the graded tests'
heavy dependencies once, before any submission, and forks one such grader per
request (:func:`_fork_grader`). The forked grader is the same trusted process
a fresh interpreter would be (a session of its own, its own subreaper, the
sandbox and budget of its submission), only its imports are already done.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from ..core import procs
from . import sandbox, watchdog

_PROBLEM_KINDS = ("import", "crash", "timeout", "missing", "test_error")
_RESOURCE_ERRORS = ("MemoryError", "RecursionError", "OSError", "BlockingIOError")


def report_scores(report) -> tuple[dict, dict, dict]:
    """Per-chapter earned/possible points and problems from a Report.

    Returns
    -------
    scores, max_scores : dict
        ``{"ch01": float}``.
    problems : dict
        ``{"ch02": "timeout: ... (3 tests)"}`` for chapters where the student's
        code crashed, timed out, failed to import or was missing.
    """
    scores, max_scores = {}, {}
    for ch, (earned, possible) in report.chapter_scores().items():
        scores[ch] = float(earned)
        max_scores[ch] = float(possible)
    problems: dict[str, str] = {}
    counts: dict[tuple, int] = {}
    first: dict[tuple, str] = {}
    for t in report.tests:
        resource = t.kind == "student_error" and any(
            f"raised {name}" in t.reason for name in _RESOURCE_ERRORS)
        if t.kind in _PROBLEM_KINDS or resource:
            key = (t.chapter, t.kind)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, t.reason)
    for (ch, kind), n in sorted(counts.items()):
        text = f"{kind}: {first[(ch, kind)][:200]} ({n} test{'s' * (n != 1)})"
        problems[ch] = f"{problems[ch]}; {text}" if ch in problems else text
    for err in getattr(report, "errors", []) or []:
        problems.setdefault("run", str(err)[:300])
    return scores, max_scores, problems


def kill_descendants() -> None:
    """SIGKILL (and wait for) every process below this one."""
    for _ in range(3):
        pids = watchdog.descendants(watchdog.snapshot(), os.getpid())
        if not pids:
            return
        procs.kill_pids(pids, reap=True)


def private_tests(tests_src: Path) -> tuple[Path, Path]:
    """A private copy of the graded tests: whatever happens to it (a degraded
    sandbox cannot stop a student from writing there) affects no one else."""
    private = Path(tempfile.mkdtemp(prefix="course-tests-"))
    tests_copy = private / "tests" / "exercises"
    shutil.copytree(tests_src, tests_copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if (tests_src.parent / "conftest.py").is_file():
        shutil.copy(tests_src.parent / "conftest.py", tests_copy.parent)
    return private, tests_copy


def grade_one(args: argparse.Namespace) -> int:
    """Grade one submission as ``args`` say; always writes ``args.result``."""
    procs.become_subreaper()
    from ..checking.runner import grade
    from ..core.paths import default_tests_dir

    limits = sandbox.Limits(memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds,
                            nproc=args.nproc, tmp_mb=args.tmp_mb)
    target = Path(args.grade_one)
    chapters = [c for c in args.chapters.split(",") if c]
    tests_src = Path(args.tests) if args.tests else default_tests_dir()
    # the batch probed the sandbox once for the whole class; probing again here
    # would start one more sandboxed interpreter per submission
    mode = (sandbox.Mode(args.mode, args.mode != "bwrap", args.mode_reason)
            if args.mode else sandbox.probe())
    box = sandbox.Sandbox(target, limits, mode, slot=args.slot,
                          token=args.token, uid=args.uid,
                          private=(Path(tests_src).resolve().parents[1],))
    private, tests_copy = private_tests(Path(tests_src))
    result: dict = {}
    try:
        report = grade(target, chapters=chapters, include_hidden=True,
                       tests_dir=tests_copy, json_path=Path(args.results_json),
                       **box.grade_kwargs(),
                       timeout=args.run_timeout, call_timeout=args.timeout_per_test)
        Path(args.feedback).write_text(report.text(ascii_only=True) + "\n")
        scores, max_scores, problems = report_scores(report)
        result = {"scores": scores, "max_scores": max_scores, "problems": problems}
    finally:
        try:
            box.close()
        finally:
            result.update(stopped=box.stopped, peak_bytes=box.peak_bytes,
                          budget=box.budget_kind)
            Path(args.result).write_text(json.dumps(result))
            kill_descendants()
            shutil.rmtree(private, ignore_errors=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_lib.grading.batch.child")
    p.add_argument("--grade-one", required=True)
    p.add_argument("--result", required=True)
    p.add_argument("--results-json", required=True)
    p.add_argument("--feedback", required=True)
    p.add_argument("--chapters", required=True)
    p.add_argument("--timeout-per-test", type=float, default=10.0)
    p.add_argument("--run-timeout", type=float, default=600.0)
    p.add_argument("--memory-mb", type=int, default=1024)
    p.add_argument("--cpu-seconds", type=int, default=300)
    p.add_argument("--nproc", type=int, default=64)
    p.add_argument("--tmp-mb", type=int, default=32)
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--uid", type=int, default=None)
    p.add_argument("--token", default="")
    p.add_argument("--tests", type=Path, default=None)
    p.add_argument("--mode", choices=("bwrap", "rlimits"), default=None,
                   help="the sandbox mode the batch found (default: probe)")
    p.add_argument("--mode-reason", default="given by the batch")
    return p


def run(argv: list[str]) -> int:
    """Grade as ``argv`` says; exit code 3 (and a traceback on stderr) when the
    grader itself fails."""
    try:
        return grade_one(parser().parse_args(argv))
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 3


# ------------------------------------------------------------------ the server
#: What a grader server imports before its first request: everything a
#: submission's grader would otherwise import again (the graded tests use
#: scikit-learn's digits in chapters 7 and 12; it is optional).
PRELOAD = ("numpy", "pytest", "course_lib", "course_lib.grading.checking.plugin",
           "course_lib.grading.checking.runner", "course_lib.grading.checking.remote",
           "course_lib.grading.checking.feedback", "course_lib.grading.batch.sandbox",
           "sklearn.datasets")


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _fork_grader(req: dict, server_fds: tuple = ()) -> int:
    """Fork the grader of one request; in the child, run it and never return."""
    pid = os.fork()
    if pid:
        return pid

    def grader() -> int:
        for fd in server_fds:  # the server's pipes are not the grader's
            os.close(fd)
        procs.become_forked_child(req["cwd"], req["env"], stderr=req["stderr"])
        tempfile.tempdir = None  # (TMPDIR as the request has it)
        return run(list(req["argv"]))

    procs.exit_with(grader)


def serve() -> None:
    """A grader server's loop: one JSON request per line on stdin (``argv`` for
    :func:`parser`, ``cwd``, ``env``, ``stderr`` file), answered with
    ``{"pid": n}`` when the grader starts and ``{"code": n}`` when it ends
    (negative: killed by that signal). One request at a time; ends at EOF."""
    _preload()
    # what was imported is never garbage: a grader's collections (pytest runs
    # several at its end) then skip it, and its pages stay shared
    gc.freeze()
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    for line in requests:
        pid = _fork_grader(json.loads(line), (requests.fileno(), replies.fileno()))
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
        sys.exit(0)
    sys.exit(run(sys.argv[1:]))
