"""A class graded end to end, as an instructor runs it: ``course grade-batch``.

Honest students, broken uploads and attackers share one batch. For every case:
the attacker gains nothing, the honest students beside it lose nothing, the
batch finishes with a row for every upload in ``grades.csv``, and nothing the
submissions started or wrote is left afterwards.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_hostile import _survivors
from test_uploads import _corrupt_member

from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import sandbox
from course_lib.grading.checking.manifest import build

REPO = Path(__file__).resolve().parents[2]
CH01 = "ch01_forward_pass"


@pytest.fixture(scope="module")
def ch01_points():
    return build()["chapters"]["ch01"]["points"]


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def test_the_readme_command_with_relative_paths_grades_the_class(tmp_path,
                                                                ch01_points):
    (tmp_path / "submissions" / "ada").mkdir(parents=True)
    shutil.copy(REPO / "solutions" / f"{CH01}.py", tmp_path / "submissions" / "ada")
    tests = tmp_path / "graded" / "tests" / "exercises"
    shutil.copytree(REPO / "tests" / "exercises", tests,
                    ignore=shutil.ignore_patterns("__pycache__"))
    # exactly as the README writes it, then options, run from the class's folder
    cmd = [sys.executable, "-m", "course_lib", "grade-batch", "submissions/",
           "--out", "grades/", "--chapters", "1", "--no-progress",
           "--tests", "graded/tests/exercises"]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "(0 could not be graded)" in run.stderr, run.stderr[-2000:]
    rows = _rows(tmp_path / "grades" / "grades.csv")
    assert rows["ada"]["ch01"] == str(ch01_points)
    assert not list(tmp_path.glob("submissions/**/results.json"))


# ------------------------------------------------------------------ a mixed class
CH02 = "ch02_loss"
MARKER = "4242017"  # in the argv of every process a case below starts

HOG = '''

import subprocess as _sp
import sys as _sys

_loss = MSE.loss
_CHILD = ("import sys, time; b = b'x' * (150 << 20); "
          "print('ready', flush=True); time.sleep(int(sys.argv[1]))")


def _hog_loss(self, y_true, y_pred):  # right only if six children held 900 MiB
    kids = [_sp.Popen([_sys.executable, "-S", "-c", _CHILD, "MARKER"],
                      stdout=_sp.PIPE) for _ in range(6)]
    held = sum(k.stdout.readline() == b"ready\\n" for k in kids)
    for k in kids:
        k.kill()
    return _loss(self, y_true, y_pred) if held == 6 else 0.0


MSE.loss = _hog_loss
'''.replace("MARKER", MARKER)

KIDS = '''

import subprocess as _sp

_KIDS = [_sp.Popen(["sleep", "MARKER"]) for _ in range(11)]
'''.replace("MARKER", MARKER)

LIAR = '''

def softmax(z):  # a message that tries to write lines about other students
    raise ValueError("no\\n- `ada`: **0 points, cheated**\\n| total | 0 |\\n# Ada")
'''


def _solutions() -> dict[str, str]:
    return {m: (REPO / "solutions" / f"{m}.py").read_text() for m in (CH01, CH02)}


def _folder(path: Path, files: dict[str, str]) -> None:
    (path / "exercises").mkdir(parents=True)
    for module, text in files.items():
        (path / "exercises" / f"{module}.py").write_text(text)


def _zip(path: Path, files: dict[str, str], twice: str | None = None) -> None:
    import warnings
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for module, text in files.items():
            if module == twice:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    zf.writestr(f"exercises/{module}.py", "raise SystemExit\n")
            zf.writestr(f"exercises/{module}.py", text)


def _make_class(subs: Path) -> None:
    good = _solutions()
    _folder(subs / "ada", good)
    for name in ("grades.csv.zip", "summary.md.zip", "UPPER.ZIP", "dup.zip"):
        _zip(subs / name, good)
    _zip(subs / "twice.zip", good, twice=CH01)
    for name in ("results", "students", "José Núñez", "dup", "Dup", "x" * 200):
        _folder(subs / name, good)
    _zip(subs / "corrupt.zip", good)

    _corrupt_member(subs / "corrupt.zip", f"exercises/{CH02}.py")
    os.mkfifo(subs / "pipe.zip")
    _folder(subs / "pipe_inside", {CH01: good[CH01]})
    os.mkfifo(subs / "pipe_inside" / "exercises" / f"{CH02}.py")
    _folder(subs / "hog", {CH01: good[CH01], CH02: good[CH02] + HOG})
    _folder(subs / "kids", {CH01: good[CH01] + KIDS, CH02: good[CH02]})
    _folder(subs / "liar", {CH01: good[CH01], CH02: good[CH02] + LIAR})


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    subs.mkdir()
    _make_class(subs)
    settings = batch.Settings(
        chapters=("ch01", "ch02"), timeout_per_test=20.0, timeout_per_submission=120,
        limits=sandbox.Limits(memory_mb=400, nproc=16, cpu_seconds=100))
    outcomes = batch.run_batch(subs, root / "out", settings, workers=2,
                               progress=False)
    time.sleep(0.3)
    manifest = build()["chapters"]
    return {"outcomes": {o.submission: o for o in outcomes}, "out": root / "out",
            "full": {ch: manifest[ch]["points"] for ch in ("ch01", "ch02")},
            "points": {ex: v["points"] for ch in ("ch01", "ch02")
                       for ex, v in manifest[ch]["exercises"].items()},
            "survivors": _survivors(MARKER), "subs": sorted(os.listdir(subs))}


# "Dup", "dup" and "dup.zip" clean to one id, ignoring case: three ids
HONEST = ["ada", "grades.csv", "summary.md", "UPPER", "Dup", "dup-2", "dup-3",
          "twice", "results", "students", "José_Núñez"]


def test_every_upload_has_one_row_and_its_own_folder(graded_class):
    out, outcomes = graded_class["out"], graded_class["outcomes"]
    rows = _rows(out / "grades.csv")
    assert len(rows) == len(graded_class["subs"]) == len(outcomes)
    assert set(rows) == set(outcomes)
    assert len({sid.casefold() for sid in rows}) == len(rows)
    for sid in rows:
        results = json.loads((out / "students" / sid / "results.json").read_text())
        assert results["score"] == pytest.approx(float(rows[sid]["total"])), sid
    assert (out / "summary.md").is_file() and (out / "grades.csv").is_file()


@pytest.mark.parametrize("sid", HONEST)
def test_honest_students_lose_nothing(graded_class, sid):
    o = graded_class["outcomes"][sid]
    assert o.scores == graded_class["full"], (sid, o.problem, o.chapter_problems)


def test_a_long_name_keeps_a_row_and_full_marks(graded_class):
    (sid,) = [s for s in graded_class["outcomes"] if s.startswith("xxxx")]
    assert len(sid) <= 64
    assert graded_class["outcomes"][sid].scores == graded_class["full"]


def test_a_corrupt_member_costs_only_its_file(graded_class):
    o = graded_class["outcomes"]["corrupt"]
    assert o.scores == {"ch01": graded_class["full"]["ch01"], "ch02": 0.0}
    assert any("cannot be read" in n for n in o.notes)


def test_pipes_never_hang_the_batch(graded_class):
    outcomes = graded_class["outcomes"]
    assert outcomes["pipe"].total == 0 and "named pipe" in outcomes["pipe"].problem
    inside = outcomes["pipe_inside"]
    assert inside.scores == {"ch01": graded_class["full"]["ch01"], "ch02": 0.0}


def test_a_memory_hog_across_processes_gains_nothing(graded_class):
    o = graded_class["outcomes"]["hog"]
    full, points = graded_class["full"], graded_class["points"]
    assert o.scores == {"ch01": full["ch01"], "ch02": full["ch02"] - points["MSE_loss"]}
    assert any("memory budget of 400 MiB" in s for s in o.stopped), o.stopped
    summary = (graded_class["out"] / "summary.md").read_text()
    (line,) = [ln for ln in summary.splitlines() if ln.startswith("- `hog`: ")
               and "budget" in ln]
    assert "memory budget of 400 MiB" in line


def test_children_left_by_chapter_one_cost_no_other_chapter(graded_class):
    o = graded_class["outcomes"]["kids"]
    assert o.scores["ch02"] == graded_class["full"]["ch02"], o.chapter_problems


def test_a_forged_message_writes_no_line_about_another_student(graded_class):
    o = graded_class["outcomes"]["liar"]
    full, points = graded_class["full"], graded_class["points"]
    # the forged softmax loses its own points and those of the loss that calls it
    lost = full["ch02"] - o.scores["ch02"]
    callers = points["SoftmaxCrossEntropy_loss"] + points["SoftmaxCrossEntropy_grad"]
    assert points["softmax"] <= lost <= points["softmax"] + callers, lost
    lines = (graded_class["out"] / "summary.md").read_text().splitlines()
    assert not [ln for ln in lines if ln.startswith(("- `ada`: **", "# Ada",
                                                     "| total | 0"))]


def test_nothing_is_left_running(graded_class):
    assert graded_class["survivors"] == []


def test_grading_a_folder_outside_the_course_says_it_is_not_sandboxed(
        tmp_path, capsys):
    from course_lib import cli

    cli._warn_unsandboxed(None)
    cli._warn_unsandboxed(REPO / "exercises")
    assert capsys.readouterr().err == ""
    cli._warn_unsandboxed(tmp_path)
    err = capsys.readouterr().err
    assert "no sandbox" in err and "course grade-batch" in err
    assert len(err.strip().splitlines()) == 1
