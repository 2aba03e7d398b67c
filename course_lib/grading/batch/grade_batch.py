"""Grade a whole class: ``course grade-batch SUBMISSIONS --out DIR``.

``SUBMISSIONS`` holds one folder or ``.zip`` per student; the folder or zip
name (without ``.zip``) is the student's id. For each submission:

1. the exercise files it contains (``chNN_<slug>.py``, found anywhere inside,
   preferring an ``exercises/`` folder) are copied into a fresh temporary
   folder; zips are read entry by entry (never ``extractall``): absolute
   paths, ``..`` components and symlinks are refused and sizes are capped;
2. a separate *trusted* grader process (this module, ``--grade-one``) runs the
   graded tests in the instructor's environment with hidden tests included,
   and starts the student's code only inside :mod:`.sandbox` workers;
3. the grader writes ``DIR/<id>/results.json`` (Gradescope format) and
   ``DIR/<id>/feedback.txt``; the whole process group is killed at the end
   and any process still carrying the submission's sandbox token is reaped.

Then ``DIR/grades.csv`` (``submission,ch01,…,ch07,total``, one row per
submission, always) and ``DIR/summary.md`` are written. Nothing the student's
code writes or prints is read back: scores come from the grader's report.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..checking.manifest import build as build_manifest
from ..checking.manifest import points_by_chapter
from ..core import procs
from ..core.chapters import CHAPTERS, parse_chapters
from . import sandbox

#: Largest exercise file accepted (bytes).
MAX_FILE_BYTES = 1 << 20
#: Largest total uncompressed size of a zip (bytes).
MAX_ZIP_BYTES = 64 << 20
#: Most entries accepted in a zip.
MAX_ZIP_ENTRIES = 5000

CSV_HEADER = ["submission", *CHAPTERS, "total"]


@dataclass
class Outcome:
    """What grading one submission produced.

    Attributes
    ----------
    submission : str
        The student's id.
    scores : dict
        ``{"ch01": points, ...}`` for the graded chapters.
    max_scores : dict
        Points possible per graded chapter.
    seconds : float
        Wall time, copy included.
    problem : str
        Empty when grading ran; otherwise why the submission scored 0
        (no files found, time limit, grader failure).
    chapter_problems : dict
        ``{"ch03": "could not be imported: SyntaxError ..."}`` — chapters that
        crashed, timed out or failed to import.
    notes : list of str
        Things noticed while copying (refused zip entries, missing files).
    """

    submission: str
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    seconds: float = 0.0
    problem: str = ""
    chapter_problems: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


# ------------------------------------------------------------------ modules
def exercise_modules(tests_dir: Path | None = None) -> dict[str, str]:
    """Map each chapter to its exercise module name (``ch03_chain_rule``).

    Read from the graded test files ``test_chNN_<slug>.py``.

    Parameters
    ----------
    tests_dir : Path, optional
        Defaults to ``tests/exercises`` beside ``course_lib``.

    Returns
    -------
    dict
    """
    from ..core.paths import default_tests_dir

    tests_dir = Path(tests_dir or default_tests_dir())
    out = {}
    for path in sorted(tests_dir.glob("test_ch[0-9][0-9]_*.py")):
        module = path.stem[len("test_"):]
        out.setdefault(module[:4], module)
    return out


# ------------------------------------------------------------------ copying
def _rank(rel: Path) -> tuple:
    """Prefer files under an ``exercises`` folder, then the shallowest."""
    return ("exercises" not in rel.parts[:-1], len(rel.parts), str(rel))


def _copy_limited(read, dest: Path) -> None:
    data = read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES >> 10} KiB")
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def collect_submission(src: Path, dest: Path, modules: dict[str, str]
                       ) -> tuple[dict[str, Path], list[str]]:
    """Copy a submission's exercise files into ``dest`` (flat, safe).

    Parameters
    ----------
    src : Path
        A folder or a ``.zip``.
    dest : Path
        An empty folder; receives ``<module>.py`` files only.
    modules : dict
        ``{"ch01": "ch01_forward_pass", ...}``.

    Returns
    -------
    found : dict
        ``{"ch01": dest / "ch01_forward_pass.py", ...}``.
    notes : list of str
        Refused entries and other remarks.
    """
    wanted = {f"{m}.py": ch for ch, m in modules.items()}
    notes: list[str] = []
    candidates: dict[str, list] = {}
    if src.is_dir() and not src.is_symlink():
        for root, dirs, files in os.walk(src, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and d != "__pycache__")
            for name in files:
                path = Path(root) / name
                rel = path.relative_to(src)
                if name not in wanted:
                    continue
                if path.is_symlink():
                    notes.append(f"ignored symlink {rel}")
                    continue
                candidates.setdefault(name, []).append((_rank(rel), rel, path))
        for name, options in candidates.items():
            _, rel, path = min(options)
            try:
                with open(path, "rb") as f:
                    _copy_limited(f.read, dest / name)
            except (OSError, ValueError) as exc:
                notes.append(f"refused {rel}: {exc}")
        if not candidates:
            # a folder holding the student's zip (Gradescope keeps uploads so)
            for inner in sorted(src.glob("*.zip")):
                if not inner.is_symlink():
                    found, more = collect_submission(inner, dest, modules)
                    notes += more
                    if found:
                        notes.append(f"read {inner.name}")
                        break
    elif src.suffix == ".zip" and src.is_file():
        try:
            archive = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, OSError) as exc:
            return {}, [f"not a readable zip: {exc}"]
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return {}, [f"zip has {len(infos)} entries (limit {MAX_ZIP_ENTRIES})"]
            total = sum(i.file_size for i in infos)
            if total > MAX_ZIP_BYTES:
                return {}, [(f"zip expands to {total >> 20} MiB "
                             f"(limit {MAX_ZIP_BYTES >> 20} MiB)")]
            for info in infos:
                name = info.filename.replace("\\", "/")
                rel = Path(name)
                if name.startswith("/") or ".." in rel.parts or ":" in rel.parts[0]:
                    notes.append(f"refused unsafe path {info.filename!r}")
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    notes.append(f"refused symlink {info.filename!r}")
                    continue
                if info.is_dir() or rel.name not in wanted:
                    continue
                if "__MACOSX" in rel.parts:
                    continue
                candidates.setdefault(rel.name, []).append((_rank(rel), rel, info))
            for name, options in candidates.items():
                _, rel, info = min(options)
                try:
                    with archive.open(info) as f:
                        _copy_limited(f.read, dest / name)
                except (OSError, ValueError, zipfile.BadZipFile,
                        RuntimeError) as exc:  # RuntimeError: encrypted entry
                    notes.append(f"refused {rel}: {exc}")
    else:
        return {}, [f"{src.name} is neither a folder nor a .zip"]
    found = {wanted[p.name]: p for p in sorted(dest.glob("*.py"))}
    return found, notes


def discover(submissions: Path) -> list[tuple[str, Path]]:
    """List ``(id, path)`` for every folder or zip in ``submissions``.

    Parameters
    ----------
    submissions : Path

    Returns
    -------
    list of tuple
        Sorted by id; hidden entries are skipped; a second entry with the
        same id gets a ``-2`` suffix.
    """
    seen: dict[str, int] = {}
    out = []
    for path in sorted(Path(submissions).iterdir()):
        if path.name.startswith(".") or path.name.startswith("__"):
            continue
        if not (path.is_dir() or path.suffix.lower() == ".zip"):
            continue
        sid = path.name[:-4] if path.suffix.lower() == ".zip" else path.name
        sid = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in sid) or "_"
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            sid = f"{sid}-{seen[sid]}"
        out.append((sid, path))
    return out


# ------------------------------------------------------------------ grading
@dataclass(frozen=True)
class Settings:
    """Options shared by every submission of a batch."""

    chapters: tuple
    timeout_per_test: float = 10.0
    timeout_per_submission: float = 300.0
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    tests_dir: Path | None = None
    mode: sandbox.Mode | None = None
    max_points: dict = field(default_factory=dict)


def grade_submission(sid: str, src: Path, out_dir: Path, settings: Settings,
                     modules: dict[str, str], slot: int = 0) -> Outcome:
    """Grade one submission in a child grader process and return its outcome.

    Parameters
    ----------
    sid : str
        Student id.
    src : Path
        The submission (folder or zip).
    out_dir : Path
        ``DIR/<id>``; receives ``results.json`` and ``feedback.txt``.
    settings : Settings
    modules : dict
        Chapter to module name.
    slot : int
        Worker slot (parallel grading).

    Returns
    -------
    Outcome
    """
    start = time.monotonic()
    outcome = Outcome(sid)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.json", "feedback.txt", "grader.json"):
        (out_dir / stale).unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"course-grade-{slot}-"))
    try:
        student = work / "submission"
        student.mkdir()
        found, notes = collect_submission(src, student, modules)
        outcome.notes = notes
        sandbox.share_with_worker(work, slot)  # this slot's worker only
        missing = [ch for ch in settings.chapters if ch not in found]
        for ch in missing:
            outcome.chapter_problems[ch] = f"no {modules.get(ch, ch)}.py submitted"
        if not found:
            outcome.problem = "no exercise files found in the submission"
        present = [ch for ch in settings.chapters if ch in found]
        token = f"batch-{os.getpid()}-{slot}-{time.monotonic_ns()}"
        result_file = out_dir / "grader.json"
        cmd = [sys.executable, "-m", "course_lib.grading.batch.grade_batch",
               "--grade-one",
               str(student), "--result", str(result_file),
               "--results-json", str(out_dir / "results.json"),
               "--feedback", str(out_dir / "feedback.txt"),
               "--chapters", ",".join(present),
               "--timeout-per-test", str(settings.timeout_per_test),
               "--run-timeout", str(max(5.0, settings.timeout_per_submission - 5)),
               "--memory-mb", str(settings.limits.memory_mb),
               "--cpu-seconds", str(settings.limits.cpu_seconds),
               "--nproc", str(settings.limits.nproc),
               "--slot", str(slot), "--token", token]
        if settings.tests_dir:
            cmd += ["--tests", str(Path(settings.tests_dir).resolve())]
        env = dict(os.environ)
        if settings.mode is not None:
            env["COURSE_SANDBOX"] = settings.mode.name
        if not present:
            cmd = [sys.executable, "-c", ""]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, text=True,
                                cwd=str(work))
        try:
            # the grader stops its own test run 5 s before the limit (tests not
            # reached count 0, the rest keep their points); this is the backstop
            _, err = proc.communicate(timeout=settings.timeout_per_submission + 30)
        except subprocess.TimeoutExpired:
            sandbox.kill_group(proc.pid)
            _, err = proc.communicate()
            outcome.problem = (f"exceeded the per-submission time limit of "
                               f"{settings.timeout_per_submission:g} s")
        finally:
            sandbox.kill_group(proc.pid)
            sandbox.reap(token)
        if not present:
            pass  # nothing to run: every chapter scores 0
        elif not outcome.problem:
            if result_file.exists():
                data = json.loads(result_file.read_text())
                outcome.scores = data["scores"]
                outcome.max_scores = data["max_scores"]
                outcome.chapter_problems.update(data.get("problems", {}))
                result_file.unlink()
            else:
                tail = " | ".join((err or "").strip().splitlines()[-3:])
                outcome.problem = (f"the grader failed (exit {proc.returncode}): "
                                   f"{tail[-300:]}")
    except Exception as exc:  # noqa: BLE001  (the batch goes on whatever happens)
        outcome.problem = f"grading error: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not outcome.scores:
        outcome.scores = {ch: 0.0 for ch in settings.chapters}
    for ch in settings.chapters:
        outcome.scores.setdefault(ch, 0.0)
        if ch in settings.max_points:
            outcome.max_scores.setdefault(ch, settings.max_points[ch])
    outcome.seconds = time.monotonic() - start
    if outcome.problem:
        _write_failure_files(out_dir, outcome)
    return outcome


def _write_failure_files(out_dir: Path, outcome: Outcome) -> None:
    """Gradescope-format results and feedback for a submission that scored 0."""
    message = f"Grading could not run: {outcome.problem}."
    if outcome.notes:
        message += "\n" + "\n".join(outcome.notes)
    results = {"score": 0.0, "output": message, "tests": [
        {"name": f"{ch}", "score": 0.0,
         "max_score": outcome.max_scores.get(ch, 0.0), "output": message,
         "visibility": "visible"} for ch in outcome.scores]}
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "feedback.txt").write_text(message + "\n")


# ------------------------------------------------------------- the child
_PROBLEM_KINDS = ("import", "crash", "timeout", "missing", "test_error")
_RESOURCE_ERRORS = ("MemoryError", "RecursionError", "OSError", "BlockingIOError")


def _report_scores(report) -> tuple[dict, dict, dict]:
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


def _kill_descendants() -> None:
    for _ in range(3):
        pids = procs.descendants_of(os.getpid())
        if not pids:
            return
        procs.kill_pids(pids, reap=True)


def _grade_one(args: argparse.Namespace) -> int:
    """The trusted grader process for one submission (``--grade-one``)."""
    procs.become_subreaper()
    from ..checking.runner import grade

    limits = sandbox.Limits(memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds,
                            nproc=args.nproc)
    target = Path(args.grade_one)
    chapters = [c for c in args.chapters.split(",") if c]
    # a private copy of the graded tests: whatever happens to it (a degraded
    # sandbox cannot stop a student from writing there) affects no one else
    from ..core.paths import default_tests_dir

    tests_src = Path(args.tests) if args.tests else default_tests_dir()
    box = sandbox.Sandbox(target, limits, sandbox.probe(), slot=args.slot,
                          token=args.token,
                          private=(Path(tests_src).resolve().parents[1],))
    private = Path(tempfile.mkdtemp(prefix="course-tests-"))
    tests_copy = private / "tests" / "exercises"
    shutil.copytree(tests_src, tests_copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if (tests_src.parent / "conftest.py").is_file():
        shutil.copy(tests_src.parent / "conftest.py", tests_copy.parent)
    try:
        report = grade(target, chapters=chapters, include_hidden=True,
                       tests_dir=tests_copy, json_path=Path(args.results_json),
                       **box.grade_kwargs(),
                       timeout=args.run_timeout, call_timeout=args.timeout_per_test)
        Path(args.feedback).write_text(report.text(ascii_only=True) + "\n")
        scores, max_scores, problems = _report_scores(report)
        Path(args.result).write_text(json.dumps(
            {"scores": scores, "max_scores": max_scores, "problems": problems}))
    finally:
        box.reap()
        _kill_descendants()
        box.cleanup()
        shutil.rmtree(private, ignore_errors=True)
    return 0


# ------------------------------------------------------------- the batch
def run_batch(submissions: Path, out: Path, settings: Settings, workers: int = 1,
              progress: bool = True) -> list[Outcome]:
    """Grade every submission and write the gradebook and summary.

    Parameters
    ----------
    submissions : Path
        Folder of per-student folders or zips.
    out : Path
        Output folder (created).
    settings : Settings
    workers : int
        Submissions graded at once.
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    list of Outcome
        Sorted by submission id.
    """
    # the grader of each submission runs in a folder of its own: every path it
    # is given must be absolute, whatever the instructor typed
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if settings.tests_dir is not None:
        settings = replace(settings, tests_dir=Path(settings.tests_dir).resolve())
    out.mkdir(parents=True, exist_ok=True)
    entries = discover(submissions)
    modules = exercise_modules(settings.tests_dir)
    slots: queue.Queue = queue.Queue()
    for k in range(max(1, workers)):
        slots.put(k)
    mode = settings.mode or sandbox.probe()
    guard = _TestsGuard(settings.tests_dir) if mode.degraded else None
    if mode.name == "rlimits" and os.geteuid() == 0:
        # without namespaces only permissions keep the workers (other uids)
        # out of the class's submissions and results
        for note in sandbox.protect([submissions, out]):
            print(f"sandbox: {note}", file=sys.stderr)

    def task(sid, path):
        slot = slots.get()
        try:
            outcome = grade_submission(sid, path, out / sid, settings, modules, slot)
            if guard is not None and guard.restore_if_changed():
                outcome.chapter_problems["tests"] = (
                    "the graded tests changed while this submission was graded "
                    "(degraded sandbox); they were restored")
            return outcome
        finally:
            slots.put(slot)

    outcomes: list[Outcome] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(entries), unit="submission", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(task, sid, path): sid for sid, path in entries}
        for fut in as_completed(futures):
            try:
                outcomes.append(fut.result())
            except Exception as exc:  # noqa: BLE001  # pragma: no cover
                outcomes.append(Outcome(futures[fut], problem=repr(exc)))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(futures[fut][:20])
    if bar is not None:
        bar.close()
    outcomes.sort(key=lambda o: o.submission)
    write_csv(out / "grades.csv", outcomes, settings.chapters)
    (out / "summary.md").write_text(summary(outcomes, settings, workers))
    return outcomes


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


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def write_csv(path: Path, outcomes: list[Outcome], chapters) -> None:
    """``submission,ch01,…,ch07,total``; chapters not graded are left empty."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        for o in outcomes:
            row = [o.submission]
            for ch in CHAPTERS:
                row.append(_fmt(o.scores.get(ch, 0.0)) if ch in chapters else "")
            row.append(_fmt(o.total))
            writer.writerow(row)


