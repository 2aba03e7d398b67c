"""The hint ladder: a test's rule (second rung) shows from its second failure in a row.

The counts live outside the graded folder (``COURSE_HINTS_FILE``), per folder and
test; a pass starts the count again; ``off`` forgets everything.
"""

from __future__ import annotations

from pathlib import Path

from course_lib.grading import grade
from course_lib.grading.checking.ladder import Ladder

ROOT = Path(__file__).resolve().parents[2]
CH01 = (ROOT / "solutions" / "ch01_forward_pass.py").read_text()
NO_BIAS = CH01.replace('self.X @ self.params["W"] + self.params["b"]',
                       'self.X @ self.params["W"]')


def test_counts_per_folder_and_test(tmp_path):
    path = tmp_path / "hints.json"
    a = Ladder(path, folder="/a")
    assert a.failures_before("t1") == 0
    a.record("t1", failed=True)
    a.record("t2", failed=False)
    a.save()
    a2, b = Ladder(path, folder="/a"), Ladder(path, folder="/b")
    assert a2.failures_before("t1") == 1 and a2.failures_before("t2") == 0
    assert b.failures_before("t1") == 0          # another student's folder
    a2.record("t1", failed=False)                # a pass starts again
    a2.save()
    assert Ladder(path, folder="/a").failures_before("t1") == 0


def test_unreadable_state_and_off(tmp_path, monkeypatch):
    path = tmp_path / "hints.json"
    path.write_text("{not json")
    assert Ladder(path).failures_before("t") == 0
    monkeypatch.setenv("COURSE_HINTS_FILE", "off")
    off = Ladder(folder="/a")
    off.record("t", failed=True)
    off.save()                                   # nothing written, nothing read
    assert Ladder(folder="/a").failures_before("t") == 0


def test_second_failure_in_a_row_adds_the_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_HINTS_FILE", str(tmp_path / "hints.json"))
    target = tmp_path / "student"
    target.mkdir()
    module = target / "ch01_forward_pass.py"
    assert NO_BIAS != CH01

    def reasons():
        report = grade(target, chapters=["ch01.Dense_forward"])
        return {t.what: t.reason for t in report.tests if not t.passed}

    module.write_text(NO_BIAS)
    first, second = reasons(), reasons()
    what = "matches loops"
    assert what in first and "Hint:" not in first[what]
    assert "Hint: Z = X W + b" in second[what]
    assert "@" not in second[what]               # a formula, never the code
    module.write_text(CH01)
    assert reasons() == {}                       # fixed: the count starts again
    module.write_text(NO_BIAS)
    assert "Hint:" not in reasons()[what]
