"""The warm grader servers of ``grade-batch`` (``batch/servers.py``).

A submission's trusted grader is forked from a server per worker slot rather
than started as a new interpreter: it must grade exactly the same, a grader
stopped at its time limit must not take the server with it, and a server that
dies must cost no submission its grade.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import sandbox, servers
from course_lib.grading.checking.manifest import build

pytestmark = pytest.mark.skipif(not servers.forking(),
                                reason="graders are not forked here")

REPO = Path(__file__).resolve().parents[2]
CH01 = "ch01_forward_pass"
SOLUTION01 = (REPO / "solutions" / f"{CH01}.py").read_text()
SLOW = SOLUTION01 + ("\n\nimport time\n\n\nclass Dense(Dense):\n"
                     "    def forward(self, X):\n        time.sleep(60)\n")


@pytest.fixture(scope="module")
def settings():
    full = build()["chapters"]["ch01"]["points"]
    return batch.Settings(chapters=("ch01",), timeout_per_test=10,
                          timeout_per_submission=120, mode=sandbox.probe(),
                          limits=sandbox.Limits(memory_mb=768),
                          max_points={"ch01": full})


@pytest.fixture
def server():
    srv = servers.GraderServer(dict(os.environ))
    yield srv
    srv.close()


def _upload(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "subs" / name
    folder.mkdir(parents=True)
    (folder / f"{CH01}.py").write_text(text)
    return folder


def _grade(tmp_path, name, text, settings, server):
    src = _upload(tmp_path, name, text)
    return batch.grade_submission(name, src, tmp_path / "out" / name, settings,
                                  {"ch01": CH01}, 0, server)


def test_a_forked_grader_grades_like_a_new_interpreter(tmp_path, settings, server):
    broken = SOLUTION01.replace("return np.where(z >= 0", "return 2 * np.where(z >= 0")
    assert broken != SOLUTION01
    for name, text in (("honest", SOLUTION01), ("broken", broken)):
        forked = _grade(tmp_path / "f", name, text, settings, server)
        fresh = _grade(tmp_path / "n", name, text, settings, None)
        assert forked.problem == fresh.problem == ""
        assert forked.scores == fresh.scores
        assert forked.chapter_problems == fresh.chapter_problems
        forked_text, fresh_text = ((tmp_path / d / "out" / name / "feedback.txt")
                                   .read_text() for d in ("f", "n"))
        assert forked_text.splitlines()[-2:] == fresh_text.splitlines()[-2:]
    assert forked.scores["ch01"] < settings.max_points["ch01"]  # broken lost points


def test_a_grader_past_its_limit_is_killed_and_the_server_goes_on(tmp_path, server):
    err, env = tmp_path / "err", dict(os.environ)
    code, timed_out = server.run(["--not-an-option"], tmp_path, env, err, 60)
    assert (code, timed_out) == (3, False) and "usage" in err.read_text()
    # a real grader of a submission that sleeps, stopped after 3 s
    src = _upload(tmp_path, "slow", SLOW)
    settings = batch.Settings(chapters=("ch01",), timeout_per_test=30,
                              timeout_per_submission=600, mode=sandbox.probe())
    argv = batch._child_cmd(src, tmp_path, tmp_path / "r.json", ["ch01"], settings, 0,
                            "servers-test")
    code, timed_out = server.run(argv, tmp_path, env, err, 3)
    sandbox.reap("servers-test")
    assert timed_out and code == -signal.SIGKILL
    code, timed_out = server.run(["--not-an-option"], tmp_path, env, err, 60)
    assert (code, timed_out) == (3, False)


def test_a_dead_server_costs_no_grade(tmp_path, settings, server):
    first = _grade(tmp_path / "a", "one", SOLUTION01, settings, server)
    os.killpg(server.proc.pid, signal.SIGKILL)  # the server is gone
    server.proc.wait()
    again = _grade(tmp_path / "b", "two", SOLUTION01, settings, server)
    assert first.problem == again.problem == ""
    assert first.scores == again.scores == {"ch01": settings.max_points["ch01"]}
