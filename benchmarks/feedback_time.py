"""Time to feedback for a student: one chapter from the command line, and check()
in a warm process (issue 15). Not part of ``make test``: times depend on the machine
and its load.

    .venv/bin/python -m benchmarks.feedback_time [--runs 9] [--write]
    .venv/bin/python -m benchmarks.feedback_time --root /other/checkout   # compare

``cli``: ``python -m course_lib grade ch01`` in a fresh process (the generated
exercises, as a student runs it first). ``warm``: ``check("ch01")`` repeated in one
process after a first call. Both report the median wall time and the median CPU
time of every process involved (the grader, pytest, the worker), which the load
of a shared machine disturbs less. ``--write`` puts the table into
benchmarks/results.md (section "Time to feedback") and benchmarks/feedback_time.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.sections import write_section

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- feedback-time -->", "<!-- /feedback-time -->"

_WARM = """
import json, os, resource, sys, time
from course_lib.grading import check

def server_cpu():
    # a fork server (course_lib.grading.checking.launch) waits for its own
    # children: their time is in its /proc stat, not in this process's rusage
    try:
        from course_lib.grading.checking import launch
    except ImportError:
        return 0.0
    server = getattr(launch, "_SERVER", None)
    if server is None or server.poll() is not None:
        return 0.0
    with open(f"/proc/{server.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")

def cpu():
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime + server_cpu()

import threading
# a notebook's kernel has threads of its own; so does this process
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
check("ch01")  # the first call warms the process
out = []
for _ in range(int(sys.argv[1])):
    t, c = time.perf_counter(), cpu()
    report = check("ch01")
    out.append([time.perf_counter() - t, cpu() - c])
assert report.tests, "nothing was graded"
print(json.dumps(out))
"""


def _env(root: Path | None) -> dict:
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = str(root)
    return env


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_cli(root: Path, runs: int, env: dict) -> list[list[float]]:
    """``[wall, cpu]`` of ``python -m course_lib grade ch01``, ``runs`` times."""
    out = []
    for _ in range(runs):
        t, c = time.perf_counter(), _children_cpu()
        subprocess.run([sys.executable, "-m", "course_lib", "grade", "ch01"],
                       cwd=root, env=env, check=True, capture_output=True)
        out.append([time.perf_counter() - t, _children_cpu() - c])
    return out


def time_warm(root: Path, runs: int, env: dict) -> list[list[float]]:
    """``[wall, cpu]`` of ``check("ch01")`` in one warm process, ``runs`` times."""
    proc = subprocess.run([sys.executable, "-c", _WARM, str(runs)], cwd=root,
                          env=env, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summary(samples: list[list[float]]) -> dict:
    wall = [s[0] for s in samples]
    cpu = [s[1] for s in samples]
    return {"wall_median": statistics.median(wall), "wall_min": min(wall),
            "wall_max": max(wall), "cpu_median": statistics.median(cpu),
            "runs": len(samples)}


def table(runs: dict) -> str:
    """One row per measured code base (``label``) and case."""
    lines = ["| code | case | target | wall median (min–max) | CPU median | runs |",
             "| --- | --- | --- | --- | --- | --- |"]
    targets = {"cli": "≤ 0.8 s", "warm": "≤ 0.3 s"}
    names = {"cli": "`course grade ch01`, fresh process",
             "warm": "`check('ch01')`, warm process"}
    for label, results in runs.items():
        for key, r in results["cases"].items():
            lines.append(f"| {label} | {names[key]} | {targets[key]} | "
                         f"{r['wall_median']:.2f} s ({r['wall_min']:.2f}–"
                         f"{r['wall_max']:.2f}) | {r['cpu_median']:.2f} s | "
                         f"{r['runs']} |")
    return "\n".join(lines)


def write(label: str, results: dict) -> str:
    """Store ``results`` under ``label`` and rewrite the results.md section."""
    store = HERE / "feedback_time.json"
    runs = json.loads(store.read_text()) if store.exists() else {}
    runs[label] = results
    store.write_text(json.dumps(runs, indent=2) + "\n")
    notes = "\n".join(f"- {k}: {v['note']}" for k, v in runs.items())
    text = table(runs)
    section = (f"{BEGIN}\n## Time to feedback\n\n{notes}\n\n{text}\n{END}")
    write_section(BEGIN, END, section)
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.feedback_time")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--root", type=Path, default=None,
                   help="another checkout to measure (put first on PYTHONPATH)")
    p.add_argument("--write", action="store_true",
                   help="update benchmarks/results.md and feedback_time.json")
    p.add_argument("--label", default="this code",
                   help="name of the measured code in the table (e.g. before)")
    args = p.parse_args(argv)
    root = (args.root or HERE.parent).resolve()
    env = _env(args.root)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results = {"cases": {"cli": summary(time_cli(root, args.runs, env)),
                         "warm": summary(time_warm(root, args.runs, env))},
               "machine": f"python {platform.python_version()}, {os.cpu_count()} "
                          f"cpus, load average {load:.1f} at the start"}
    results["note"] = (f"median of {args.runs} runs on {results['machine']}; CPU "
                       "is the time of every process involved (grader, pytest, "
                       "worker)")
    print(results["note"])
    print(write(args.label, results) if args.write else
          table({args.label: results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
