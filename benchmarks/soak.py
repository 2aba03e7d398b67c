"""Soak run of batch grading: a mixed class of 100, graded three times.

    .venv/bin/python -m benchmarks.soak [--n 100] [--runs 3] [--workers 2]

The class (built from the reference answers) holds honest, broken, hostile
and odd uploads in fixed proportions. Each run grades it with
``course grade-batch``'s own code and checks that the gradebook is the same
every time, that no process of the submissions and no file they wrote is left
(the runs use a private ``TMPDIR``; cgroups and the workers' user ids are
checked too), and records the time and the peak memory (VmHWM) of the trusted
processes: the batch itself, each submission's grader and its pytest. Writes
``benchmarks/soak.md``. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from course_lib.grading.batch import grade_batch, names, sandbox, uids, watchdog

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CH01, CH02 = "ch01_forward_pass", "ch02_loss"
MARKER = "5151"

HOSTILE = {
    "loop": "\nwhile True:\n    pass\n",
    "exit": "\nimport sys\nsys.exit(3)\n",
    "kids": (f"\nimport subprocess\n_k = [subprocess.Popen(['sleep', '{MARKER}'])"
             " for _ in range(20)]\n"),
    # chapter 2's loss is the class MSE (.loss, .grad): these wrap MSE.loss
    "hog": ("\nimport numpy as _np\n_loss = MSE.loss\n\n\n"
            "def _hog_loss(self, y_true, y_pred):\n"
            "    _blocks = [_np.ones(1 << 27) for _ in range(40)]\n"
            "    return _loss(self, y_true, y_pred)\n\n\nMSE.loss = _hog_loss\n"),
    "fill": ("\nimport os\n\n\ndef _fill_loss(self, y_true, y_pred):\n"
             "    for k in range(300):\n"
             "        with open(f'/tmp/soak-fill-{os.getpid()}-{k}', 'wb') as f:\n"
             "            f.write(b'x' * (1 << 20))\n    return 0.0\n\n\n"
             "MSE.loss = _fill_loss\n"),
    "forge": ("\n\ndef softmax(z):\n"
              "    raise ValueError('x\\n- `honest-000`: **0**')\n"),
    "segv": "\nimport ctypes\nctypes.string_at(0)\n",
}


def _write_folder(path: Path, files: dict[str, str]) -> None:
    (path / "exercises").mkdir(parents=True)
    for module, text in files.items():
        (path / "exercises" / f"{module}.py").write_text(text)


def _write_zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for module, text in files.items():
            zf.writestr(f"work/exercises/{module}.py", text)


def make_class(subs: Path, n: int) -> dict[str, int]:
    """Write ``n`` uploads: 40 % honest, 20 % broken, 20 % hostile, 20 % odd."""
    good = {m: (REPO / "solutions" / f"{m}.py").read_text() for m in (CH01, CH02)}
    kinds = {"honest": 0, "broken": 0, "hostile": 0, "odd": 0}
    for k in range(n):
        kind = ("honest", "honest", "broken", "hostile", "odd")[k % 5]
        kinds[kind] += 1
        if kind == "honest":
            _write_folder(subs / f"honest-{k:03d}", good)
        elif kind == "broken":
            bad = dict(good)
            bad[CH02] = (good[CH02].replace("return", "return 0.5 *", 1) if k % 2
                         else good[CH02] + "\ndef oops(:\n")
            _write_folder(subs / f"broken-{k:03d}", bad)
        elif kind == "hostile":
            name = sorted(HOSTILE)[k % len(HOSTILE)]
            _write_folder(subs / f"hostile-{name}-{k:03d}",
                          {CH01: good[CH01], CH02: good[CH02] + HOSTILE[name]})
        else:
            special = ["grades.csv.zip", "summary.md.zip", "dup.zip", "dup", "Dup"]
            rest = ["UPPER-{k}.ZIP", "pipe-{k}.zip", "名前-{k}", "{k}" + "x" * 200]
            i = kinds["odd"] - 1
            odd = special[i] if i < len(special) else rest[i % len(rest)].format(k=k)
            if odd.startswith("pipe"):
                os.mkfifo(subs / odd)
            elif odd.lower().endswith(".zip"):
                _write_zip(subs / odd, good)
            else:
                _write_folder(subs / odd, good)
    return kinds


class PeakSampler:
    """Samples the peak resident memory (VmHWM) of the trusted processes."""

    NEEDLES = (b"course_lib.grading.batch.child", b"course_lib.grading.checking.plugin")

    def __init__(self):
        self.peak_kib = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._halt.set()
        self._thread.join()

    def _run(self):
        while not self._halt.wait(0.2):
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    self._look(entry.name)

    def _look(self, pid: str) -> None:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read()
            if not any(n in argv for n in self.NEEDLES):
                return
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
        except OSError:
            pass


def leftovers(tmp: Path, slots: int) -> list[str]:
    """What a run left: processes, files, cgroups (empty when clean)."""
    left = [f"temp: {p.name}" for p in tmp.iterdir()]
    procs = watchdog.snapshot()
    worker_uids = ({uids.worker_uid(s) for s in range(slots)}
                   if os.geteuid() == 0 else set())
    left += [f"process {p.pid} (uid {p.uid})" for p in procs.values()
             if p.uid in worker_uids]
    for pid in procs:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if MARKER.encode() in argv:
            left.append(f"process {pid} (a submission's child)")
    for uid in worker_uids:
        left += [f"file {p}" for p in watchdog.owned_files(uid)]
    left += [f"file {p}" for p in Path("/tmp").glob("soak-fill-*")]
    for root in Path("/sys/fs/cgroup").glob("**/course-*"):
        left.append(f"cgroup {root}")
    return left


def one_run(subs: Path, out: Path, workers: int, chapters: tuple) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="soak-tmp-"))
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = None
    settings = grade_batch.Settings(
        chapters=chapters, timeout_per_test=3.0, timeout_per_submission=60.0,
        limits=sandbox.Limits(memory_mb=512, cpu_seconds=70))
    start = time.monotonic()
    with PeakSampler() as sampler:
        grade_batch.run_batch(subs, out, settings, workers=workers, progress=False)
    seconds = time.monotonic() - start
    time.sleep(0.5)
    left = leftovers(tmp, workers)
    os.environ.pop("TMPDIR")
    tempfile.tempdir = None
    shutil.rmtree(tmp, ignore_errors=True)
    return {"seconds": seconds, "grades": (out / names.GRADEBOOK).read_text(),
            "left": left, "peak_child_mib": sampler.peak_kib / 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chapters", default="ch01,ch02")
    args = ap.parse_args()
    chapters = tuple(args.chapters.split(","))
    root = Path(tempfile.mkdtemp(prefix="course-soak-"))
    subs = root / "submissions"
    subs.mkdir()
    kinds = make_class(subs, args.n)
    runs = [one_run(subs, root / f"out{k}", args.workers, chapters)
            for k in range(args.runs)]
    same = all(r["grades"] == runs[0]["grades"] for r in runs)
    rows = len(runs[0]["grades"].splitlines()) - 1
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "# Soak run of batch grading", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine counts).",
        f"Class: {args.n} uploads ({', '.join(f'{v} {k}' for k, v in kinds.items())}),"
        f" chapters {', '.join(chapters)}, {args.workers} workers, sandbox "
        f"{sandbox.probe().name}, budget {sandbox.budget.available()}.", "",
        "| run | seconds | rows | peak memory of a trusted grader (MiB) | left |",
        "| ---: | ---: | ---: | ---: | --- |"]
    for k, r in enumerate(runs, 1):
        lines.append(f"| {k} | {r['seconds']:.0f} | {rows} | "
                     f"{r['peak_child_mib']:.0f} | {len(r['left'])} |")
    lines += ["", f"Gradebooks identical across runs: **{same}**. Peak memory of the "
              f"batch process itself: {self_mib:.0f} MiB."]
    for k, r in enumerate(runs, 1):
        lines += [f"- run {k} left: {x}" for x in r["left"][:20]]
    text = "\n".join(lines) + "\n"
    (HERE / "soak.md").write_text(text)
    print(text)
    shutil.rmtree(root, ignore_errors=True)
    return 0 if same and not any(r["left"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
