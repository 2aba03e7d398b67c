"""The student-code proxy: data crosses faithfully, student failures come back as
exceptions, and nothing the student does in the worker changes the parent's verdict.

Every test uses a small synthetic student module written to a temporary folder.
"""

from __future__ import annotations

import math
import os
import signal
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading.checking.remote import (
    CallResult,
    Fn,
    ImportFailed,
    MissingFunction,
    NotAttempted,
    RemoteObject,
    Rng,
    StudentCrash,
    StudentError,
    StudentModule,
    StudentProblem,
    StudentTimeout,
    WorkerStartError,
)

REPO = Path(__file__).resolve().parents[2]

STUDENT = '''
import os
import sys
import warnings

import numpy as np
import numpy.testing

print("noise printed at import time")
np.seterr(all="ignore")           # must not hide floating-point warnings
warnings.simplefilter("ignore")   # nor this


def echo(*args, **kwargs):
    return args, kwargs


def add(a, b):
    return a + b


def scale_in_place(x, factor):
    x *= factor
    return None


def overflow(z):
    return np.exp(z)


def warn_user():
    warnings.warn("careful with that learning rate")
    return 1


def stub(x):
    raise NotImplementedError("Exercise 9.1: write the stub")


def divide(a, b):
    return a / b


def shout(n):
    for i in range(n):
        print("line", i, "x" * 50)
    os.write(1, b"raw bytes on fd 1\\n" * 20000)
    return n


def object_array():
    return np.array([1, "a", None], dtype=object)


def big(n):
    return np.zeros(n)


def pid():
    return os.getpid()


def spin():
    while True:
        pass


def exit_call(code):
    sys.exit(code)


def hard_exit(code):
    os._exit(code)


def segfault():
    import ctypes
    ctypes.string_at(0)


def close_stdout():
    sys.stdout.close()
    print("still fine")
    return "ok"


def path_entries():
    return list(sys.path)


def import_solutions():
    import solutions  # noqa: F401
    return "imported"


def apply(f, x):
    return f(x)


class Model:
    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        return X @ self.w

    def __len__(self):
        return self.w.size

    def __getitem__(self, i):
        return self.w[i]


def make_model(w):
    return Model(w)


def weight_sum(model):
    return float(model.w.sum())


def lie_to_the_grader():
    # every check the parent might use, sabotaged in the worker
    numpy.testing.assert_allclose = lambda *a, **k: None
    np.allclose = lambda *a, **k: True
    import pytest

    class Equal:
        def __eq__(self, other):
            return True

    pytest.approx = lambda *a, **k: Equal()
    return np.array([1.0, 2.0, 3.0])
'''


def _write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student")
    _write(folder, "stu", STUDENT)
    mod = StudentModule(folder, "stu", timeout=5)
    yield mod
    mod.close()


def _one_off(tmp_path, source, name="bad", **kwargs) -> StudentModule:
    _write(tmp_path, name, source)
    return StudentModule(tmp_path, name, **{"timeout": 5, **kwargs})


# --------------------------------------------------------------------------- data
VALUES = [
    None, True, False, 0, -7, 2**80, -(2**70), 1.5, -0.0, math.inf, -math.inf,
    1 + 2j, "", "héllo ✓", b"\x00\xffbytes",
    (1, (2, 3)), [1, [2, [3]]], {"a": 1, "b": [1, 2]}, {1: "int key", (2, 3): "tuple"},
    {1, 2, 3}, frozenset({"x"}), [], (), {},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:20] for v in VALUES])
def test_plain_values_round_trip_with_their_types(student, value):
    (args, kwargs) = student.echo(value, key=value)
    assert args == (value,) and kwargs == {"key": value}
    assert type(args[0]) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, args[0]) == math.copysign(1, value)


def test_nan_round_trips(student):
    (args, _) = student.echo(math.nan)
    assert math.isnan(args[0])


