"""Grade a whole class: ``course grade-batch SUBMISSIONS --out DIR``.

``SUBMISSIONS`` holds one folder or zip per student; its name (without
``.zip``) gives the student's id (:mod:`.names`). For each submission:

1. its exercise files are copied into a fresh temporary folder
   (:mod:`.uploads`: special files, links, corrupt or duplicate zip entries
   are skipped with a note, never followed or waited on);
2. a separate *trusted* grader process (:mod:`.child`, forked from a warm
   server per worker slot, :mod:`.servers`) runs the graded tests
   with hidden tests included, and starts the student's code only inside
   :mod:`.sandbox` workers, held to one memory, process and temporary-space
   budget for the whole submission (:mod:`.budget`, :mod:`.watchdog`);
3. it writes ``DIR/students/<id>/results.json`` (Gradescope format) and
   ``feedback.txt``; its whole process group is killed at the end.

Then ``DIR/grades.csv`` (one row per upload, always) and ``DIR/summary.md``
are written (:mod:`.gradebook`). Nothing the student's code writes or prints
is read back: scores come from the grader's report. Every path on the command
line may be relative.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from ..checking.manifest import build as build_manifest
from ..checking.manifest import points_by_chapter
from ..core.chapters import CHAPTERS, parse_chapters
from . import budget, gradebook, names, sandbox, servers, similarity, uids
from .outcome import Outcome, Settings
from .uploads import collect_submission

__all__ = ["Outcome", "Settings", "collect_submission", "exercise_modules",
           "grade_submission", "main", "run_batch"]


def exercise_modules(tests_dir: Path | None = None) -> dict[str, str]:
    """Map each chapter to its exercise module name (``ch03_chain_rule``),
    read from the graded test files ``test_chNN_<slug>.py``."""
    from ..core.paths import default_tests_dir

    tests_dir = Path(tests_dir or default_tests_dir())
    out = {}
    for path in sorted(tests_dir.glob("test_ch[0-9][0-9]_*.py")):
        module = path.stem[len("test_"):]
        out.setdefault(module[:4], module)
    return out


# ------------------------------------------------------------------ one submission
def _child_cmd(student: Path, out_dir: Path, result: Path, present: list[str],
               settings: Settings, slot: int, token: str) -> list[str]:
    lim = settings.limits
    cmd = ["--grade-one", str(student), "--result", str(result),
           "--results-json", str(out_dir / "results.json"),
           "--feedback", str(out_dir / "feedback.txt"),
           "--chapters", ",".join(present),
           "--timeout-per-test", str(settings.timeout_per_test),
           "--run-timeout", str(max(5.0, settings.timeout_per_submission - 5)),
           "--memory-mb", str(lim.memory_mb), "--cpu-seconds", str(lim.cpu_seconds),
           "--nproc", str(lim.nproc), "--tmp-mb", str(lim.tmp_mb),
           "--slot", str(slot), "--token", token]
    if settings.mode is not None:
        cmd += ["--mode", settings.mode.name, "--mode-reason", settings.mode.reason]
    if os.geteuid() == 0:
        cmd += ["--uid", str(uids.worker_uid(slot))]
    if settings.tests_dir:
        cmd += ["--tests", str(Path(settings.tests_dir).resolve())]
    return cmd


def _run_child(cmd: list[str], work: Path, settings: Settings,
               server: servers.GraderServer | None = None) -> tuple[int, str, str]:
    """Run the trusted grader (forked from ``server`` when given);
    ``(exit code, stderr, problem)``."""
    env = dict(os.environ)
    if settings.mode is not None:
        env["COURSE_SANDBOX"] = settings.mode.name
    stderr = work / "grader.err"
    # the grader stops its own test run 5 s before the limit (tests not
    # reached count 0, the rest keep their points); this is the backstop
    limit = settings.timeout_per_submission + 30
    try:
        code, timed_out = servers.run_grader(cmd, work, env, stderr, limit, server)
    except servers.ServerDied:
        # (never the student's doing in a sandbox; grade afresh, the slow way)
        code, timed_out = servers.run_grader(cmd, work, env, stderr, limit, None)
    err = stderr.read_text(errors="replace") if stderr.is_file() else ""
    problem = ""
    if timed_out:
        problem = (f"exceeded the per-submission time limit of "
                   f"{settings.timeout_per_submission:g} s")
    return code, err[-4000:], problem


def _read_result(outcome: Outcome, result: Path, code: int, err: str) -> None:
    data = json.loads(result.read_text()) if result.is_file() else {}
    outcome.stopped = [str(s) for s in data.get("stopped", [])]
    if "scores" not in data:
        tail = " | ".join(err.strip().splitlines()[-3:])
        outcome.problem = f"the grader failed (exit {code}): {tail[-300:]}"
        return
    outcome.scores = data["scores"]
    outcome.max_scores = data["max_scores"]
    outcome.chapter_problems.update(data.get("problems", {}))


def _grade_copy(outcome: Outcome, src: Path, work: Path, out_dir: Path,
                settings: Settings, modules: dict, slot: int,
                server: servers.GraderServer | None) -> None:
    student = work / "submission"
    student.mkdir()
    found, outcome.notes = collect_submission(src, student, modules)
    sandbox.share_with_worker(work, slot)  # this slot's worker only
    for ch in settings.chapters:
        if ch not in found:
            outcome.chapter_problems[ch] = f"no {modules.get(ch, ch)}.py submitted"
    present = [ch for ch in settings.chapters if ch in found]
    if not present:
        outcome.problem = "no exercise files found in the submission"
        return
    token = f"batch-{os.getpid()}-{slot}-{time.monotonic_ns()}"
    result = work / "grader.json"
    cmd = _child_cmd(student, out_dir, result, present, settings, slot, token)
    code, err, outcome.problem = _run_child(cmd, work, settings, server)
    sandbox.reap(token)
    if not outcome.problem:
        _read_result(outcome, result, code, err)


def grade_submission(sid: str, src: Path, out_dir: Path, settings: Settings,
                     modules: dict[str, str], slot: int = 0,
                     server: servers.GraderServer | None = None) -> Outcome:
    """Grade one submission in a child grader process and return its outcome.

    Parameters
    ----------
    sid : str
        Student id.
    src : Path
        The submission (folder or zip).
    out_dir : Path
        ``DIR/students/<id>``; receives ``results.json`` and ``feedback.txt``.
    settings : Settings
    modules : dict
        Chapter to module name.
    slot : int
        Worker slot (parallel grading).
    server : GraderServer, optional
        Fork the grader from this warm process (:mod:`.servers`) rather than
        start a new interpreter.

    Returns
    -------
    Outcome
        Always, whatever the submission holds or does.
    """
    start = time.monotonic()
    outcome = Outcome(sid)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.json", "feedback.txt"):
        (out_dir / stale).unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"course-grade-{slot}-"))
    try:
        _grade_copy(outcome, Path(src), work, out_dir, settings, modules, slot,
                    server)
    except Exception as exc:  # noqa: BLE001  (the batch goes on whatever happens)
        outcome.problem = f"grading error: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if outcome.problem:
        outcome.scores = {}
    for ch in settings.chapters:
        outcome.scores.setdefault(ch, 0.0)
        if ch in settings.max_points:
            outcome.max_scores.setdefault(ch, settings.max_points[ch])
    outcome.seconds = time.monotonic() - start
    if outcome.problem or not (out_dir / "results.json").is_file():
        _write_failure_files(out_dir, outcome)
    return outcome


def _write_failure_files(out_dir: Path, outcome: Outcome) -> None:
    """Gradescope-format results and feedback for a submission that scored 0."""
    message = f"Grading could not run: {outcome.problem or 'no result'}."
    if outcome.notes:
        message += "\n" + "\n".join(outcome.notes)
    results = {"score": 0.0, "output": message, "tests": [
        {"name": f"{ch}", "score": 0.0,
         "max_score": outcome.max_scores.get(ch, 0.0), "output": message,
         "visibility": "visible"} for ch in outcome.scores]}
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "feedback.txt").write_text(message + "\n")


# ------------------------------------------------------------- the batch
class _TestsGuard:
    """Without a sandbox, student code can write the graded tests: keep their
    bytes, and put them back (and say so) whenever they change."""

    def __init__(self, tests_dir: Path | None):
        from ..core.paths import default_tests_dir

        self.root = Path(tests_dir or default_tests_dir())
        self.files = self._read()
        self.lock = threading.Lock()

    def _read(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in sorted(self.root.rglob("*.py"))
                if "__pycache__" not in p.parts}

    def restore_if_changed(self) -> bool:
        with self.lock:
            if self._read() == self.files:
                return False
            for path in set(self.root.rglob("*.py")) - set(self.files):
                path.unlink(missing_ok=True)
            for path, data in self.files.items():
                path.write_bytes(data)
            return True


def _grade_all(entries, out: Path, settings: Settings, workers: int,
               progress: bool) -> list[Outcome]:
    modules = exercise_modules(settings.tests_dir)
    slots: queue.Queue = queue.Queue()
    for k in range(workers):
        slots.put(k)
    guard = _TestsGuard(settings.tests_dir) if settings.mode.degraded else None
    pool = ([servers.GraderServer(dict(os.environ)) for _ in range(workers)]
            if servers.forking() else None)

    def task(sid, path, problem):
        if problem:
            return _unreadable(sid, names.student_dir(out, sid), settings, problem)
        slot = slots.get()
        try:
            outcome = grade_submission(sid, path, names.student_dir(out, sid),
                                       settings, modules, slot,
                                       pool[slot] if pool else None)
            if guard is not None and guard.restore_if_changed():
                outcome.chapter_problems["tests"] = (
                    "the graded tests changed while this submission was graded "
                    "(degraded sandbox); they were restored")
            return outcome
        finally:
            slots.put(slot)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(entries), unit="submission", file=sys.stderr)
    outcomes: list[Outcome] = []
    try:
        with ThreadPoolExecutor(max_workers=workers) as threads:
            futures = {threads.submit(task, *entry): entry[0] for entry in entries}
            for fut in as_completed(futures):
                try:
                    outcomes.append(fut.result())
                except Exception as exc:  # noqa: BLE001  # pragma: no cover
                    outcomes.append(Outcome(futures[fut], problem=repr(exc)))
                if bar is not None:
                    bar.update(1)
    finally:
        for server in pool or ():
            server.close()
    if bar is not None:
        bar.close()
    return sorted(outcomes, key=lambda o: o.submission)


def _unreadable(sid: str, out_dir: Path, settings: Settings, problem: str) -> Outcome:
    outcome = Outcome(sid, problem=problem,
                      scores={ch: 0.0 for ch in settings.chapters},
                      max_scores={ch: settings.max_points.get(ch, 0.0)
                                  for ch in settings.chapters})
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_failure_files(out_dir, outcome)
    return outcome


def run_batch(submissions: Path, out: Path, settings: Settings, workers: int = 1,
              progress: bool = True) -> list[Outcome]:
    """Grade every submission and write the gradebook and summary.

    Parameters
    ----------
    submissions : Path
        Folder of per-student folders or zips (relative paths work).
    out : Path
        Output folder (created): ``grades.csv``, ``summary.md``, ``students/``.
    settings : Settings
    workers : int
        Submissions graded at once.
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    list of Outcome
        One per upload, sorted by id.
    """
    # each submission's grader runs in a folder of its own: every path it is
    # given must be absolute, whatever the instructor typed
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    settings = replace(settings, mode=settings.mode or sandbox.probe(), tests_dir=(
        Path(settings.tests_dir).resolve() if settings.tests_dir else None))
    workers = max(1, workers)
    (out / names.STUDENTS).mkdir(parents=True, exist_ok=True)
    if settings.mode.name == "rlimits" and os.geteuid() == 0:
        # without namespaces only permissions keep the workers (other uids)
        # out of the class's submissions and results
        for note in sandbox.protect([submissions, out]):
            print(f"sandbox: {note}", file=sys.stderr)
    uploads = names.discover(submissions)
    readable = [(sid, path) for sid, path, problem in uploads if not problem]
    # the similarity report reads the uploads, not the grades: it runs in a
    # thread of this process while the graders (other processes) grade
    with ThreadPoolExecutor(max_workers=1) as side:
        similar = side.submit(similarity.section, readable, collect_submission,
                              exercise_modules(settings.tests_dir), settings.tests_dir)
        outcomes = _grade_all(uploads, out, settings, workers, progress)
        gradebook.write_csv(out / names.GRADEBOOK, outcomes, settings.chapters,
                            CHAPTERS)
        report = similar.result()
    (out / names.SUMMARY).write_text(
        gradebook.summary(outcomes, _header(settings, workers), settings.chapters)
        + report, encoding="utf-8")
    return outcomes


def _header(settings: Settings, workers: int) -> list[str]:
    """The summary's lines on the sandbox and the limits."""
    mode, lim = settings.mode, settings.limits
    first = (f"> **{mode.banner()}**" if mode.degraded
             else f"Sandbox: **{mode.name}** — {mode.reason}.")
    return [first, "", sandbox.budget_line(lim, budget.available()), "",
            (f"Limits: {settings.timeout_per_test:g} s per call, "
             f"{settings.timeout_per_submission:g} s per submission, "
             f"{lim.cpu_seconds} CPU-s per process; {workers} worker(s)."), ""]


