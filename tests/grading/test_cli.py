"""The ``course`` command, ``grade()``/``check()`` and the scorecards, on a small
synthetic course (its own graded tests and a half-finished student file)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.cli import build_parser, main
from course_lib.grading import check
from course_lib.grading.checking.report import Report, TestResult
from course_lib.grading.checking.runner import GradingError, grade, parse_selectors

REPO = Path(__file__).resolve().parents[2]

GRADED = '''
import numpy as np
import pytest


@pytest.mark.points(1)
def test_relu__zeroes_negatives(ch01):
    out = ch01.relu(np.array([-1.0, 2.0]))
    assert np.array_equal(out, [0.0, 2.0]), f"relu should zero negatives, got {out}"


@pytest.mark.points(2)
def test_sigmoid__half_at_zero(ch01):
    got = ch01.sigmoid(0.0)
    assert got == pytest.approx(0.5), f"sigmoid(0) should be 0.5, got {got}"


@pytest.mark.points(3)
def test_dense_forward__shape(ch01):
    out = ch01.dense_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
    assert out.shape == (2, 4)
'''

HIDDEN = '''
import numpy as np
import pytest


@pytest.mark.hidden
@pytest.mark.points(5)
def test_relu__large_batch(ch01):
    x = np.linspace(-3, 3, 61)
    assert np.array_equal(ch01.relu(x), np.maximum(x, 0)), "relu is wrong on a batch"
'''

STUDENT = '''
import numpy as np


def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    return 0.0 * z


def dense_forward(X, W, b):
    raise NotImplementedError("Exercise 1.3: one matrix product plus the bias")
'''


FORGER = STUDENT + """

def _forge():
    import json, os
    # the results file of this very run, from the grading process's command line
    argv = open(f"/proc/{os.getppid()}/cmdline", "rb").read().split(b"\\0")
    for i, arg in enumerate(argv[:-1]):
        if arg != b"--grading-json":
            continue
        path = argv[i + 1].decode()
        lines = [json.loads(x) for x in open(path)]
        tests = next(x for x in lines if x.get("type") == "collected")["tests"]
        with open(path, "a") as f:
            for t in tests:
                fake = dict(t, type="result", outcome="passed", kind="passed",
                            reason="", score=100, duration=0.0, sig="0" * 64)
                f.write(json.dumps(fake) + "\\n")


_real_relu = relu


def relu(z):
    _forge()
    return _real_relu(z) - 1.0
