"""Batch grading: safe copying of submissions, the gradebook and the summary.

The hostile cases live in ``test_hostile.py``; these tests check the plumbing
on small, well-behaved inputs (chapter 1 only, to stay fast).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.grading import CHAPTERS
from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import gradebook, names, sandbox, uploads
from course_lib.grading.checking.manifest import build
from course_lib.grading.core.chapters import parse_chapters

REPO = Path(__file__).resolve().parents[2]
CH01 = "ch01_forward_pass"
MODULES = {"ch01": CH01, "ch02": "ch02_loss"}
SOLUTION01 = (REPO / "solutions" / f"{CH01}.py").read_text()


@pytest.fixture(scope="module")
def points():
    """Points of chapter 1 (hidden tests included) and of each exercise."""
    ch = build()["chapters"]["ch01"]
    return {"ch01": ch["points"],
            **{name: ex["points"] for name, ex in ch["exercises"].items()}}


# ------------------------------------------------------------------ chapters
@pytest.mark.parametrize(("spec", "expected"), [
    ("1-3", ["ch01", "ch02", "ch03"]),
    ("1,4", ["ch01", "ch04"]),
    ("ch02", ["ch02"]),
    ("3,1-2", ["ch01", "ch02", "ch03"]),
    ("ch05-ch07", ["ch05", "ch06", "ch07"]),
    ("10-12", ["ch10", "ch11", "ch12"]),
    ("ch11", ["ch11"]),
    ("all", list(CHAPTERS)),
])
def test_parse_chapters(spec, expected):
    assert parse_chapters(spec) == expected


@pytest.mark.parametrize("spec", ["0", "99", "3-1", "x", "", "1-"])
def test_parse_chapters_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        parse_chapters(spec)


# ------------------------------------------------------------------ copying
def _zip(path: Path, entries: dict, symlinks: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_zip_entries_are_read_safely(tmp_path):
    src = _zip(tmp_path / "alice.zip", {
        "../../escaped/ch02_loss.py": "ESCAPE = 1\n",
        "/abs/ch02_loss.py": "ABSOLUTE = 1\n",
        "notes/ch01_forward_pass.py": "DEEPER = 1\n",
        "alice/exercises/ch01_forward_pass.py": SOLUTION01,
        "__MACOSX/exercises/ch01_forward_pass.py": "junk",
        "README.md": "hello",
    }, symlinks={"exercises/ch02_loss.py": "/etc/passwd"})
    dest = tmp_path / "dest"
    dest.mkdir()
    found, notes = batch.collect_submission(src, dest, MODULES)
    assert found == {"ch01": dest / f"{CH01}.py"}
    assert (dest / f"{CH01}.py").read_text() == SOLUTION01  # exercises/ wins
    assert sorted(p.name for p in dest.iterdir()) == [f"{CH01}.py"]
    assert not (tmp_path.parent / "escaped").exists()
    text = "\n".join(notes)
    assert "unsafe path '../../escaped/ch02_loss.py'" in text
    assert "unsafe path '/abs/ch02_loss.py'" in text
    assert "symlink 'exercises/ch02_loss.py'" in text


def test_zip_size_caps(tmp_path, monkeypatch):
    big = "x = 1\n" * 300_000  # 1.8 MB > the 1 MiB per-file cap
    dest = tmp_path / "d1"
    dest.mkdir()
    found, notes = batch.collect_submission(
        _zip(tmp_path / "big.zip", {f"{CH01}.py": big}), dest, MODULES)
    assert found == {} and "larger than" in notes[0]
    # what the exercise files of one upload may hold together
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    dest = tmp_path / "d2"
    dest.mkdir()
    found, notes = batch.collect_submission(
        _zip(tmp_path / "bomb.zip", {"a.txt": "0" * 5000, f"{CH01}.py": "x" * 800,
                                     "ch02_loss.py": "y" * 800}),
        dest, MODULES)
    assert found == {"ch01": dest / f"{CH01}.py"} and "pass 0 MiB" in notes[0]


def test_zip_inside_a_folder_is_read(tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    _zip(folder / "mine.zip", {f"exercises/{CH01}.py": SOLUTION01})
    dest = tmp_path / "d"
    dest.mkdir()
    found, notes = batch.collect_submission(folder, dest, MODULES)
    assert found == {"ch01": dest / f"{CH01}.py"}
    assert "read mine.zip" in notes


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bob.zip"
    bad.write_bytes(b"this is not a zip")
    dest = tmp_path / "d"
    dest.mkdir()
    found, notes = batch.collect_submission(bad, dest, MODULES)
    assert found == {} and "not a readable zip" in notes[0]


def test_folder_symlinks_are_not_followed(tmp_path):
    src = tmp_path / "carol"
    (src / "exercises").mkdir(parents=True)
    (src / "exercises" / f"{CH01}.py").symlink_to("/etc/passwd")
    (src / "link").symlink_to(REPO / "solutions", target_is_directory=True)
    dest = tmp_path / "d"
    dest.mkdir()
    found, notes = batch.collect_submission(src, dest, MODULES)
    assert found == {}
    assert any("symbolic link" in n for n in notes)
    assert list(dest.iterdir()) == []


def test_discover_ids(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob.zip").write_bytes(b"")
    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "we ird;name").mkdir()
    ids = [sid for sid, _, _ in names.discover(tmp_path)]
    assert ids == ["alice", "alice-2", "bob", "we_ird_name"]


# ------------------------------------------------------------------ summary
def test_summary_statistics_and_degraded_banner():
    outcomes = [
        batch.Outcome("a", scores={"ch01": 10.0}, max_scores={"ch01": 17.0},
                      seconds=3.0),
        batch.Outcome("b", scores={"ch01": 16.0}, max_scores={"ch01": 17.0},
                      seconds=9.0, chapter_problems={"ch01": "timeout: x"}),
        batch.Outcome("c", scores={"ch01": 0.0}, max_scores={"ch01": 17.0},
                      seconds=1.0, problem="no exercise files found"),
    ]
    degraded = sandbox.Mode("rlimits", True, "bwrap is not installed")
    settings = batch.Settings(chapters=("ch01",), mode=degraded)
    text = gradebook.summary(outcomes, batch._header(settings, 2), ("ch01",))
    # mean 26/3, population std sqrt(((10-26/3)^2+(16-26/3)^2+(26/3)^2)/3)
    assert "| ch01 | 17 | 8.67 | 6.60 | 0 | 10 | 16 | 1 |" in text
    assert "SANDBOX DEGRADED" in text and "bwrap is not installed" in text
    assert "`b`: 9.0 s" in text.split("Slowest")[1].splitlines()[2]
    assert "`c`: **no exercise files found**" in text
    assert "`b` ch01: timeout: x" in text


def test_csv_has_a_row_per_submission_and_fixed_header(tmp_path):
    outcomes = [batch.Outcome("x", scores={"ch01": 2.5, "ch03": 4.0}),
                batch.Outcome("y", scores={"ch01": 0.0, "ch03": 0.0},
                              problem="boom")]
    gradebook.write_csv(tmp_path / "g.csv", outcomes, ("ch01", "ch03"), CHAPTERS)
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert lines[0] == ",".join(["submission", *CHAPTERS, "total"])
    rest = [""] * (len(CHAPTERS) - 3)             # ch04 onwards: not graded
    assert lines[1:] == [",".join(["x", "2.50", "", "4", *rest, "6.50"]),
                         ",".join(["y", "0", "", "0", *rest, "0"])]


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def class_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    subs = root / "subs"
    (subs / "good" / "exercises").mkdir(parents=True)
    (subs / "good" / "exercises" / f"{CH01}.py").write_text(SOLUTION01)
    _zip(subs / "zipped.zip", {f"work/exercises/{CH01}.py": SOLUTION01})
    (subs / "empty").mkdir()
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 garbage")
    wrong = SOLUTION01.replace('self.X @ self.params["W"] + self.params["b"]',
                               'self.X @ self.params["W"]')
    assert wrong != SOLUTION01
    (subs / "wrong").mkdir()
    (subs / "wrong" / f"{CH01}.py").write_text(wrong)
    return root


@pytest.fixture(scope="module")
def graded_class(class_dir):
    out = class_dir / "out"
    args = ["grade-batch", str(class_dir / "subs"), "--out", str(out),
            "--chapters", "1", "--workers", "2", "--timeout-per-test", "5",
            "--memory-mb", "768", "--no-progress"]
    code = cli.main(args)
    return code, out


def test_grade_batch_command(graded_class, points):
    code, out = graded_class
    assert code == 0
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == ["corrupt", "empty", "good", "wrong",
                                               "zipped"]
    by_id = {r["submission"]: r for r in rows}
    assert by_id["good"]["ch01"] == by_id["zipped"]["ch01"] == str(points["ch01"])
    assert by_id["good"]["ch02"] == ""  # not graded in this batch
    assert by_id["empty"]["total"] == by_id["corrupt"]["total"] == "0"
    # forgetting the bias fails Dense_forward's and forward's tests
    assert 0 < float(by_id["wrong"]["ch01"]) < points["ch01"]
    for sid in by_id:
        results = json.loads((out / "students" / sid / "results.json").read_text())
        assert results["score"] == pytest.approx(float(by_id[sid]["total"]))
        assert (out / "students" / sid / "feedback.txt").read_text().strip()
    assert "not a readable zip" in (out / "students" / "corrupt" /
                                    "feedback.txt").read_text()
    summary = (out / "summary.md").read_text()
    assert "Submissions: **5** (3 graded, 2 scored 0" in summary
    assert "`empty`: **no exercise files found in the submission**" in summary


def test_degraded_mode_still_grades_and_says_so(class_dir, tmp_path, points):
    mode = sandbox.Mode("rlimits", True, "forced by the test")
    settings = batch.Settings(chapters=("ch01",), timeout_per_test=5,
                              limits=sandbox.Limits(memory_mb=768), mode=mode)
    subs = tmp_path / "subs"
    for sid in ("good",):
        (subs / sid).mkdir(parents=True)
        (subs / sid / f"{CH01}.py").write_text(SOLUTION01)
    (subs / "top-level-link").symlink_to(class_dir / "subs" / "good")
    outcomes = batch.run_batch(subs, tmp_path / "out", settings, progress=False)
    scores = {o.submission: o.scores["ch01"] for o in outcomes}
    full = points["ch01"]
    assert scores == {"good": full, "top-level-link": 0.0}
    assert "SANDBOX DEGRADED" in (tmp_path / "out" / "summary.md").read_text()


def test_submission_time_limit_keeps_partial_credit(tmp_path):
    slow = SOLUTION01 + ("\n\nimport time\n\n\nclass Dense(Dense):\n"
                         "    def forward(self, X):\n        time.sleep(60)\n")
    subs = tmp_path / "subs"
    (subs / "slow").mkdir(parents=True)
    (subs / "slow" / f"{CH01}.py").write_text(slow)
    # public tests only: Dense.forward's tests (10 s each) and forward's, which
    # uses Dense, are the last of the file: together they outlast the 30 s, and
    # the quick tests before them have time even on a loaded machine
    tests = tmp_path / "t" / "tests" / "exercises"
    tests.mkdir(parents=True)
    for name in ("conftest.py", "oracles.py", "expected.py", "engine_io.py",
                 f"test_{CH01}.py"):
        shutil.copy(REPO / "tests" / "exercises" / name, tests / name)
    ch = build(tests_dir=tests)["chapters"]["ch01"]
    lost = sum(ch["exercises"][name]["points"] for name in ("Dense_forward", "forward"))
    settings = batch.Settings(chapters=("ch01",), timeout_per_test=10,
                              timeout_per_submission=30, tests_dir=tests,
                              limits=sandbox.Limits(memory_mb=768))
    (o,) = batch.run_batch(subs, tmp_path / "out", settings, progress=False)
    assert o.problem == ""
    # every other exercise keeps its points; the slow tests time out or
    # are not reached before the run's limit
    assert o.scores["ch01"] == ch["points"] - lost
    assert "time limit" in o.chapter_problems["run"]


def test_feedback_is_readable_text(graded_class):
    text = (graded_class[1] / "students" / "wrong" / "feedback.txt").read_text()
    assert "Dense_forward" in text
    assert "Traceback" not in text
    io.StringIO(text).read()  # plain text, no control characters needed
    assert not any(ord(c) < 9 for c in text)
