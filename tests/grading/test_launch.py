"""How the trusted pytest process starts: fork, fork server or a new interpreter.

All three give the same scorecard, keep the time limit (the whole session is
killed) and the signed result lines; ``fork`` and ``server`` only save the
start of an interpreter with numpy and pytest (issue 15).
"""

from __future__ import annotations

import shutil
import textwrap
import threading
import time
from pathlib import Path

import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.checking import launch

REPO = Path(__file__).resolve().parents[2]
MODES = ["fork", "server", "exec"]


@pytest.fixture(scope="module")
def reference():
    return grade(REPO / "solutions", chapters=["ch02"], include_hidden=True)


@pytest.mark.parametrize("how", MODES)
def test_every_start_gives_the_same_scorecard(monkeypatch, reference, how):
    monkeypatch.setenv("COURSE_GRADER_START", how)
    assert launch.mode() == how
    report = grade(REPO / "solutions", chapters=["ch02"], include_hidden=True)
    assert report.text() == reference.text()
    assert report.earned == report.possible > 0 and report.errors == []


def test_the_default_is_fork_alone_and_the_server_beside_threads(monkeypatch):
    monkeypatch.delenv("COURSE_GRADER_START", raising=False)
    assert launch.mode() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert launch.mode() == "server"
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("how", MODES)
def test_the_time_limit_stops_every_kind_of_run(tmp_path, monkeypatch, how):
    monkeypatch.setenv("COURSE_GRADER_START", how)
    name = f"{CHAPTERS['ch01'][0]}.py"
    shutil.copy(REPO / "solutions" / name, tmp_path / name)
    with (tmp_path / name).open("a") as f:
        f.write(textwrap.dedent('''

            def forward(layers, X):
                import time
                time.sleep(60)
            '''))
    t0 = time.monotonic()
    report = grade(tmp_path, chapters=["ch01.forward"], call_timeout=120, timeout=8)
    assert time.monotonic() - t0 < 40
    assert "grading stopped at its 8 s time limit" in report.errors
    assert report.earned == 0


FORGER = """
import glob
import json


def _forge(marker):
    # no command line to read under a fork: look for this run's results file
    # among the grader's temporary folders (only the one naming our own tests)
    for path in glob.glob("/tmp/course-grade-*/results.jsonl"):
        try:
            lines = [json.loads(x) for x in open(path)]
        except (OSError, ValueError):
            continue
        collected = next((x for x in lines if x.get("type") == "collected"), None)
        if collected is None or not any(marker in t["nodeid"]
                                        for t in collected["tests"]):
            continue
        with open(path, "a") as f:
            for t in collected["tests"]:
                f.write(json.dumps(dict(t, type="result", outcome="passed",
                                        kind="passed", reason="", score=100,
                                        duration=0.0, sig="0" * 64)) + "\\n")
"""


@pytest.mark.parametrize("how", ["fork", "server"])
def test_lines_forged_under_a_fork_are_ignored_too(tmp_path, monkeypatch, how):
    monkeypatch.setenv("COURSE_GRADER_START", how)
    marker = f"forge_{how}"
    tests = tmp_path / marker / "tests" / "exercises"
    tests.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "exercises" / "conftest.py", tests)
    (tests / "test_ch01_forward_pass.py").write_text(textwrap.dedent(f'''
        import pytest


        @pytest.mark.points(3)
        def test_relu__{marker}(ch01):
            ch01.relu({marker!r})
            assert False, "never passes"
        '''))
    target = tmp_path / marker / "exercises"
    target.mkdir()
    (target / "ch01_forward_pass.py").write_text(
        FORGER + "\n\ndef relu(marker):\n    _forge(marker)\n")
    report = grade(target, tests_dir=tests, chapters=["ch01"])
    assert report.earned == 0 and report.possible == 3
    assert any("not written by the grader" in e for e in report.errors)
