"""The trusted side reads back only what it can afford (issue 16).

Student code runs inside the worker, so it can reach the worker's reply pipe and
write any message there. These tests play that attacker: each hostile function
finds the pipe, writes a crafted reply and then stalls. The promises:

- the grader refuses the message within the call's time limit, with a reason
  that names the bound (values, bytes, depth, time) and costs only that call;
- the trusted process's memory stays bounded (measured in a fresh process);
- the attacker gains no points, the rest of the chapter, later chapters and
  other students are graded as if nothing happened.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.checking import wire
from course_lib.grading.checking.plugin import classify
from course_lib.grading.checking.remote import (
    ResultRefused,
    StudentCrash,
    StudentModule,
)
from course_lib.grading.checking.wire import DecodeLimitError, DecodeLimits

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"

#: a student module whose functions forge the worker's reply
FORGER = '''
import json as _json
import os as _os
import struct as _struct
import sys as _sys
import time as _time


def _pipe():
    """The worker's reply pipe, found the way an attacker would: the worker
    object is ``self`` in a frame above the student's function."""
    frame = _sys._getframe()
    while frame is not None:
        me = frame.f_locals.get("self")
        if me is not None and hasattr(me, "fout"):
            return me.fout
        frame = frame.f_back
    raise RuntimeError("no pipe")


def _forge(header, bufs=(), nbufs=None, raw_header=None):
    head = raw_header if raw_header is not None else _json.dumps(header).encode()
    n = len(bufs) if nbufs is None else nbufs
    data = _struct.pack("<II", len(head), n)
    data += b"".join(_struct.pack("<Q", len(b)) for b in bufs)
    data += head + b"".join(bufs)
    view, fd = memoryview(data), _pipe()
    while view:
        view = view[_os.write(fd, view):]
    _time.sleep(60)  # never answer for real


def repeated_bytes(refs, mb):
    """One buffer of ``mb`` MB, named ``refs`` times as bytes (a copy each)."""
    _forge({"ok": True, "value": {"l": [{"b": 0}] * refs}}, [b"x" * (mb << 20)])


def repeated_array(refs, mb):
    """One array buffer named ``refs`` times."""
    n = mb << 20
    node = {"a": 0, "dt": "|u1", "sh": [n]}
    _forge({"ok": True, "value": {"l": [node] * refs}}, [bytes(n)])


def deep(levels):
    node = 0
    for _ in range(levels):
        node = {"l": [node]}
    _forge({"ok": True, "value": node})


def many(count):
    """A flat list of ``count`` zeros, written as raw JSON."""
    body = b"[" + b",".join([b"0"] * count) + b"]"
    _forge(None, raw_header=b'{"ok":true,"value":{"l":' + body + b'}}')


def many_buffers(count):
    _forge({"ok": True, "value": None}, [b""] * count)


def colliding_keys(count):
    """A dict whose integer keys all hash alike: each insertion compares with
    every key before it, so building it takes quadratic time."""
    step = 2**61 - 1  # hash(k * step) == 0 for every k
    pairs = [[{"I": hex(k * step)[2:]}, 0] for k in range(1, count)]
    _forge({"ok": True, "value": {"d": pairs}})


def wrong_types():
    _forge({"ok": False, "kind": "error", "type": "X", "message": "m",
            "mro": 5})


def honest(x):
    return x + 1