# ------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``course grade-batch``."""
    parser.add_argument("submissions", type=Path,
                        help="folder with one folder or .zip per student")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (grades.csv, summary.md, students/<id>/)")
    parser.add_argument("--workers", type=int, default=1,
                        help="submissions graded in parallel (default 1)")
    parser.add_argument("--chapters", default="all",
                        help="chapters to grade, e.g. 1-3 or 1,4 (default: all)")
    parser.add_argument("--timeout-per-test", type=float, default=10.0,
                        metavar="S", help="seconds per call of student code")
    parser.add_argument("--timeout-per-submission", type=float, default=600.0,
                        metavar="S", help="seconds for a whole submission")
    parser.add_argument("--memory-mb", type=int, default=1024, metavar="M",
                        help="memory of a whole submission, all its processes "
                             "together (and the address space of each)")
    parser.add_argument("--tests", type=Path, default=None,
                        help="graded tests folder (default tests/exercises)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run ``course grade-batch``; returns the exit code."""
    if not args.submissions.is_dir():
        print(f"course grade-batch: {args.submissions} is not a folder",
              file=sys.stderr)
        return 2
    try:
        chapters = tuple(parse_chapters(args.chapters))
        max_points = points_by_chapter(build_manifest(tests_dir=args.tests))
    except (ValueError, RuntimeError) as exc:
        print(f"course grade-batch: {exc}", file=sys.stderr)
        return 2
    mode = sandbox.probe()
    print(mode.banner(), file=sys.stderr)
    limits = sandbox.Limits(memory_mb=args.memory_mb,
                            cpu_seconds=int(args.timeout_per_submission) + 10)
    settings = Settings(chapters=chapters, timeout_per_test=args.timeout_per_test,
                        timeout_per_submission=args.timeout_per_submission,
                        limits=limits, tests_dir=args.tests, mode=mode,
                        max_points=max_points)
    outcomes = run_batch(args.submissions, args.out, settings, args.workers,
                         progress=not args.no_progress)
    failed = sum(bool(o.problem) for o in outcomes)
    print(f"graded {len(outcomes)} submissions ({failed} could not be graded): "
          f"{args.out / names.GRADEBOOK}, {args.out / names.SUMMARY}",
          file=sys.stderr)
    if mode.degraded:
        print(mode.banner(), file=sys.stderr)
    return 0
