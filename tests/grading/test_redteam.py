"""Red team: submissions written to fool, crash, hang or escape the grader.

The promise is that a bad submission can never gain points it did not earn, never
crash or hang grading, never leave a process behind, and always gets a reason a
student can read. Each test below is one attack (or a family of them) and pins the
grader's answer to it. Most use a small hostile module behind a
:class:`StudentModule`; a few grade real chapters end to end, built from the
reference answers with one function replaced.

Attacks on ``course grade-batch`` and its sandbox live in ``test_hostile.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking import remote
from course_lib.grading.checking.plugin import classify
from course_lib.grading.checking.remote import (
    MissingFunction,
    RemoteObject,
    StudentCrash,
    StudentError,
    StudentModule,
    StudentTimeout,
    TimeBudgetExceeded,
)

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"

HOSTILE = '''
import atexit
import os
import signal
import sys
import threading
import time

import numpy as np


class Liar(np.ndarray):
    """Claims to equal anything, and refuses to be viewed or converted."""

    armed = False

    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    __ne__ = __eq__

    def __array_finalize__(self, obj):
        if Liar.armed:
            raise RuntimeError("do not look at me")

    def view(self, *args, **kwargs):
        raise RuntimeError("do not look at me")


def lying_subclass(n):
    out = np.full(n, 0.25).view(Liar)
    Liar.armed = True
    return out


def matrix():
    return np.matrix([[1.0, 2.0], [3.0, 4.0]])


def masked():
    return np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])


class Shifty:
    """Array-like whose values change every time they are read."""

    def __init__(self):
        self.reads = 0

    def __array__(self, dtype=None, copy=None):
        self.reads += 1
        return np.full(3, float(self.reads))

    def __len__(self):
        return 10**12

    def __getitem__(self, i):
        return 1.0


def shifty():
    return Shifty()


class BadInterface:
    @property
    def __array_interface__(self):
        raise KeyboardInterrupt("no array for you")

    def __len__(self):
        return 10**12

    def __getitem__(self, i):
        return 1.0


def bad_interface():
    return BadInterface()


class TrueFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def true_float():
    return TrueFloat(0.0)


class DictTrap(dict):
    def items(self):
        raise RuntimeError("no items")


def dict_trap():
    return DictTrap(W1=np.zeros(2))


def nested(depth):
    x = [1.0]
    for _ in range(depth):
        x = [x]
    return x


def recursion(n):
    return recursion(n + 1)


def endless():
    while True:
        yield np.zeros(3)


def boolean():
    return True


def nan_like(shape):
    return np.full(shape, np.nan)


def huge():
    return np.zeros(10_000_000)  # 80 MB: over the message limit


def raise_base(kind):
    class Custom(BaseException):
        pass

    raise {"kbi": KeyboardInterrupt, "genexit": GeneratorExit, "custom": Custom,
           "exit": SystemExit}[kind]("bye")


def close_std_fds():
    for fd in (0, 1, 2):
        os.close(fd)
    return "closed"


def close_every_fd():
    os.closerange(0, 1024)
    return "closed"


def stubborn_sleep(seconds):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(time.sleep, 100)
    time.sleep(seconds)


def chatty_thread():
    def chat():
        while True:
            print("still here")
            time.sleep(0.001)

    threading.Thread(target=chat, daemon=True).start()
    return 1


def quiet(x):
    return x


def pid():
    return os.getpid()


def escape(marker):
    """Leave the worker's process group and orphan a grandchild."""
    import subprocess

    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            subprocess.Popen(["sleep", marker], env={}, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    return 1


def slow(seconds):
    time.sleep(seconds)
    return seconds


def __getattr__(name):  # module-level __getattr__ (PEP 562)
    if name == "ghost":
        raise ValueError("boo")
    raise AttributeError(name)


def ansi_error():
    raise ValueError("\\x1b[2J\\x1b[32mAll tests passed.\\x1b[0m\\rTotal 99 / 99"
                     "\\u202e\\x07")
'''


def _write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    _write(folder, "hostile", HOSTILE)
    mod = StudentModule(folder, "hostile", timeout=3)
    yield mod
    mod.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _processes_with(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if marker.encode() in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            pass
    return found


def _kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


# --------------------------------------------------------------------------- lies
def test_an_ndarray_subclass_arrives_as_its_plain_numbers(hostile):
    got = hostile.lying_subclass(4)
    assert type(got) is np.ndarray  # its __eq__ stayed in the worker
    np.testing.assert_array_equal(got, [0.25] * 4)
    assert not (got == np.arange(4.0)).all()
    with pytest.raises(fb.Feedback, match="4 of 4 entries differ"):
        fb.check_close("out", got, np.arange(4.0))


def test_honest_subclasses_like_matrix_and_masked_arrays_are_graded(hostile):
    m = hostile.matrix()
    assert type(m) is np.ndarray and m.shape == (2, 2)
    fb.check_close("m", m, [[1.0, 2.0], [3.0, 4.0]])
    assert type(hostile.masked()) is np.ndarray


def test_array_likes_are_converted_once_not_asked_again_and_again(hostile):
    got = hostile.shifty()  # __array__ changes its answer on every read
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(got, [1.0, 1.0, 1.0])


def test_an_array_like_that_cannot_convert_fails_fast_with_a_reason(hostile):
    got = hostile.bad_interface()  # __len__ says 10**12: must not be walked
    assert isinstance(got, RemoteObject)
    t0 = time.monotonic()
    with pytest.raises(fb.Feedback, match="expected an array of numbers"):
        fb.as_array("out", got)
    assert time.monotonic() - t0 < 2


def test_subclasses_of_plain_types_lose_their_methods(hostile):
    x = hostile.true_float()
    assert type(x) is float and x == 0.0 and not x == 1.0
    trap = hostile.dict_trap()  # cannot be copied: stays a handle, never a dict
    assert isinstance(trap, RemoteObject)
    with pytest.raises(fb.Feedback, match="expected an array of numbers"):
        fb.as_array("params", trap)


@pytest.mark.parametrize("value, words", [
    ("boolean", "must have shape (3,)"),
    ("nan", "contains nan or inf"),
    ("inf", "contains nan or inf"),
])
def test_bool_nan_and_inf_never_pass_a_tolerance_check(hostile, value, words):
    got = {"boolean": lambda: hostile.boolean(),
           "nan": lambda: hostile.nan_like((3,)),
           "inf": lambda: hostile.nan_like((3,)) * 0 + np.inf}[value]()
    with pytest.raises(fb.Feedback) as info:
        fb.check_close("out", got, np.full(3, np.nan if value == "nan" else 1.0),
                       rtol=1e-3, atol=1e-3)
    assert words in str(info.value)


def test_deep_nesting_and_recursion_come_back_quickly(hostile):
    t0 = time.monotonic()
    deep = hostile.nested(100_000)
    assert isinstance(deep, list)  # cut into a handle at depth 64, no RecursionError
    with pytest.raises(StudentError) as info:
        hostile.recursion(0)
    assert info.value.is_a("RecursionError")
    assert hostile.quiet(3) == 3
    assert time.monotonic() - t0 < 3


def test_an_endless_generator_is_bounded_and_a_huge_result_refused(hostile,
                                                                   monkeypatch):
    gen = hostile.endless()
    assert isinstance(gen, RemoteObject)
    assert len(gen.take(5)) == 5
    with pytest.raises(fb.Feedback):
        fb.as_array("batches", gen)
    monkeypatch.setattr(remote, "MAX_ITER_ITEMS", 200)
    with pytest.raises(StudentError, match="yielded more than 200 items"):
        list(gen)  # a test that forgets to bound the loop still ends
    with pytest.raises(StudentError) as info:
        hostile.huge()
    assert info.value.type_name == "UnsupportedResult" and "MB" in info.value.reason


@pytest.mark.parametrize("kind, name", [
    ("kbi", "KeyboardInterrupt"), ("genexit", "GeneratorExit"),
    ("custom", "Custom"), ("exit", "SystemExit"),
])
def test_base_exceptions_are_reported_and_the_worker_survives(hostile, kind, name):
    before = hostile.pid()
    with pytest.raises(StudentError) as info:
        hostile.raise_base(kind)
    assert info.value.type_name == name
    assert hostile.pid() == before


def test_a_module_getattr_that_raises_is_the_students_error(hostile):
    with pytest.raises(StudentError) as info:
        hostile.ghost()
    assert info.value.is_a("ValueError") and "boo" in info.value.reason
    with pytest.raises(MissingFunction):
        hostile.nothing_here()


# --------------------------------------------------------------------------- breakage
@pytest.mark.parametrize("fn", ["close_std_fds", "close_every_fd"])
def test_closing_file_descriptors_is_a_crash_or_an_answer_never_a_hang(hostile, fn):
    t0 = time.monotonic()
    try:
        assert getattr(hostile, fn)() == "closed"
    except StudentCrash as exc:
        assert "crashed the grader worker" in exc.reason
    assert hostile.quiet(7) == 7  # a fresh worker if needed
    assert time.monotonic() - t0 < 5


def test_ignored_signals_and_atexit_do_not_delay_a_timeout_or_close(tmp_path):
    _write(tmp_path, "hostile", HOSTILE)
    mod = StudentModule(tmp_path, "hostile", timeout=3)
    try:
        first = mod.pid()
        t0 = time.monotonic()
        with pytest.raises(StudentTimeout, match="timed out after 0.5 s"):
            mod.with_timeout(0.5).stubborn_sleep(60)
        assert time.monotonic() - t0 < 3
        assert not _alive(first)
        second = mod.pid()
        with pytest.raises(StudentTimeout):
            mod.with_timeout(0.3).stubborn_sleep(60)
        mod.pid()
    finally:
        t0 = time.monotonic()
        mod.close()
        assert time.monotonic() - t0 < 3
    assert not _alive(second)


def test_a_thread_left_running_cannot_flood_later_calls(hostile):
    assert hostile.chatty_thread() == 1
    res = hostile.call("quiet", 5)
    assert res.value == 5
    assert len(res.stdout) < 25_000  # capped per call
    hostile.restart()


# --------------------------------------------------------------------------- time
def test_a_time_budget_bounds_the_total_time_of_a_slow_file(tmp_path):
    _write(tmp_path, "hostile", HOSTILE)
    mod = StudentModule(tmp_path, "hostile", timeout=2, budget=1.5)
    try:
        assert mod.budget == 1.5
        assert mod.slow(0.6) == 0.6  # each call is within its own limit ...
        t0 = time.monotonic()
        with pytest.raises(TimeBudgetExceeded) as during:
            mod.slow(1.5)  # ... but the file's budget runs out during this one
        assert time.monotonic() - t0 < 1.5
        with pytest.raises(TimeBudgetExceeded) as after:
            mod.quiet(1)  # later calls are not even made
        assert time.monotonic() - t0 < 1.6
        with pytest.raises(TimeBudgetExceeded):
            mod.with_timeout(1).quiet(1)  # nor through a view with a shorter limit
        # a call that a test explicitly allows to be long is bounded by its own limit
        assert mod.with_timeout(5).slow(0.3) == 0.3
        assert mod.with_timeout(5).call("quiet", 2).value == 2
    finally:
        mod.close()
    assert isinstance(during.value, StudentTimeout)
    assert "timed out while running slow()" in during.value.reason
    assert after.value.reason.startswith("not run: the calls to hostile.py used up")
    assert classify(after.value)[0] == "timeout"


def test_without_a_budget_calls_are_only_limited_one_by_one(hostile):
    assert hostile.budget is None
    assert hostile.slow(0.2) == 0.2 and hostile.time_spent > 0.2


# --------------------------------------------------------------------------- reasons
def test_reasons_are_stripped_of_terminal_control_sequences(hostile):
    with pytest.raises(StudentError) as info:
        hostile.ansi_error()
    kind, reason = classify(info.value)
    assert kind == "student_error"
    assert "All tests passed." in reason  # the text stays, readable
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", reason), repr(reason)


# --------------------------------------------------------------------------- grading
def _submission(tmp_path: Path, chapter: str, fragment: str) -> Path:
    """The reference answers with ``fragment`` appended to one chapter's file."""
    target = tmp_path / "submission"
    target.mkdir()
    for path in SOLUTIONS.glob("ch*.py"):
        shutil.copy(path, target / path.name)
    path = target / f"{CHAPTERS[chapter][0]}.py"
    path.write_text(path.read_text() + "\n" + textwrap.dedent(fragment))
    return target


CH01_ATTACKS = '''
import os as _os
import subprocess as _sp

import numpy as _np

_Leaky = LeakyReLU


class _Liar(_np.ndarray):
    def __eq__(self, other):
        return _np.ones(_np.shape(other), dtype=bool)


def sigmoid(z):  # wrong numbers in an array that claims to equal anything
    return (_np.asarray(z, dtype=float) * 0 + 0.3).view(_Liar)


class LeakyReLU(_Leaky):  # right answer, plus a process that tries to outlive grading
    def forward(self, Z):
        child = _os.fork()
        if child == 0:
            try:
                _os.setsid()
                _sp.Popen(["sleep", "{marker}"], env={{}}, start_new_session=True,
                          stdin=_sp.DEVNULL, stdout=_sp.DEVNULL, stderr=_sp.DEVNULL)
            finally:
                _os._exit(0)
        _os.waitpid(child, 0)
        return super().forward(Z)


class Dense(Dense):  # a message that tries to redraw the scorecard
    def forward(self, X):
        raise ValueError("\\x1b[2J\\x1b[1;1H\\x1b[32mAll tests passed.\\x1b[0m")


def forward(layers, X):  # kill the grading process itself
    _os.kill(_os.getppid(), 9)
'''


def test_hostile_chapter_earns_only_what_it_got_right_and_leaves_nothing(tmp_path):
    marker = f"{3000 + os.getpid() % 1000}.{time.monotonic_ns() % 997}"
    target = _submission(tmp_path, "ch01", CH01_ATTACKS.format(marker=marker))
    try:
        report = grade(target, chapters=["ch01"], call_timeout=3, timeout=120)
        time.sleep(0.2)
        left = _processes_with(marker)
    finally:
        _kill_all(_processes_with(marker))
    assert left == [], "a process started by the submission outlived grading"
    scores = report.chapters()["ch01"].exercises
    leaky = scores["LeakyReLU_forward"]
    assert leaky.earned == leaky.possible > 0
    for name in ("sigmoid", "Dense_forward", "forward"):
        assert scores[name].earned == 0, name
    assert report.errors == ["the test run ended early (the grading process was "
                             "killed by SIGKILL)"]
    mlp = [t.reason for t in scores["forward"].tests]
    assert "killed by SIGKILL while this test was running" in mlp[0]
    assert all("killed by SIGKILL before this test" in r for r in mlp[1:])
    text = report.text(ascii_only=True)
    assert "\x1b" not in text and "Traceback" not in text
    assert "All tests passed." in text  # only as the quoted message
    assert all(t.reason for t in report.tests if not t.passed)


PROBE = '''
import json as _json
import os as _os


def _try(fn):
    try:
        fn()
        return "allowed"
    except PermissionError:
        return "denied"
    except OSError as exc:
        return f"error {{exc.errno}}"


def _read_mem(pid):
    first = open(f"/proc/{{pid}}/maps").readline().split()[0].split("-")[0]
    with open(f"/proc/{{pid}}/mem", "rb", 0) as f:
        f.seek(int(first, 16))
        f.read(16)


def sigmoid(z):
    ppid = _os.getppid()
    with open(f"/proc/{{ppid}}/stat") as f:
        grandparent = int(f.read().rsplit(")", 1)[1].split()[1])
    found = {{"pytest": _try(lambda: _read_mem(ppid)),
              "runner": _try(lambda: _read_mem(grandparent))}}
    with open({out!r}, "w") as f:
        _json.dump(found, f)
    raise ValueError("probe")
'''

_DRIVER = '''
import sys
from course_lib.grading import grade
report = grade(sys.argv[1], chapters=["ch01.sigmoid"], call_timeout=5, timeout=60)
print(report.earned)
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")
def test_the_signing_key_is_out_of_reach_of_a_same_user_worker(tmp_path):
    """The HMAC key lives in the runner and in its pytest process; a worker of the
    same (unprivileged) user must not read their memory through /proc/PID/mem.

    Under root the grader is run without CAP_SYS_PTRACE (what a plain user has);
    with that capability nothing short of the batch sandbox (another uid, a PID
    namespace) can keep a process's memory private.
    """
    out = tmp_path / "probe.json"
    target = _submission(tmp_path, "ch01", PROBE.format(out=str(out)))
    cmd = [sys.executable, "-c", _DRIVER, str(target)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop CAP_SYS_PTRACE")
        cmd = ["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace",
               *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == "0.0"
    assert json.loads(out.read_text()) == {"pytest": "denied", "runner": "denied"}


SLOW_CH02 = '''
import time as _time

def _slowly(f):
    def g(*args, **kwargs):
        _time.sleep(0.4)
        return f(*args, **kwargs)
    return g


for _cls in (MSE, BinaryCrossEntropy, SoftmaxCrossEntropy):
    _cls.loss, _cls.grad = _slowly(_cls.loss), _slowly(_cls.grad)
softmax = _slowly(softmax)
'''


def test_a_slow_chapter_uses_its_own_budget_not_the_other_chapters(tmp_path):
    target = _submission(tmp_path, "ch02", SLOW_CH02)
    t0 = time.monotonic()
    report = grade(target, chapters=["ch02", "ch01.LeakyReLU_forward"], call_timeout=2,
                   chapter_budget=1.5, timeout=120)
    assert time.monotonic() - t0 < 20
    ch01, ch02 = report.chapters()["ch01"], report.chapters()["ch02"]
    assert ch01.earned == ch01.possible > 0  # correct and fast: untouched
    assert 0 < ch02.earned < ch02.possible  # correct but slow: what fit in 1.5 s
    over = [t for t in ch02.tests if not t.passed]
    assert over and all(t.kind == "timeout" and "allowed for the whole file" in t.reason
                        for t in over)
    assert not report.errors


def test_the_worker_exits_when_its_parent_dies_even_if_os_is_patched(tmp_path):
    _write(tmp_path, "patched", """
        import os
        import threading
        import time

        os._exit = lambda code: None       # the parent watcher must not rely on these
        time.sleep = lambda seconds: None

        def pid():
            return os.getpid()

        def hang():
            threading.Event().wait()
        """)
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(REPO)!r})
            from course_lib.grading.checking.remote import StudentModule
            mod = StudentModule({str(tmp_path)!r}, "patched", timeout=5)
            print(mod.pid(), flush=True)
            mod.with_timeout(60).hang()  # the parent dies during this call
            """)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        time.sleep(0.3)
        parent.kill()
        parent.wait()
        for _ in range(60):
            if not _alive(worker):
                break
            time.sleep(0.05)
        else:
            os.killpg(worker, signal.SIGKILL)
            pytest.fail("the worker outlived its parent")
    finally:
        parent.kill()


SILENCED = '''
import numpy as np
from numpy import errstate


def naive(z):  # the unstable sigmoid, its overflow silenced
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


@errstate(over="ignore")
def decorated(z):
    return np.exp(z)


def switched_off(z):
    np.seterr(all="ignore")
    return np.exp(z)


def strict(z):
    with np.errstate(all="raise"):
        return np.exp(z)


def nan_mean(x):  # numpy silences what it handles itself: still silent
    return np.nanmean(x)
'''


@pytest.mark.parametrize("fn", ["naive", "decorated", "switched_off"])
def test_a_silenced_overflow_is_still_seen(tmp_path, fn):
    (tmp_path / "fp.py").write_text(SILENCED)
    with StudentModule(tmp_path, "fp", timeout=20) as mod:
        res = mod.call(fn, np.array([-1e4]) if fn == "naive" else np.array([1e4]))
        assert res.warned("overflow"), res.warnings
        with pytest.raises(StudentError) as info:
            mod.strict(np.array([1e4]))
        assert info.value.is_a("FloatingPointError")
        quiet = mod.call("nan_mean", np.array([1.0, np.nan]))
        assert quiet.value == 1.0 and not quiet.warnings


def test_the_silenced_unstable_sigmoid_loses_the_overflow_points(tmp_path):
    text = (SOLUTIONS / "ch01_forward_pass.py").read_text()
    (tmp_path / "ch01_forward_pass.py").write_text(text + '''

def sigmoid(z):
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
''')
    report = grade(tmp_path, chapters=["ch01.sigmoid"], include_hidden=True)
    failed = {t.nodeid.rsplit("::", 1)[-1] for t in report.tests
              if t.outcome != "passed"}
    assert "test_sigmoid__large_inputs_without_warnings" in failed, failed
    assert report.earned < report.possible
