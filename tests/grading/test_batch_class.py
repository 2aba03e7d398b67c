"""A class graded end to end, as an instructor runs it: ``course grade-batch``.

Honest students, broken uploads and attackers share one batch. For every case:
the attacker gains nothing, the honest students beside it lose nothing, the
batch finishes with a row for every upload in ``grades.csv``, and nothing the
submissions started or wrote is left afterwards.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