ARRAYS = [
    np.arange(12.0).reshape(3, 4),
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.array([[1, -2], [3, 4]], dtype=np.int64),
    np.array([True, False, True]),
    np.array([1 + 1j, 2 - 3j]),
    np.array(3.5),                              # 0-d
    np.zeros((0, 4)),                           # empty
    np.arange(20.0).reshape(4, 5)[:, ::2],      # non-contiguous view
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.array(["ab", "c"]),
    np.array([np.nan, np.inf, -np.inf]),
]


@pytest.mark.parametrize("arr", ARRAYS, ids=[f"{a.dtype}{a.shape}" for a in ARRAYS])
def test_arrays_round_trip_exactly(student, arr):
    (args, _) = student.echo(arr)
    out = args[0]
    assert isinstance(out, np.ndarray)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    out[...] = out  # the received array is writable


def test_numpy_scalars_keep_their_numpy_type(student):
    vals = (np.float64(1.25), np.float32(2.5), np.int32(-3), np.bool_(True),
            np.complex128(1j))
    (args, _) = student.echo(*vals)
    for got, sent in zip(args, vals):
        assert type(got) is type(sent) and got == sent


def test_namedtuple_and_dict_subclasses_arrive_as_plain_types(student):
    from collections import OrderedDict, namedtuple

    Pair = namedtuple("Pair", "a b")
    (args, _) = student.echo(Pair(1, 2), OrderedDict(x=1))
    assert args == ((1, 2), {"x": 1})
    assert type(args[0]) is tuple and type(args[1]) is dict


def test_object_arrays_are_refused_with_a_clear_error(student):
    with pytest.raises(StudentError) as info:
        student.object_array()
    assert info.value.type_name == "UnsupportedResult"
    assert "dtype object" in info.value.message


def test_parent_cannot_send_arbitrary_objects(student):
    with pytest.raises(TypeError, match="cannot send"):
        student.echo(object())
    with pytest.raises(TypeError):
        student.echo(np.array([None, 1], dtype=object))


def test_results_over_the_size_limit_are_refused(tmp_path):
    source = "import numpy as np\ndef big(n):\n    return np.zeros(n)\n"
    mod = _one_off(tmp_path, source, max_message_bytes=100_000)
    try:
        assert mod.big(100).shape == (100,)
        with pytest.raises(StudentError) as info:
            mod.big(1_000_000)
        assert info.value.type_name == "UnsupportedResult"
        assert "MB" in info.value.message
        assert mod.big(10).shape == (10,)  # the worker survived
    finally:
        mod.close()


# --------------------------------------------------------------------------- calls
def test_call_record_shows_in_place_mutation_and_leaves_parent_data_alone(student):
    x = np.array([1.0, 2.0, 3.0])
    res = student.call("scale_in_place", x, 2.0)
    assert isinstance(res, CallResult)
    assert res.value is None
    np.testing.assert_array_equal(res.args[0], [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])  # the parent's copy is untouched
    assert res.args[1] == 2.0 and res.kwargs == {}


def test_kwargs_after_the_call(student):
    res = student.call("add", a=np.ones(2), b=1.0)
    np.testing.assert_array_equal(res.value, [2.0, 2.0])
    assert set(res.kwargs) == {"a", "b"}


def test_numpy_warnings_are_recorded_even_if_the_student_silenced_them(student):
    res = student.call("overflow", np.array([0.0, 1000.0]))
    assert res.value[1] == np.inf
    assert res.warned("overflow")
    assert any(w.category == "RuntimeWarning" for w in res.warnings)
    assert student.call("overflow", np.array([0.0, 1.0])).warnings == []


def test_python_warnings_are_recorded_every_time(student):
    for _ in range(2):  # "always": the second identical warning is not swallowed
        res = student.call("warn_user")
        assert [w.category for w in res.warnings] == ["UserWarning"]
        assert "learning rate" in str(res.warnings[0])


def test_stdout_is_captured_per_call_and_capped(student):
    t0 = time.monotonic()
    res = student.call("shout", 200_000)
    assert time.monotonic() - t0 < 15
    assert res.value == 200_000
    assert res.stdout.startswith("line 0 ")
    assert len(res.stdout) < 25_000 and "more characters not shown" in res.stdout
    assert student.add(1, 2) == 3  # the protocol was not corrupted


