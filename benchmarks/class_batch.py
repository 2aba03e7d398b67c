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


def grade(subs: Path, out: Path, workers: int, chapters: str) -> dict:
    """Run ``course grade-batch`` once; wall time and the gradebook's verdict."""
    cmd = [sys.executable, "-m", "course_lib", "grade-batch", str(subs), "--out",
           str(out), "--workers", str(workers), "--chapters", chapters,
           "--no-progress"]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"grade-batch failed ({run.returncode}):\n"
                         f"{run.stderr[-3000:]}")
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"seconds": seconds, "rows": len(rows),
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
        load = os.getloadavg()[0]
        rows = []
        for spec in specs:
            for w in (int(x) for x in args.workers.split(",")):
                r = grade(root / "subs", root / f"out-{spec}-{w}", w, spec)
                print(f"chapters {spec}, {w} worker(s): {r['seconds']:.1f} s, "
                      f"{r['rows']} rows, totals {r['totals']}", file=sys.stderr)
                rows.append(f"| {spec} | {w} | {r['seconds']:.1f} s | {r['rows']} | "
                            f"{', '.join(r['totals'])} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = [BEGIN, "## Class batch (`python -m benchmarks.class_batch`)", "",
             f"{args.n} copies of `solutions/` graded by `course grade-batch`; "
             f"python {platform.python_version()}, {os.cpu_count()} cpus, load "
             f"average {load:.1f} at the start. Target: a class of 30 on every "
             "chapter in ≤ 60 s with two workers.", "",
             "| chapters | workers | wall time | rows | totals |",
             "| --- | ---: | ---: | ---: | --- |", *rows, END]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(BEGIN, END, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
