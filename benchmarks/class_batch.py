"""A class graded in batch: 30 honest submissions, timed per worker count.

    .venv/bin/python -m benchmarks.class_batch [--n 30] [--workers 1,2]
                                               [--chapters '1-7;all'] [--write]

Every submission is a copy of ``solutions/`` (so every test runs to the end
and nothing is cut short by a failure). Each case runs ``course grade-batch``
exactly as an instructor does, in a fresh process, and reports its wall time
and whether every student got full marks. ``--write`` puts the table into
benchmarks/results.md (section "Class batch"). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.sections import write_section
from course_lib.grading.core.chapters import CHAPTERS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BEGIN, END = "<!-- class-batch: begin -->", "<!-- class-batch: end -->"


def make_class(subs: Path, n: int) -> None:
    """``n`` submission folders, each holding every chapter's reference answers."""
    files = [REPO / "solutions" / f"{module}.py" for module, _ in CHAPTERS.values()]
    for k in range(n):
        folder = subs / f"student-{k:02d}"
        folder.mkdir(parents=True)
        for f in files:
            shutil.copy(f, folder / f.name)


class CpuMeter:
    """CPU seconds of a command and every process below it.

    A cgroup v1 ``cpuacct`` group where this process may make one (as root):
    it counts the sandboxed workers too, which ``getrusage(RUSAGE_CHILDREN)``
    misses (they die inside their own PID namespace, unwaited by the batch);
    elsewhere that undercount is what is reported (``how`` says which).
    """

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self):
        self.group: Path | None = None
        if self.ROOT.is_dir() and os.access(self.ROOT, os.W_OK):
            group = self.ROOT / f"course-bench-{os.getpid()}-{time.monotonic_ns()}"
            try:
                group.mkdir()
                self.group = group
            except OSError:
                pass
        self.how = "cpuacct cgroup" if self.group else "rusage (no sandboxed workers)"
        self._before = self._rusage()

    @staticmethod
    def _rusage() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def join(self) -> None:
        """In the child, before exec: count it (and what it starts)."""
        if self.group is not None:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float:
        """CPU seconds used so far; releases the cgroup."""
        if self.group is None:
            return self._rusage() - self._before
        used = int((self.group / "cpuacct.usage").read_text()) / 1e9
        for _ in range(50):
            try:
                self.group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
        return used


def grade(subs: Path, out: Path, workers: int, chapters: str) -> dict:
    """Run ``course grade-batch`` once; wall and CPU time, the gradebook's verdict."""
    cmd = [sys.executable, "-m", "course_lib", "grade-batch", str(subs), "--out",
           str(out), "--workers", str(workers), "--chapters", chapters,
           "--no-progress"]
    meter = CpuMeter()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                         preexec_fn=meter.join)
    seconds = time.perf_counter() - start
    cpu = meter.seconds()
    if run.returncode != 0:
        raise SystemExit(f"grade-batch failed ({run.returncode}):\n"
                         f"{run.stderr[-3000:]}")
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"seconds": seconds, "cpu": cpu, "cpu_how": meter.how, "rows": len(rows),
            "load": (load, os.getloadavg()[0]),
            "totals": sorted({r["total"] for r in rows})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="submissions (default 30)")
    ap.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    ap.add_argument("--chapters", default="1-7;all",
                    help="chapter specs separated by ';', e.g. '1-7;all' "
                         "(the default)")
    ap.add_argument("--write", action="store_true",
                    help="update benchmarks/results.md")
    args = ap.parse_args(argv)
    specs = [s for s in args.chapters.split(";") if s]
    root = Path(tempfile.mkdtemp(prefix="course-class-"))
    try:
        make_class(root / "subs", args.n)
        rows, how = [], ""
        for spec in specs:
            for w in (int(x) for x in args.workers.split(",")):
                r = grade(root / "subs", root / f"out-{spec}-{w}", w, spec)
                how = r["cpu_how"]
                per = r["cpu"] / max(1, args.n)
                print(f"chapters {spec}, {w} worker(s): {r['seconds']:.1f} s, "
                      f"{r['cpu']:.1f} CPU-s ({per:.2f} per submission), load "
                      f"{r['load'][0]:.1f}-{r['load'][1]:.1f}, {r['rows']} rows, "
                      f"totals {r['totals']}", file=sys.stderr)
                rows.append(f"| {spec} | {w} | {r['seconds']:.1f} s | "
                            f"{r['cpu']:.0f} s | {per:.2f} s | "
                            f"{r['load'][0]:.1f}–{r['load'][1]:.1f} | {r['rows']} | "
                            f"{', '.join(r['totals'])} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = [BEGIN, "## Class batch (`python -m benchmarks.class_batch`)", "",
             f"{args.n} copies of `solutions/` graded by `course grade-batch`; "
             f"python {platform.python_version()}, {os.cpu_count()} cpus. CPU is "
             f"that of the whole batch (every process, measured by {how}); load is "
             "the 1-minute load average at the start and end of the case (the "
             "machine is shared: wall time grows with it, CPU time much less). "
             "Target: a class of 30 on every chapter in ≤ 60 s with two workers.",
             "",
             "| chapters | workers | wall time | CPU | CPU per submission | load "
             "| rows | totals |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |", *rows, END]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(BEGIN, END, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