def summary(outcomes: list[Outcome], settings: Settings, workers: int) -> str:
    """The batch summary as Markdown."""
    mode = settings.mode or sandbox.probe()
    lines = ["# Batch grading summary", ""]
    if mode.degraded:
        lines += [f"> **{mode.banner()}**", ""]
    else:
        lines += [f"Sandbox: **{mode.name}** — {mode.reason}.", ""]
    lim = settings.limits
    lines += [(f"Limits: {settings.timeout_per_test:g} s per call, "
               f"{settings.timeout_per_submission:g} s per submission, "
               f"{lim.memory_mb} MiB address space, {lim.nproc} processes, "
               f"{lim.cpu_seconds} CPU-s per worker; {workers} worker(s)."), ""]
    ok = [o for o in outcomes if not o.problem]
    lines += [(f"Submissions: **{len(outcomes)}** ({len(ok)} graded, "
               f"{len(outcomes) - len(ok)} scored 0 because grading could not run)."),
              ""]
    max_scores: dict = {}
    for o in outcomes:
        for ch, v in o.max_scores.items():
            max_scores[ch] = max(max_scores.get(ch, 0.0), v)
    lines += ["| chapter | max | mean | std | min | median | max scored | zeros |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for ch in list(settings.chapters) + ["total"]:
        vals = [o.total if ch == "total" else o.scores.get(ch, 0.0)
                for o in outcomes]
        if not vals:
            continue
        possible = (sum(max_scores.get(c, 0.0) for c in settings.chapters)
                    if ch == "total" else max_scores.get(ch, 0.0))
        std = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        lines.append(
            f"| {ch} | {_fmt(possible)} | {statistics.fmean(vals):.2f} | "
            f"{std:.2f} | {_fmt(min(vals))} | {_fmt(statistics.median(vals))} | "
            f"{_fmt(max(vals))} | {sum(v == 0 for v in vals)} |")
    lines.append("")
    slow = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    if slow:
        times = [o.seconds for o in outcomes]
        lines += [(f"Time per submission: mean {statistics.fmean(times):.1f} s, "
                   f"max {max(times):.1f} s."), "", "Slowest submissions:", ""]
        lines += [f"- `{o.submission}`: {o.seconds:.1f} s" for o in slow]
        lines.append("")
    crashed = [o for o in outcomes if o.problem or o.chapter_problems]
    lines += ["## Crashes and problems", ""]
    if not crashed:
        lines.append("None.")
    for o in crashed:
        if o.problem:
            lines.append(f"- `{o.submission}`: **{o.problem}**")
        for ch, why in sorted(o.chapter_problems.items()):
            lines.append(f"- `{o.submission}` {ch}: {why}")
        for note in o.notes:
            lines.append(f"- `{o.submission}` (copy): {note}")
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``course grade-batch``."""
    parser.add_argument("submissions", type=Path,
                        help="folder with one folder or .zip per student")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (grades.csv, summary.md, <id>/...)")
    parser.add_argument("--workers", type=int, default=1,
                        help="submissions graded in parallel (default 1)")
    parser.add_argument("--chapters", default="1-7",
                        help="chapters to grade, e.g. 1-3 or 1,4 (default 1-7)")
    parser.add_argument("--timeout-per-test", type=float, default=10.0,
                        metavar="S", help="seconds per call of student code")
    parser.add_argument("--timeout-per-submission", type=float, default=600.0,
                        metavar="S", help="seconds for a whole submission")
    parser.add_argument("--memory-mb", type=int, default=1024, metavar="M",
                        help="address-space limit of the student's process")
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
    except ValueError as exc:
        print(f"course grade-batch: {exc}", file=sys.stderr)
        return 2
    mode = sandbox.probe()
    print(mode.banner(), file=sys.stderr)
    limits = sandbox.Limits(
        memory_mb=args.memory_mb,
        cpu_seconds=int(args.timeout_per_submission) + 10)
    try:
        max_points = points_by_chapter(build_manifest(tests_dir=args.tests))
    except RuntimeError as exc:
        print(f"course grade-batch: cannot read the graded tests: {exc}",
              file=sys.stderr)
        return 2
    settings = Settings(chapters=chapters, timeout_per_test=args.timeout_per_test,
                        timeout_per_submission=args.timeout_per_submission,
                        limits=limits, tests_dir=args.tests, mode=mode,
                        max_points=max_points)
    outcomes = run_batch(args.submissions, args.out, settings, args.workers,
                         progress=not args.no_progress)
    failed = sum(bool(o.problem) for o in outcomes)
    print(f"graded {len(outcomes)} submissions ({failed} could not be graded): "
          f"{args.out / 'grades.csv'}, {args.out / 'summary.md'}", file=sys.stderr)
    if mode.degraded:
        print(mode.banner(), file=sys.stderr)
    return 0


def _child_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_lib.grading.batch.grade_batch")
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
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--token", default="")
    p.add_argument("--tests", type=Path, default=None)
    return p


if __name__ == "__main__":
    try:
        sys.exit(_grade_one(_child_parser().parse_args()))
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(3)
