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

            def relu(z):
                import time
                time.sleep(60)
            '''))
    t0 = time.monotonic()
    report = grade(tmp_path, chapters=["ch01.relu"], call_timeout=120, timeout=8)
    assert time.monotonic() - t0 < 40
    assert "grading stopped at its 8 s time limit" in report.errors
    assert report.earned == 0
