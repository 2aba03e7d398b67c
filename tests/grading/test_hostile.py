"""Hostile submissions graded by ``course grade-batch``.

One batch grades every case in ``hostile/`` at once (two workers, 3 s per
call, 512 MiB, 60 s per submission). Each case is a ch02 file built from the
reference answer plus a hostile fragment; ch01 is always the (correct)
reference answer, so a case must never cost ch01 anything.

Two kinds of cases:

* **breaking** (correct ch02 + a fragment that loops, sleeps, exits, crashes,
  allocates, floods, forks or fails to compile): ch02 loses exactly the
  points of the exercise it breaks (all of ch02 when the file cannot be
  imported) and ch01 keeps every point;
* **cheating** (wrong ch02 + a fragment that patches numpy/pytest, writes fake
  result files, reads the reference answers or overwrites tests): ch02 scores
  exactly what the same wrong ch02 scores without the cheat.

Afterwards no process started by a submission may be alive.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import sandbox
from course_lib.grading.checking.manifest import build as build_manifest
from course_lib.grading.checking.remote import StudentModule

REPO = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parent / "hostile"
SOLUTIONS = REPO / "solutions"
CH01 = "ch01_forward_pass"
CH02 = "ch02_loss"
MARKER = "987654"  # argument of the sleeping children the fork case leaves

# A wrong but well-formed ch02: three of its exercises return values that are
# off (right shapes), so it earns partial credit (softmax also feeds
# SoftmaxCrossEntropy.grad).
WRONG = """

def _off(f):
    def g(*args, **kwargs):
        return f(*args, **kwargs) * 1.5 + 0.1
    return g