def test_closing_stdout_does_not_break_the_worker(student):
    assert student.close_stdout() == "ok"
    assert student.add(2, 2) == 4


def test_not_attempted_carries_the_exercise_message(student):
    with pytest.raises(NotAttempted) as info:
        student.stub(1)
    assert info.value.message == "Exercise 9.1: write the stub"
    assert "not attempted yet (Exercise 9.1" in info.value.reason
    assert not isinstance(info.value, StudentError)


def test_student_exceptions_show_type_message_and_only_student_frames(student):
    with pytest.raises(StudentError) as info:
        student.divide(1, 0)
    err = info.value
    assert err.type_name == "ZeroDivisionError" and err.is_a("ArithmeticError")
    assert "stu.py" in err.traceback and "return a / b" in err.traceback
    assert "remote.py" not in err.traceback and "worker.py" not in err.traceback
    assert "divide() raised ZeroDivisionError" in err.reason


def test_missing_function(student):
    with pytest.raises(MissingFunction, match="no function `nope`"):
        student.nope(1)
    assert student.has("add") and not student.has("nope")


def test_sys_exit_in_a_call_is_reported_and_the_worker_lives_on(student):
    before = student.pid()
    with pytest.raises(StudentError) as info:
        student.exit_call(3)
    assert info.value.type_name == "SystemExit" and "sys.exit(3)" in info.value.reason
    assert student.pid() == before


def test_rng_arrives_as_a_fresh_generator_with_that_seed(tmp_path):
    source = """
        import numpy as np
        def draw(rng, n):
            return type(rng).__module__ + "." + type(rng).__name__, rng.normal(size=n)
        def draw_twice(a, b):
            return a is b, a.random(3), b.random(3)
        def kw(*, rng):
            return rng.integers(0, 1000, size=4)
        """
    mod = _one_off(tmp_path, source, name="rngs")
    try:
        kind, got = mod.draw(Rng(7), 5)
        assert kind == "numpy.random._generator.Generator"
        np.testing.assert_array_equal(got, np.random.default_rng(7).normal(size=5))
        # a new generator on every call: the same seed gives the same numbers
        np.testing.assert_array_equal(mod.draw(Rng(7), 5)[1], got)
        assert not np.array_equal(mod.draw(Rng(8), 5)[1], got)
        # and a new one for every occurrence within a call
        same, a, b = mod.draw_twice(Rng(3), Rng(3))
        assert same is False and np.array_equal(a, b)
        np.testing.assert_array_equal(
            mod.kw(rng=Rng((1, 2))),
            np.random.default_rng((1, 2)).integers(0, 1000, size=4))
        np.testing.assert_array_equal(mod.kw(rng=Rng(np.int64(5))),
                                      Rng(5).generator().integers(0, 1000, size=4))
        # the student's function receives it; the record gives back a handle
        res = mod.call("draw", Rng(7), 2)
        assert isinstance(res.args[0], RemoteObject)
        assert res.args[0].remote_type.endswith("Generator")
    finally:
        mod.close()


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, True, "7", (), None, [1, -2]])
def test_rng_refuses_seeds_that_default_rng_would_not_take_the_same_way(seed):
    with pytest.raises(ValueError, match="Rng seed"):
        Rng(seed)


def test_a_numpy_generator_itself_cannot_be_sent(student):
    with pytest.raises(TypeError, match=r"Rng\(seed\)"):
        student.apply(np.random.default_rng(0), 1)


def test_a_forged_rng_seed_is_a_protocol_error():
    from course_lib.grading.checking.remote import ProtocolError, decode

    def refuse(_):
        raise AssertionError("not a handle or function")

    assert decode({"g": [4, 5]}, [], refuse, refuse) == Rng((4, 5))
    for bad in ({"g": -3}, {"g": "x"}, {"g": [1, [2]]}, {"g": 2**64}):
        with pytest.raises(ProtocolError):
            decode(bad, [], refuse, refuse, on_rng=np.random.default_rng)