'''


@pytest.fixture
def forger(tmp_path):
    (tmp_path / "forger.py").write_text(FORGER)
    mod = StudentModule(tmp_path, "forger", timeout=3)
    yield mod
    mod.close()


# --------------------------------------------------------------------------- units
def _refuse(node):
    raise AssertionError("no handle expected")


def test_a_buffer_named_many_times_is_counted_every_time():
    buf = bytearray(1000)
    node = {"l": [{"b": 0}] * 10}
    small = DecodeLimits(max_bytes=10_000)
    assert len(wire.decode(node, [buf], _refuse, _refuse, limits=small)) == 10
    with pytest.raises(DecodeLimitError, match="counting each time"):
        wire.decode({"l": [{"b": 0}] * 11}, [buf], _refuse, _refuse, limits=small)
    arr = {"a": 0, "dt": "|u1", "sh": [1000]}
    with pytest.raises(DecodeLimitError, match="counting each time"):
        wire.decode({"l": [arr] * 11}, [buf], _refuse, _refuse, limits=small)


def test_one_array_over_its_own_bound_is_refused():
    limits = DecodeLimits(max_array_bytes=999)
    with pytest.raises(DecodeLimitError, match="one array"):
        wire.decode({"a": 0, "dt": "|u1", "sh": [1000]}, [bytearray(1000)],
                    _refuse, _refuse, limits=limits)


def test_values_are_counted_across_the_fields_of_one_reply():
    limits = DecodeLimits(max_elements=10)
    reply = {"ok": True, "value": {"l": [0] * 4}, "args": {"t": [0] * 4},
             "kwargs": {"d": []}}
    with pytest.raises(DecodeLimitError, match="more than 10 values"):
        wire.decode_fields(reply, ("value", "args", "kwargs"), [], _refuse, _refuse,
                           limits=limits)


def test_nesting_and_huge_integers_are_bounded():
    node = 0
    for _ in range(100):
        node = {"l": [node]}
    with pytest.raises(DecodeLimitError, match="nested too deeply"):
        wire.decode(node, [], _refuse, _refuse)
    with pytest.raises(DecodeLimitError, match="too many digits"):
        wire.decode({"I": "f" * 5000}, [], _refuse, _refuse)
    assert wire.decode({"I": "f" * 20}, [], _refuse, _refuse) == 16**20 - 1


def test_a_slow_to_build_dict_stops_at_the_deadline():
    step = 2**61 - 1
    pairs = [[{"I": hex(k * step)[2:]}, 0] for k in range(1, 45_000)]
    t0 = time.monotonic()
    with pytest.raises(DecodeLimitError, match="longer than the call's time limit"):
        wire.decode({"d": pairs}, [], _refuse, _refuse,
                    deadline=time.monotonic() + 0.5)
    assert time.monotonic() - t0 < 3


def test_honest_values_decode_as_before():
    bufs: list = []
    value = {"W": np.arange(6.0).reshape(2, 3), "names": ["a", "b"], 3: (1, 2.5),
             "big": 2**70, "s": {1, 2}}
    node = wire.encode(value, bufs, _refuse)
    back = wire.decode(node, bufs, _refuse, _refuse, deadline=time.monotonic() + 5)
    np.testing.assert_array_equal(back["W"], value["W"])
    assert {k: v for k, v in back.items() if k != "W"} == {
        k: v for k, v in value.items() if k != "W"}


# --------------------------------------------------------------------------- forged
@pytest.mark.parametrize("attack, args, words", [
    ("repeated_bytes", (40, 8), "counting each time"),
    ("repeated_array", (40, 8), "counting each time"),
    ("deep", (200,), "nested too deeply"),
    ("many", (600_000,), "more than 100,000 values"),
    ("many_buffers", (500_000,), "more than 100,000 arrays"),
    ("colliding_keys", (45_000,), "longer than the call's time limit"),
])
def test_a_forged_reply_is_refused_in_time_and_costs_only_that_call(
        forger, attack, args, words):
    t0 = time.monotonic()
    with pytest.raises(ResultRefused) as info:
        getattr(forger, attack)(*args)
    assert time.monotonic() - t0 < forger.timeout + 3
    assert words in info.value.reason and "refused what" in info.value.reason
    kind, reason = classify(info.value)
    assert kind == "crash" and words in reason
    assert forger.honest(41) == 42  # a fresh worker answers the next call


def test_a_reply_with_fields_of_the_wrong_type_is_a_crash_not_a_grader_error(forger):
    with pytest.raises(StudentCrash, match="wrong type"):
        forger.wrong_types()
    assert forger.honest(1) == 2


_MEASURE = """
import resource, sys
from course_lib.grading.checking.remote import StudentModule, StudentProblem
mod = StudentModule(sys.argv[1], "forger", timeout=20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    getattr(mod, sys.argv[2])(int(sys.argv[3]), int(sys.argv[4]))
except StudentProblem as exc:
    print(type(exc).__name__)
mod.close()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


@pytest.mark.parametrize("attack", ["repeated_bytes", "repeated_array"])
def test_the_trusted_process_memory_stays_bounded(tmp_path, attack):
    """40 references to a 24 MB buffer: about 1 GB if each were materialised."""
    (tmp_path / "forger.py").write_text(FORGER)
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(tmp_path), attack,
                          "40", "24"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    name, grew_mb = out.stdout.split()
    assert name == "ResultRefused"
    # the message itself (24 MB, read once) and its copy, not 40 of them
    assert int(grew_mb) < 200, f"the grader grew by {grew_mb} MB"


# --------------------------------------------------------------------------- grading
ATTACK_CH01 = '''
import json as _json
import os as _os
import struct as _struct
import sys as _sys
import time as _time


def _pipe():
    frame = _sys._getframe()
    while frame is not None:
        me = frame.f_locals.get("self")
        if me is not None and hasattr(me, "fout"):
            return me.fout
        frame = frame.f_back


def forward(layers, X):
    step = 2**61 - 1
    pairs = [[{"I": hex(k * step)[2:]}, 0] for k in range(1, 45_000)]
    head = _json.dumps({"ok": True, "value": {"d": pairs}}).encode()
    data = _struct.pack("<II", len(head), 0) + head
    view, fd = memoryview(data), _pipe()
    while view:
        view = view[_os.write(fd, view):]
    _time.sleep(60)
'''


def _submission(root: Path, fragment: str | None) -> Path:
    folder = root / "submission"
    folder.mkdir(parents=True)
    for chapter in ("ch01", "ch02"):
        name = f"{CHAPTERS[chapter][0]}.py"
        shutil.copy(SOLUTIONS / name, folder / name)
    if fragment:
        path = folder / f"{CHAPTERS['ch01'][0]}.py"
        path.write_text(path.read_text() + "\n" + textwrap.dedent(fragment))
    return folder


def test_a_slow_message_costs_its_test_only_and_spares_later_chapters(tmp_path):
    hostile = _submission(tmp_path / "a", ATTACK_CH01)
    honest = _submission(tmp_path / "b", None)
    t0 = time.monotonic()
    report = grade(hostile, chapters=["ch01", "ch02"], call_timeout=2, timeout=300)
    took = time.monotonic() - t0
    fair = grade(honest, chapters=["ch01", "ch02"], call_timeout=2, timeout=300)
    chapters = report.chapters()
    attacked = chapters["ch01"].exercises["forward"]
    assert attacked.earned == 0 < attacked.possible
    assert all("refused what forward() sent back" in t.reason
               for t in attacked.tests)
    # the rest of chapter 1 and all of chapter 2 score as the honest copy does
    honest_scores = fair.chapters()
    for name, ex in chapters["ch01"].exercises.items():
        if name != "forward":
            assert ex.earned == honest_scores["ch01"].exercises[name].earned, name
    assert chapters["ch02"].earned == honest_scores["ch02"].earned == \
        chapters["ch02"].possible
    assert fair.earned == fair.possible
    assert report.errors == []
    # each refused call is stopped at its 2 s limit, not after minutes of decoding
    assert took < 2 * len(attacked.tests) + 120
    results = json.loads(json.dumps(report.to_gradescope()))
    assert results["score"] == report.earned < fair.earned