"""


def _make_course(root: Path, student: str) -> Path:
    tests = root / "tests" / "exercises"
    (tests / "hidden").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "exercises" / "conftest.py", tests / "conftest.py")
    (tests / "test_ch01_forward_pass.py").write_text(GRADED)
    (tests / "hidden" / "test_ch01_hidden.py").write_text(HIDDEN)
    (root / "exercises").mkdir()
    (root / "exercises" / "ch01_forward_pass.py").write_text(student)
    (root / "book").mkdir()
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return _make_course(tmp_path_factory.mktemp("course"), STUDENT)


def test_result_lines_forged_by_student_code_are_ignored(tmp_path, monkeypatch):
    # this attack reads the results file's path from the pytest process's command
    # line, which only a new interpreter has; test_launch.py forges under a fork
    monkeypatch.setenv("COURSE_GRADER_START", "exec")
    root = _make_course(tmp_path, FORGER)
    report = grade(root / "exercises", tests_dir=root / "tests" / "exercises")
    assert (report.earned, report.possible) == (0, 6)  # relu now wrong, too
    assert any("not written by the grader" in e for e in report.errors)
    assert all(t.score <= t.points for t in report.tests)


@pytest.fixture(scope="module")
def visible_run(course, tmp_path_factory):
    """``course grade ch01 --json FILE`` run from the course folder."""
    out = tmp_path_factory.mktemp("out") / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", "ch01", "--json", str(out)],
        cwd=course, capture_output=True, text=True, timeout=120)
    return proc, out


def test_grade_prints_a_scorecard_with_partial_credit_and_reasons(visible_run):
    proc, _ = visible_run
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Total" in text and "1 / 6" in text
    assert "sigmoid(0) should be 0.5, got 0.0" in text
    assert "not attempted yet (Exercise 1.3: one matrix product" in text
    assert "Hidden tests: 5 more points" in text
    assert "All tests passed" not in text
    assert "Traceback" not in text and "assert " not in text


def test_grade_writes_gradescope_results(visible_run):
    _, out = visible_run
    data = json.loads(out.read_text())
    assert data["score"] == 1.0
    assert {"score", "tests", "execution_time", "stdout_visibility"} <= set(data)
    by_name = {t["name"]: t for t in data["tests"]}
    assert set(by_name) == {"ch01 relu: zeroes negatives", "ch01 sigmoid: half at zero",
                            "ch01 dense_forward: shape"}
    sig = by_name["ch01 sigmoid: half at zero"]
    assert (sig["score"], sig["max_score"], sig["visibility"]) == (0.0, 2.0, "visible")
    assert "should be 0.5" in sig["output"]


def test_hidden_tests_run_on_request_and_fail_under(course, capsys):
    code = main(["grade", "1", "--hidden", "--target", str(course / "exercises"),
                 "--tests", str(course / "tests" / "exercises"), "--fail-under", "100"])
    assert code == 1  # graded fine, but below 100 %
    text = capsys.readouterr().out
    assert "6 / 11" in text and "Hidden tests:" not in text


def test_check_from_a_notebook_folder_finds_the_course(course, monkeypatch):
    monkeypatch.chdir(course / "book")
    report = check("ch01.sigmoid")
    assert isinstance(report, Report)
    assert (report.earned, report.possible) == (0, 2)
    assert report.target == str(course / "exercises")
    html = report._repr_html_()
    assert "<table" in html and "sigmoid" in html and "0 / 2" in html


def test_a_graded_test_without_points_stops_grading(tmp_path, capsys):
    tests = tmp_path / "tests" / "exercises"
    tests.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "exercises" / "conftest.py", tests / "conftest.py")
    (tests / "test_ch01_forward_pass.py").write_text(
        "def test_relu__forgot_points(ch01):\n    assert ch01.relu(1) == 1\n")
    (tmp_path / "exercises").mkdir()
    code = main(["grade", "--tests", str(tests),
                 "--target", str(tmp_path / "exercises")])
    assert code == 2
    err = capsys.readouterr().err
    assert "test_relu__forgot_points" in err and "points" in err


@pytest.mark.parametrize("argv, words", [
    (["grade", "ch99"], "no chapter 'ch99'"),
    (["grade", "chapter-three"], "unknown chapter"),
    (["grade", "--target", "/no/such/folder"], "does not exist"),
])
def test_grade_exits_2_when_it_cannot_run(argv, words, capsys):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_unknown_exercise_lists_the_known_ones(course, capsys):
    code = main(["grade", "ch01.softmax", "--target", str(course / "exercises"),
                 "--tests", str(course / "tests" / "exercises")])
    assert code == 2
    err = capsys.readouterr().err
    assert "no graded tests for ch01.softmax" in err and "relu" in err


def test_every_command_and_option_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"grade", "exercises", "release", "grade-batch"} <= set(sub.choices)
    for name, p in sub.choices.items():
        with pytest.raises(SystemExit) as info:
            parser.parse_args([name, "--help"])
        assert info.value.code == 0
        for action in p._actions:
            if action.dest not in ("help", "rest"):
                assert action.help, f"course {name}: {action.dest} has no help"
    out = capsys.readouterr().out
    assert "--target" in out and "--check" in out


def test_python_dash_m_course_lib_works():
    proc = subprocess.run([sys.executable, "-m", "course_lib", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "grade" in proc.stdout


def test_selectors():
    assert parse_selectors(["ch03", "3", 5, "ch03.dense_backward", "07"]) == [
        "ch03", "ch05", "ch03.dense_backward", "ch07"]
    assert parse_selectors(None) == []
    for bad in ["ch99", "ch00", "x", "ch03.", True]:
        with pytest.raises(GradingError):
            parse_selectors([bad])


def _report() -> Report:
    tests = [
        TestResult("t::a", "ch02", "mse", "hand worked", 2, outcome="passed",
                   kind="passed", score=2),
        TestResult("t::b", "ch02", "mse", "batch mean", 1, outcome="failed",
                   kind="assert", reason="divide by N <script>alert(1)</script>"),
        TestResult("t::c", "ch02", "softmax", "rows sum to one", 1.5, hidden=True,
                   outcome="failed", kind="not_attempted",
                   reason="not attempted yet (Exercise 2.4: shift, exp, normalise)"),
    ]
    return Report(target="exercises", tests=tests, duration=1.234)


def test_text_scorecard_is_aligned_and_names_each_loss():
    text = _report().text(ascii_only=True)
    lines = text.splitlines()
    assert any(line.startswith("ch02") and line.rstrip().endswith("2 / 4.5")
               for line in lines)
    ex_lines = [line for line in lines if line[:2] == "  " and line[2:3] in "+x~"
                and line[3:4] == " "]
    assert len(ex_lines) == 2
    assert len({len(line) for line in ex_lines}) == 1  # scores end in one column
    assert "batch mean (1 pt): divide by N" in text
    assert "rows sum to one (1.5 pts, hidden)" in text
    assert "Total" in text and "(44%)" in text


def test_html_escapes_student_text_and_gradescope_marks_hidden_tests():
    report = _report()
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    gs = report.to_gradescope()
    assert gs["score"] == 2.0 and gs["execution_time"] == 1.23
    vis = [t["visibility"] for t in gs["tests"]]
    assert vis == ["visible", "visible", "after_published"]
    assert [t["max_score"] for t in gs["tests"]] == [2.0, 1.0, 1.5]
    again = Report.from_json(report.to_json())
    assert again.to_gradescope() == gs


def test_all_passed_is_never_claimed_while_hidden_points_remain():
    ok = TestResult("t::a", "ch01", "relu", "x", 1, outcome="passed", score=1)
    report = Report(tests=[ok], pending_hidden=[{"chapter": "ch01", "points": 4}])
    text = report.text(ascii_only=True)
    assert "All tests passed" not in text and "4 more points" in text
    assert "All tests passed" in Report(tests=[ok]).text(ascii_only=True)


def test_grade_api_rejects_a_missing_tests_folder(tmp_path):
    with pytest.raises(GradingError):
        grade(tmp_path, tests_dir=tmp_path / "nothing")


def test_classroom_steps_follow_the_markers(course):
    from course_lib.grading.assign.classroom import steps

    entries = {s.name: s for s in steps(tests_dir=course / "tests" / "exercises")}
    assert entries["ch01 relu"].points == 1  # the hidden relu test is not counted
    assert entries["ch01 dense_forward"].points == 3
    assert entries["ch01 sigmoid"].command == (
        "python -m course_lib grade ch01.sigmoid --fail-under 100")
    assert entries["ch01 sigmoid"].id == "ch01-sigmoid"