def test_grading_leaves_no_bytecode_in_the_students_folder(tmp_path):
    _write(tmp_path, "helper", "def twice(x):\n    return 2 * x\n")
    source = """
        import helper
        def f(x):
            return helper.twice(x)
        """
    mod = _one_off(tmp_path, source, name="uses_helper")
    try:
        assert mod.f(3) == 6
        mod.restart()  # a second import would use bytecode if it had been written
        assert mod.f(4) == 8
    finally:
        mod.close()
    leftovers = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                 if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert leftovers == []


def test_fn_references_resolve_to_testfns(student):
    from course_lib.grading.checking import testfns

    x = np.array([1.0, -2.0, 3.0])
    got = student.apply(Fn("quadratic"), x)
    assert got == pytest.approx(testfns.quadratic(x))
    with pytest.raises(ValueError, match="no function"):  # a bug in the test suite
        Fn("no_such_function")


# --------------------------------------------------------------------------- handles
def test_remote_objects_forward_attributes_and_methods(student):
    model = student.make_model([1.0, 2.0])
    assert isinstance(model, RemoteObject)
    assert model.remote_type.endswith("stu.Model")
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(model.predict(X), [1.0, 3.0])
    res = model.call("predict", X)
    np.testing.assert_array_equal(res.value, [1.0, 3.0])
    assert model.calls == 2  # state persists in the worker
    np.testing.assert_array_equal(model.w, [1.0, 2.0])
    assert len(model) == 2 and model[1] == 2.0
    assert student.weight_sum(model) == 3.0  # handles go back as arguments
    with pytest.raises(StudentError, match="AttributeError"):
        _ = model.no_such_attribute


# --------------------------------------------------------------------------- isolation
def test_worker_sys_path_has_the_target_but_not_the_repository(student):
    entries = [os.path.realpath(p) for p in student.path_entries()]
    assert os.path.realpath(student.path.parent) == entries[0]
    assert str(REPO) not in entries and "" not in entries
    with pytest.raises(StudentError, match="ModuleNotFoundError"):
        student.import_solutions()


def test_sabotage_in_the_worker_does_not_change_the_parents_verdict(student):
    value = student.lie_to_the_grader()
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(value, [9.0, 9.0, 9.0])
    assert not np.allclose(value, 0.0)
    assert value[0] != pytest.approx(42.0)
    assert student.add(1, 2) == 3


# --------------------------------------------------------------------------- failures
def test_timeout_kills_the_process_group_and_the_next_call_works(tmp_path):
    mod = _one_off(tmp_path, """
        import os, subprocess, sys
        def spin():
            while True:
                pass
        def spawn_child_then_spin():
            p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            open("child.pid", "w").write(str(p.pid))
            while True:
                pass
        def pid():
            return os.getpid()
        def make():
            return object()
        """, name="loops", timeout=1)
    try:
        first = mod.pid()
        handle = mod.make()
        t0 = time.monotonic()
        with pytest.raises(StudentTimeout) as info:
            mod.spawn_child_then_spin()
        assert 0.9 < time.monotonic() - t0 < 4
        assert "timed out after 1 s" in info.value.reason
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)
        child = int((tmp_path / "child.pid").read_text())
        for _ in range(50):  # the grandchild was in the killed process group
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("a process started by the student survived the time-out")
        assert mod.pid() != first  # a fresh worker
        with pytest.raises(StudentCrash, match="restarted"):
            _ = handle.anything
        with pytest.raises(StudentTimeout):
            mod.with_timeout(0.5).spin()
        assert mod.with_timeout(30).timeout == 30 and mod.timeout == 1
    finally:
        mod.close()


def test_hard_exit_and_segfault_are_crashes_and_the_worker_restarts(student):
    with pytest.raises(StudentCrash) as info:
        student.hard_exit(7)
    assert info.value.exit_code == 7 and "exit code 7" in info.value.reason
    assert student.add(1, 1) == 2
    with pytest.raises(StudentCrash, match="SIGSEGV"):
        student.segfault()
    assert student.add(1, 2) == 3