MSE.loss = _off(MSE.loss)
BinaryCrossEntropy.loss = _off(BinaryCrossEntropy.loss)
softmax = _off(softmax)
"""

#: case -> (fragment, exercises it breaks; "*" = the whole chapter)
BREAKING = {
    "loop_at_import": ("loop_at_import.py", "*"),
    "exit_at_import": ("exit_at_import.py", "*"),
    "syntax_error": (None, "*"),
    # SoftmaxCrossEntropy.grad calls softmax
    "sleep_in_softmax": ("sleep_in_softmax.py", "softmax SoftmaxCrossEntropy_grad"),
    "os_exit_in_mse": ("os_exit_in_mse.py", "MSE_loss"),
    "allocate_in_bce": ("allocate_in_bce.py", "BinaryCrossEntropy_loss"),
    "flood_stdout": ("flood_stdout_in_mse_grad.py", "MSE_grad"),
    "spawn_children": ("spawn_children_in_ce.py", "SoftmaxCrossEntropy_loss"),
}
CHEATING = {
    "patch_numpy_pytest": "patch_numpy_and_pytest.py",
    "fake_results": "fake_results.py",
    "read_secrets": "read_secrets.py",
    "overwrite_tests": "overwrite_tests.py",
}


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.py"))}


def _survivors(marker: str = MARKER) -> list[int]:
    """PIDs of live processes whose argv holds ``marker`` (the fork case's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every case in one batch; returns what the tests need."""
    root = tmp_path_factory.mktemp("hostile")
    tests = root / "graded-tests" / "tests" / "exercises"
    tests.mkdir(parents=True)
    src = REPO / "tests" / "exercises"
    # the tests of chapters 1 and 2 and the helpers they import
    for name in ("conftest.py", "oracles.py", "expected.py", "engine_io.py",
                 f"test_{CH01}.py", f"test_{CH02}.py"):
        shutil.copy(src / name, tests / name)
    subs = root / "submissions"
    subs.mkdir()
    correct01 = (SOLUTIONS / f"{CH01}.py").read_text()
    correct02 = (SOLUTIONS / f"{CH02}.py").read_text()
    wrong02 = correct02 + WRONG

    def submit(sid: str, ch02: str, ch01: str = correct01) -> None:
        folder = subs / sid / "exercises"
        folder.mkdir(parents=True)
        (folder / f"{CH01}.py").write_text(ch01)
        (folder / f"{CH02}.py").write_text(ch02)

    def fragment(name: str) -> str:
        text = (HOSTILE / name).read_text()
        return text.replace("__REPO__", str(REPO)).replace("__TESTS__", str(tests))

    submit("reference", correct02)
    submit("wrong_baseline", wrong02)
    submit("ch01_syntax_error", correct02, ch01=correct01 + "\ndef broken(:\n")
    for sid, (frag, _) in BREAKING.items():
        extra = "\ndef broken(:\n    pass\n" if frag is None else fragment(frag)
        submit(sid, correct02 + "\n\n" + extra)
    for sid, frag in CHEATING.items():
        submit(sid, wrong02 + "\n\n" + fragment(frag))
    before_subs = {p.name: _digest(p / "exercises") for p in subs.iterdir()}
    before_tests = _digest(tests)

    mode = sandbox.probe()
    settings = batch.Settings(
        chapters=("ch01", "ch02"), timeout_per_test=3.0,
        timeout_per_submission=60.0,
        limits=sandbox.Limits(memory_mb=512, cpu_seconds=70, nproc=64),
        tests_dir=tests, mode=mode)
    out = root / "out"
    t0 = time.monotonic()
    outcomes = batch.run_batch(subs, out, settings, workers=2, progress=False)
    seconds = time.monotonic() - t0
    time.sleep(0.2)
    manifest = build_manifest(tests_dir=tests)
    return {"outcomes": {o.submission: o for o in outcomes}, "out": out,
            "subs": subs, "tests": tests, "mode": mode, "seconds": seconds,
            "manifest": manifest, "before_subs": before_subs,
            "before_tests": before_tests, "survivors": _survivors(),
            "sandboxed": sandbox.processes_with_token(f"batch-{os.getpid()}-",
                                                      prefix=True)}


def _points(manifest: dict, chapter: str, exercise: str = "*") -> float:
    ch = manifest["chapters"][chapter]
    return ch["points"] if exercise == "*" else ch["exercises"][exercise]["points"]


def test_reference_scores_full_marks(graded):
    o = graded["outcomes"]["reference"]
    m = graded["manifest"]
    assert o.problem == ""
    assert o.scores == {"ch01": _points(m, "ch01"), "ch02": _points(m, "ch02")}


def test_wrong_baseline_earns_partial_credit(graded):
    o = graded["outcomes"]["wrong_baseline"]
    m = graded["manifest"]
    assert o.scores["ch01"] == _points(m, "ch01")
    kept = sum(_points(m, "ch02", name) for name in (
        "MSE_grad", "BinaryCrossEntropy_grad", "SoftmaxCrossEntropy_loss"))
    assert o.scores["ch02"] == kept


@pytest.mark.parametrize("case", sorted(BREAKING))
def test_breaking_submission_costs_only_what_it_breaks(graded, case):
    o = graded["outcomes"][case]
    m = graded["manifest"]
    broken = BREAKING[case][1]
    assert o.problem == "", o.problem
    assert o.scores["ch01"] == _points(m, "ch01"), "a ch02 problem cost ch01 points"
    expected = _points(m, "ch02") - sum(_points(m, "ch02", b) for b in broken.split())
    assert o.scores["ch02"] == expected, (case, o.scores, o.chapter_problems)


def test_broken_ch01_does_not_cost_ch02(graded):
    o = graded["outcomes"]["ch01_syntax_error"]
    m = graded["manifest"]
    assert o.scores == {"ch01": 0, "ch02": _points(m, "ch02")}
    assert "SyntaxError" in o.chapter_problems["ch01"]


@pytest.mark.parametrize("case", sorted(CHEATING))
def test_cheating_submission_gains_nothing(graded, case):
    o = graded["outcomes"][case]
    base = graded["outcomes"]["wrong_baseline"]
    assert o.scores["ch01"] == _points(graded["manifest"], "ch01")
    assert o.scores["ch02"] == base.scores["ch02"], (case, o.chapter_problems)


def test_reasons_are_reported_per_chapter(graded):
    problems = {sid: o.chapter_problems.get("ch02", "")
                for sid, o in graded["outcomes"].items()}
    assert "timeout" in problems["loop_at_import"]
    assert "timeout" in problems["sleep_in_softmax"]
    assert "SyntaxError" in problems["syntax_error"]
    assert "sys.exit" in problems["exit_at_import"]
    assert "crash" in problems["os_exit_in_mse"]
    assert "MemoryError" in problems["allocate_in_bce"]
    summary = (graded["out"] / "summary.md").read_text()
    assert "loop_at_import" in summary and "timed out" in summary


def test_no_process_is_left_behind(graded):
    assert graded["survivors"] == [], "children of a submission are still alive"
    assert graded["sandboxed"] == [], "a sandboxed process is still alive"


def test_gradebook_comes_from_the_grader_not_the_submission(graded):
    out = graded["out"]
    with open(out / "grades.csv") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(graded["outcomes"])
    assert "fake" not in rows
    for sid, o in graded["outcomes"].items():
        results = json.loads((out / "students" / sid / "results.json").read_text())
        assert results["score"] == pytest.approx(o.total)
        assert float(rows[sid]["total"]) == pytest.approx(o.total)
        assert results["score"] < 1000
    feedback = (out / "students" / "fake_results" / "feedback.txt").read_text()
    assert "All tests passed." not in feedback


def test_submissions_and_tests_are_untouched(graded):
    subs = graded["subs"]
    after = {p.name: _digest(p / "exercises") for p in subs.iterdir()}
    assert after == graded["before_subs"]
    assert not list(subs.rglob("results.json")) and not list(subs.rglob("grades.csv"))
    if graded["mode"].degraded:
        pytest.skip(graded["mode"].banner())
    assert _digest(graded["tests"]) == graded["before_tests"]


def test_student_code_cannot_read_solutions_or_tests(graded, tmp_path):
    mode = graded["mode"]
    if mode.degraded:
        pytest.skip(mode.banner())
    folder = tmp_path / "student"
    folder.mkdir()
    text = (HOSTILE / "read_secrets.py").read_text()
    text = text.replace("__REPO__", str(REPO)).replace("__TESTS__",
                                                       str(graded["tests"]))
    (folder / f"{CH02}.py").write_text(text)
    os.chmod(tmp_path, 0o755)
    box = sandbox.Sandbox(folder, sandbox.Limits(memory_mb=512), mode)
    with StudentModule(folder, CH02, timeout=20,
                       worker_cmd_prefix=box.prefix()) as student:
        assert student.leak() == {}
    # the same code outside the sandbox does read them: the probe is real
    with StudentModule(folder, CH02, timeout=20) as unconfined:
        seen = unconfined.leak()
    assert any("solutions" in path for path in seen)
    box.reap()


def test_batch_is_fast_enough(graded):
    # 15 submissions, two workers, several time-outs of 3 s by design
    assert graded["seconds"] < 110, f"hostile batch took {graded['seconds']:.0f} s"


def test_degraded_mode_keeps_scores_and_restores_tests(graded, tmp_path):
    """Without bubblewrap: resource limits, reaping and the tests guard."""
    subs = tmp_path / "subs"
    for sid in ("overwrite_tests", "reference", "spawn_children", "wrong_baseline"):
        shutil.copytree(graded["subs"] / sid, subs / sid)
    before = _digest(graded["tests"])
    mode = sandbox.Mode("rlimits", True, "forced by the test")
    settings = batch.Settings(
        chapters=("ch01", "ch02"), timeout_per_test=3.0, timeout_per_submission=60.0,
        limits=sandbox.Limits(memory_mb=512, cpu_seconds=70, nproc=64),
        tests_dir=graded["tests"], mode=mode)
    outcomes = {o.submission: o for o in batch.run_batch(
        subs, tmp_path / "out", settings, workers=1, progress=False)}
    time.sleep(0.2)
    assert _survivors() == []
    for sid, o in outcomes.items():
        assert o.scores == graded["outcomes"][sid].scores, sid
    if os.geteuid() == 0:
        # as root the fallback's worker is another uid: it cannot even try
        assert "tests" not in outcomes["overwrite_tests"].chapter_problems
    else:  # the worker is this user: the tests guard puts the files back
        assert "restored" in outcomes["overwrite_tests"].chapter_problems["tests"]
    assert _digest(graded["tests"]) == before
    assert "SANDBOX DEGRADED" in (tmp_path / "out" / "summary.md").read_text()