@pytest.mark.parametrize("source, kind, expect", [
    ("import numpy as np\n\ndef f(:\n    pass\n", ImportFailed,
     ["SyntaxError at line 3", "def f(:"]),
    ("import numpy as np\nx = 1\nraise RuntimeError('boom at import')\n", ImportFailed,
     ["RuntimeError at line 3", "boom at import"]),
    ("import no_such_package_xyz\n", ImportFailed,
     ["ModuleNotFoundError at line 1", "no_such_package_xyz"]),
    ("import sys\nsys.exit(4)\n", StudentCrash, ["sys.exit(4)", "imported"]),
    ("import os\nos._exit(5)\n", StudentCrash, ["exit code 5"]),
])
def test_import_problems_are_reported_once_with_the_line(tmp_path, source, kind,
                                                         expect):
    mod = _one_off(tmp_path, source)
    try:
        with pytest.raises(kind) as info:
            mod.anything(1)
        for text in expect:
            assert text in info.value.reason
        assert "bad.py" in info.value.reason or kind is StudentCrash
        with pytest.raises(kind):  # cached: no second import attempt
            mod.anything(2)
    finally:
        mod.close()


def test_missing_file_and_infinite_loop_at_import(tmp_path):
    missing = StudentModule(tmp_path, "not_there", timeout=5)
    with pytest.raises(ImportFailed, match="no not_there.py"):
        missing.f()
    looping = _one_off(tmp_path, "while True:\n    pass\n", name="loop", timeout=1)
    try:
        with pytest.raises(StudentTimeout, match="importing your file"):
            looping.f()
    finally:
        looping.close()


def test_every_problem_has_a_short_reason(student):
    for call in (lambda: student.stub(1), lambda: student.divide(1, 0),
                 lambda: student.nope()):
        with pytest.raises(StudentProblem) as info:
            call()
        assert info.value.reason and "\n" not in info.value.reason
        assert "Traceback" not in info.value.reason


def test_call_overhead_is_small(student):
    x = np.random.default_rng(0).normal(size=(8, 4))
    student.add(x, 1.0)
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        student.add(x, 1.0)
    per_call = (time.perf_counter() - t0) / n
    # ~0.2 ms on an idle machine; generous bound for a loaded CI box
    assert per_call < 0.01, f"{per_call * 1e3:.2f} ms per call"


def test_sandbox_prefix_and_resource_limits_reach_the_worker(tmp_path):
    source = """
        import os
        import numpy as np
        def env(name):
            return os.environ.get(name)
        def allocate(n):
            return float(np.ones(n).sum())
        """
    mod = _one_off(tmp_path, source, name="limited",
                   worker_cmd_prefix=["env", "COURSE_SANDBOXED=yes"],
                   rlimits={"RLIMIT_AS": 1_500_000_000})
    try:
        assert mod.env("COURSE_SANDBOXED") == "yes"
        assert mod.allocate(1000) == 1000.0
        with pytest.raises(StudentError) as info:
            mod.allocate(400_000_000)  # 3.2 GB, over the 1.5 GB address-space limit
        assert info.value.is_a("MemoryError")
    finally:
        mod.close()


def test_a_broken_worker_command_is_a_grader_error_not_a_student_crash(tmp_path):
    _write(tmp_path, "fine", "def f():\n    return 1\n")
    mod = StudentModule(tmp_path, "fine", worker_cmd_prefix=["false"],
                        startup_timeout=10)
    with pytest.raises(WorkerStartError, match="did not start"):
        mod.f()


def test_remote_generators_can_be_iterated_and_taken_in_chunks(tmp_path):
    source = """
        import itertools
        def batches(n):
            for i in range(n):
                yield (i, i * i)
        def forever():
            return itertools.count()
        """
    mod = _one_off(tmp_path, source, name="gens")
    try:
        gen = mod.batches(150)
        assert isinstance(gen, RemoteObject)
        assert list(gen) == [(i, i * i) for i in range(150)]
        assert mod.batches(3).take(10) == [(0, 0), (1, 1), (2, 4)]
        assert mod.forever().take(5) == [0, 1, 2, 3, 4]
        import itertools

        assert list(itertools.islice(mod.forever(), 70)) == list(range(70))
    finally:
        mod.close()
