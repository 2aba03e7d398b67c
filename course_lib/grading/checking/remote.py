"""Call a student's functions in a separate worker process (the parent side).

Student code never runs in the process that decides a score. A :class:`StudentModule`
starts ``course_lib.grading.checking.worker`` in its own process group, asks it to
import the student's file, and forwards every call over a pipe. Arguments and
results cross in a restricted, data-only format (never pickle, in either direction):

- ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``;
- ``tuple``, ``list``, ``set``, ``dict`` of those (any hashable key);
- numpy arrays and numpy scalars of numeric, boolean, string or datetime dtype
  (object and structured dtypes are refused);
- :class:`Fn` references to functions of :mod:`course_lib.grading.checking.testfns`;
- :class:`Rng` seeds, which the worker turns into a fresh
  ``np.random.default_rng(seed)`` (for exercises that take an ``rng``);
- remote handles: anything else the student returns stays in the worker and the
  parent gets a :class:`RemoteObject` whose attributes and methods are forwarded.

Example
-------
>>> ch03 = StudentModule("exercises", "ch03_chain_rule")         # doctest: +SKIP
>>> dX, dW, db = ch03.dense_backward(dZ, X, W)                   # doctest: +SKIP
>>> res = ch03.call("relu_backward", dA, Z)                      # doctest: +SKIP
>>> res.value, res.args, res.warnings, res.stdout                # doctest: +SKIP
>>> ch04.with_timeout(60).train_xor(5000, 0.5, 0)                # doctest: +SKIP

What goes wrong in the worker comes back as an exception of this module:
:class:`StudentError`, :class:`NotAttempted`, :class:`MissingFunction`,
:class:`StudentTimeout`, :class:`StudentCrash`, :class:`ImportFailed`. All derive from
:class:`StudentProblem` and carry ``.reason``, a short sentence written for the student.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CallResult",
    "Fn",
    "ImportFailed",
    "MissingFunction",
    "NotAttempted",
    "RemoteObject",
    "Rng",
    "StudentCrash",
    "StudentError",
    "StudentModule",
    "StudentProblem",
    "StudentTimeout",
    "TimeBudgetExceeded",
    "Warned",
    "WorkerStartError",
]

DEFAULT_TIMEOUT = 10.0
#: largest message (header + buffers) the parent accepts from the worker, in bytes
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: largest JSON part of a message (nested lists, dicts...; arrays travel as buffers)
MAX_HEADER_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 64
#: most items that iterating a remote object in the parent will fetch
MAX_ITER_ITEMS = 1_000_000
_ARRAY_KINDS = frozenset("biufcSUmM")
_PREFIX = struct.Struct("<II")
_LEN = struct.Struct("<Q")


# --------------------------------------------------------------------------- exceptions
class StudentProblem(Exception):
    """Base of everything that can go wrong on the student's side of a call.

    Attributes
    ----------
    reason : str
        One short sentence for the student (no traceback).
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class StudentError(StudentProblem):
    """The student's function raised an exception (``SystemExit`` included).

    Attributes
    ----------
    type_name : str
        Name of the exception class, e.g. ``"ValueError"`` or ``"ShapeError"``.
    message : str
        ``str()`` of the exception, truncated.
    traceback : str
        The student's own frames only (file, line, code), possibly empty.
    function : str
        The function that was called.
    """

    def __init__(self, type_name, message, traceback="", function="", mro=()):
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.function = function
        self.mro = tuple(mro) or (type_name,)
        where = _last_frame_summary(traceback)
        text = f"{type_name}: {message}" if message else type_name
        call = f"{function}() raised " if function else "your code raised "
        super().__init__(call + text + (f" ({where})" if where else ""))

    def is_a(self, name: str) -> bool:
        """True when the student's exception is of class ``name`` or a subclass.

        Parameters
        ----------
        name : str
            A class name such as ``"ValueError"`` (a ``ShapeError`` is a
            ``ValueError``).
        """
        return name in self.mro


class NotAttempted(StudentProblem):
    """The function still raises ``NotImplementedError`` (the generated stub).

    Attributes
    ----------
    message : str
        The stub's message, ``'Exercise N.M: <what to write>'``.
    """

    def __init__(self, message: str, function: str = ""):
        self.message = message
        self.function = function
        super().__init__(f"not attempted yet ({message})" if message else
                         "not attempted yet")


class MissingFunction(StudentProblem):
    """The student's module has no attribute of the requested name."""

    def __init__(self, module: str, name: str):
        self.function = name
        super().__init__(f"{module}.py has no function `{name}` "
                         "(was it renamed or deleted?)")


class StudentTimeout(StudentProblem):
    """The call did not return within its time limit; the worker was killed."""

    def __init__(self, seconds: float, function: str = "", importing: bool = False):
        self.seconds = seconds
        self.function = function
        what = "importing your file" if importing else (
            f"{function}()" if function else "your code")
        super().__init__(f"timed out after {seconds:g} s while running {what}: "
                         "look for an infinite loop or far too many iterations")


class TimeBudgetExceeded(StudentTimeout):
    """The module's calls together used up its time budget (see ``budget`` of
    :class:`StudentModule`); the call was not made, or was stopped when the
    budget ran out. A :class:`StudentTimeout`, so it is handled like one."""

    def __init__(self, budget: float, module: str, function: str = "",
                 during: bool = False):
        StudentProblem.__init__(
            self,
            (f"timed out while running {function or 'your code'}(): " if during
             else "not run: ")
            + f"the calls to {module}.py used up the {budget:g} s of time allowed "
            "for the whole file; some of your functions are far too slow (look for "
            "loops over every entry that numpy could do at once, or far too many "
            "iterations)")
        self.seconds = budget
        self.budget = budget
        self.function = function
        self.importing = False


class StudentCrash(StudentProblem):
    """The worker process died (``os._exit``, a signal, a memory limit...)."""

    def __init__(self, detail: str, exit_code: int | None = None, function: str = ""):
        self.exit_code = exit_code
        self.detail = detail
        self.function = function
        super().__init__(f"your code crashed the grader worker ({detail})")


class ImportFailed(StudentProblem):
    """The student's file could not be imported (syntax error, exception at import)."""

    def __init__(self, filename: str, type_name: str, message: str,
                 lineno: int | None = None, line: str = "", traceback: str = ""):
        self.filename = filename
        self.type_name = type_name
        self.message = message
        self.lineno = lineno
        self.line = line
        self.traceback = traceback
        at = f" at line {lineno}" if lineno else ""
        shown = f": `{line.strip()}`" if line and line.strip() else ""
        super().__init__(f"{filename} could not be imported: {type_name}{at}: "
                         f"{message}{shown}")


def _last_frame_summary(tb: str) -> str:
    for line in reversed(tb.splitlines()):
        s = line.strip()
        if s.startswith("File "):
            return s[5:].replace('"', "")
    return ""


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Fn:
    """A named reference to a function in :mod:`course_lib.grading.checking.testfns`.

    The worker resolves ``Fn("quadratic")`` to
    ``course_lib.grading.checking.testfns.quadratic``
    so that graded tests can pass callables (e.g. to ``numerical_gradient``) without
    sending code across the process boundary.
    """

    name: str

    def __post_init__(self):
        from course_lib.grading.checking import testfns

        fn = None if self.name.startswith("_") else getattr(testfns, self.name, None)
        if not callable(fn):
            raise ValueError(
                f"course_lib.grading.checking.testfns has no function {self.name!r}")


#: largest seed entry an :class:`Rng` may carry (it crosses as a JSON integer)
_MAX_SEED = 2**63


def _check_seed(seed) -> int | tuple[int, ...]:
    """``seed`` as a non-negative int or a non-empty tuple of them, else ValueError."""
    items = seed if isinstance(seed, (list, tuple)) else (seed,)
    if not items or len(items) > 16 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
            and 0 <= s < _MAX_SEED for s in items):
        raise ValueError(
            f"an Rng seed must be an int in [0, 2**63) or a short tuple of such "
            f"ints, got {seed!r}")
    items = tuple(int(s) for s in items)
    return items if isinstance(seed, (list, tuple)) else items[0]


@dataclass(frozen=True)
class Rng:
    """A random generator for student code, sent as its seed.

    A ``numpy.random.Generator`` cannot cross the process boundary (and its
    seed cannot be read back from it), so a graded test passes ``Rng(7)``
    where the exercise expects an ``rng``; the worker hands the student's
    function a **new** ``np.random.default_rng(7)``, which draws exactly what
    ``np.random.default_rng(7)`` draws in the test. Two calls with ``Rng(7)``
    therefore see the same numbers (how tests check reproducibility).

    Parameters
    ----------
    seed : int or tuple of int
        What ``np.random.default_rng`` is called with: an int in
        ``[0, 2**63)`` or a tuple of such ints (an entropy sequence).

    Examples
    --------
    >>> W = ch06.he_init(4, 6, Rng(2))                        # doctest: +SKIP
    >>> expected = np.random.default_rng(2).normal(size=(4, 6))
    """

    seed: int | tuple

    def __post_init__(self):
        object.__setattr__(self, "seed", _check_seed(self.seed))

    def generator(self) -> np.random.Generator:
        """The ``np.random.default_rng(seed)`` that the worker will build."""
        return np.random.default_rng(self.seed)


@dataclass(frozen=True)
class Warned:
    """One warning raised during a call.

    Attributes
    ----------
    category : str
        e.g. ``"RuntimeWarning"``.
    message : str
        e.g. ``"overflow encountered in exp"``.
    filename : str
        Base name of the file that raised it.
    lineno : int
    """

    category: str
    message: str
    filename: str = ""
    lineno: int = 0

    def __str__(self) -> str:
        return f"{self.category}: {self.message}"


@dataclass
class CallResult:
    """Full record of one call.

    Attributes
    ----------
    value : object
        What the function returned.
    args : tuple
        The positional arguments as the function left them (in-place mutation shows).
    kwargs : dict
        The keyword arguments as the function left them.
    warnings : list of Warned
        Every warning raised during the call (numpy floating-point errors included).
    stdout : str
        What the call printed (stdout and stderr), truncated.
    seconds : float
        Wall time of the call in the worker.
    """

    value: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    stdout: str = ""
    seconds: float = 0.0

    def warned(self, text: str) -> bool:
        """True when some warning's message contains ``text`` (case-insensitive)."""
        return any(text.lower() in str(w).lower() for w in self.warnings)


class WorkerStartError(RuntimeError):
    """The worker process itself could not start: a grading-setup problem (bad
    sandbox command, broken interpreter), never the student's fault."""


class ProtocolError(Exception):
    """A message broke the wire format (too large, malformed, forbidden dtype)."""


def encode(obj, bufs: list, on_other: Callable[[Any], dict], depth: int = 0,
           _stack: set | None = None):
    """Turn ``obj`` into a JSON-able tree, appending binary payloads to ``bufs``.

    Parameters
    ----------
    obj : object
        The value to send.
    bufs : list of bytes
        Receives array and bytes payloads; the tree refers to them by index.
    on_other : callable
        Called with any object the format cannot carry; returns its tree node
        (a remote handle in the worker) or raises ``TypeError`` (in the parent).
    """
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        return obj if -(2**63) <= obj < 2**63 else {"I": hex(obj)}
    if t is float:
        return obj
    if t is np.ndarray:
        return _encode_array(obj, bufs, "a")
    if isinstance(obj, np.ndarray):
        # a subclass (np.matrix, a masked array, a student's class overriding
        # __eq__...) travels as its plain data: what the grader compares is the
        # numbers, never the subclass's methods. The base-class view runs no
        # method of the subclass.
        return _encode_array(np.ndarray.view(obj, np.ndarray), bufs, "a")
    if isinstance(obj, np.generic):
        return _encode_array(np.asarray(obj), bufs, "s")
    if t is Fn:
        return {"f": obj.name}
    if t is Rng:
        return {"g": list(obj.seed) if isinstance(obj.seed, tuple) else obj.seed}
    if t is complex:
        return {"c": [obj.real, obj.imag]}
    if t is bytes or t is bytearray:
        bufs.append(bytes(obj))
        return {"b": len(bufs) - 1}
    if t in (list, tuple, set, frozenset, dict):
        if depth >= _MAX_DEPTH:
            return on_other(obj)
        _stack = set() if _stack is None else _stack
        if id(obj) in _stack:
            return on_other(obj)
        _stack.add(id(obj))
        try:
            d = depth + 1
            if t is dict:
                return {"d": [[encode(k, bufs, on_other, d, _stack),
                               encode(v, bufs, on_other, d, _stack)]
                              for k, v in obj.items()]}
            items = [encode(v, bufs, on_other, d, _stack) for v in obj]
            tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
            return {tag: items}
        finally:
            _stack.discard(id(obj))
    # subclasses of plain types travel as the plain type (a namedtuple as a tuple)
    for base in (bool, int, float, str, complex, bytes, tuple, list, dict):
        if isinstance(obj, base) and not isinstance(obj, np.generic):
            try:
                plain = base(obj.items()) if base is dict else base(obj)
            except Exception:
                return on_other(obj)
            if type(plain) is base:
                return encode(plain, bufs, on_other, depth, _stack)
    return on_other(obj)


def _encode_array(arr: np.ndarray, bufs: list, tag: str) -> dict:
    dt = arr.dtype
    if dt.hasobject or dt.fields is not None or dt.kind not in _ARRAY_KINDS:
        raise ProtocolError(
            f"an array of dtype {dt} cannot be sent (only numeric, boolean and string "
            "dtypes); did you build an array from a list of mixed objects?")
    bufs.append(np.ascontiguousarray(arr).tobytes())
    node = {tag: len(bufs) - 1, "dt": dt.str}
    if tag == "a":
        node["sh"] = list(arr.shape)
    return node


def decode(node, bufs: Sequence, on_handle: Callable[[dict], Any],
           on_fn: Callable[[str], Any], depth: int = 0, *,
           on_rng: Callable[[Any], Any] | None = None):
    """Inverse of :func:`encode`; ``on_handle``/``on_fn`` rebuild references.

    ``on_rng`` turns an :class:`Rng` seed into what the receiver wants (the
    worker: a fresh ``np.random.default_rng(seed)``); by default it is
    rebuilt as an :class:`Rng` (a malformed seed is a :class:`ProtocolError`).
    """
    if depth > _MAX_DEPTH + 2:
        raise ProtocolError("message nested too deeply")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or not node:
        raise ProtocolError(f"unexpected node {type(node).__name__}")
    d = depth + 1
    kw = {"on_rng": on_rng}
    if "r" in node or "h" in node:
        return on_handle(node)
    if "a" in node or "s" in node:
        scalar = "s" in node
        dt = np.dtype(str(node["dt"]))
        if dt.hasobject or dt.fields is not None or dt.kind not in _ARRAY_KINDS:
            raise ProtocolError(f"forbidden dtype {dt}")
        buf = bufs[node["s" if scalar else "a"]]
        arr = np.frombuffer(buf, dtype=dt) if len(buf) else np.empty(0, dt)
        if scalar:
            if arr.size != 1:
                raise ProtocolError("bad scalar payload")
            return arr[0]
        shape = tuple(int(s) for s in node["sh"])
        if int(np.prod(shape, dtype=np.int64)) != arr.size or min(shape, default=0) < 0:
            raise ProtocolError("array payload does not match its shape")
        return arr.reshape(shape)
    if "l" in node:
        return [decode(v, bufs, on_handle, on_fn, d, **kw) for v in node["l"]]
    if "t" in node:
        return tuple(decode(v, bufs, on_handle, on_fn, d, **kw) for v in node["t"])
    if "d" in node:
        out = {}
        for k, v in node["d"]:
            key = decode(k, bufs, on_handle, on_fn, d, **kw)
            try:
                out[key] = decode(v, bufs, on_handle, on_fn, d, **kw)
            except TypeError as exc:
                raise ProtocolError(f"unhashable dict key: {exc}") from None
        return out
    if "S" in node or "F" in node:
        raw = node["S"] if "S" in node else node["F"]
        items = [decode(v, bufs, on_handle, on_fn, d, **kw) for v in raw]
        try:
            return set(items) if "S" in node else frozenset(items)
        except TypeError as exc:
            raise ProtocolError(f"unhashable set item: {exc}") from None
    if "c" in node:
        re_, im = node["c"]
        return complex(float(re_), float(im))
    if "b" in node:
        return bytes(bufs[node["b"]])
    if "I" in node:
        return int(str(node["I"]), 16)
    if "f" in node:
        return on_fn(str(node["f"]))
    if "g" in node:
        raw = node["g"]
        try:
            seed = _check_seed(tuple(raw) if isinstance(raw, list) else raw)
        except (ValueError, TypeError) as exc:
            raise ProtocolError(str(exc)) from None
        return Rng(seed) if on_rng is None else on_rng(seed)
    raise ProtocolError(f"unknown node {sorted(node)[:3]}")


def pack(header: dict, bufs: Sequence[bytes]) -> bytes:
    """Frame a message: lengths, a JSON header, then the binary buffers."""
    head = json.dumps(header, separators=(",", ":")).encode()
    parts = [_PREFIX.pack(len(head), len(bufs))]
    parts += [_LEN.pack(len(b)) for b in bufs]
    parts.append(head)
    parts += bufs
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class _Reader:
    """Reads framed messages from a file descriptor, with a deadline and a size cap."""

    def __init__(self, fd: int, limit: int):
        self.fd = fd
        self.limit = limit
        self.buf = bytearray()

    def _read(self, n: int, deadline: float | None) -> bytearray:
        buf = self.buf
        while len(buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise TimeoutError
            chunk = os.read(self.fd, max(n - len(buf), 1 << 16))
            if not chunk:
                raise EOFError
            buf += chunk
        out = buf[:n]
        del buf[:n]
        return out

    def read(self, deadline: float | None = None):
        hlen, nbufs = _PREFIX.unpack(self._read(_PREFIX.size, deadline))
        if nbufs > 1_000_000 or hlen > min(self.limit, MAX_HEADER_BYTES):
            raise ProtocolError("message too large")
        raw = self._read(_LEN.size * nbufs, deadline) if nbufs else b""
        lens = [_LEN.unpack_from(raw, i * _LEN.size)[0] for i in range(nbufs)]
        if hlen + sum(lens) > self.limit:
            raise ProtocolError(
                f"message of {(hlen + sum(lens)) / 1e6:.0f} MB exceeds the "
                f"{self.limit / 1e6:.0f} MB limit")
        try:
            header = json.loads(self._read(hlen, deadline))
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"malformed header: {exc}") from None
        bufs = [self._read(n, deadline) for n in lens]
        return header, bufs


# --------------------------------------------------------------------------- processes
#: every _Worker of this process (their live worker pids are never "strays")
_LIVE_WORKERS: weakref.WeakSet = weakref.WeakSet()
_PR_GET_DUMPABLE, _PR_SET_DUMPABLE = 3, 4
_PR_SET_CHILD_SUBREAPER = 36
_reaping = False


def _prctl(option: int, arg: int = 0) -> int | None:
    """``prctl(2)`` on Linux; ``None`` where it is not available or fails."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        res = libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                         ctypes.c_ulong(0), ctypes.c_ulong(0))
    except (OSError, AttributeError):
        return None
    return None if res < 0 else int(res)


def set_dumpable(flag: bool) -> bool | None:
    """Make this process (un)dumpable; return the previous state (None: unknown).

    A process that is not dumpable cannot be read through ``/proc/PID/mem``,
    ``/proc/PID/environ`` or ``/proc/PID/fd`` (nor ptraced) by other processes of
    the same user, student workers included; only a privileged process (root,
    ``CAP_SYS_PTRACE``) still can. The grader turns it off while it holds the
    key that signs result lines.
    """
    before = _prctl(_PR_GET_DUMPABLE)
    if before is None or _prctl(_PR_SET_DUMPABLE, 1 if flag else 0) is None:
        return None
    return bool(before)


def become_subreaper() -> bool:
    """Adopt the orphans of this process's workers and kill them when reaping.

    A student process can leave its worker's process group (``os.setsid``) and
    be orphaned, so that killing the group misses it. As a child subreaper
    (Linux), this process inherits such orphans, and :func:`reap_strays` (run
    whenever a worker is stopped) kills every child that is not a live worker.
    Only for a process dedicated to grading (the pytest run of ``course
    grade``), where workers are the only children. Returns True when enabled.
    """
    global _reaping
    _reaping = _prctl(_PR_SET_CHILD_SUBREAPER, 1) is not None
    return _reaping


def _children() -> list[int]:
    me = os.getpid()
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            out.append(int(name))
    return out


def kill_pids(pids, reap: bool = False) -> int:
    """SIGKILL every process in ``pids`` (those already gone are skipped).

    With ``reap=True`` also wait for them, so that children of this process leave
    no zombies. Returns how many were signalled.
    """
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    if reap:
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except (ChildProcessError, OSError):
                pass
    return killed


def reap_strays(rounds: int = 50) -> int:
    """Kill (and wait for) children of this process that are not live workers.

    Does nothing unless :func:`become_subreaper` was called. Killing a stray may
    orphan its own children, which then become ours: repeat until none is left
    (at most ``rounds`` times). Returns how many were killed.
    """
    if not _reaping:
        return 0
    killed = 0
    for _ in range(rounds):
        keep = {w.proc.pid for w in list(_LIVE_WORKERS) if w.proc is not None}
        strays = [pid for pid in _children() if pid not in keep]
        if not strays:
            break
        killed += kill_pids(strays, reap=True)
    return killed


# --------------------------------------------------------------------------- worker
def _package_root() -> str:
    return str(Path(__file__).resolve().parents[3])


_BOOT = ("import sys;sys.dont_write_bytecode=True;sys.path.insert(0,{root!r});"
         "from course_lib.grading.checking.worker import main;main({root!r})")


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


_SIGNAL_HINT = {
    "SIGSEGV": "a segmentation fault",
    "SIGKILL": "often the memory or CPU limit",
    "SIGXCPU": "the CPU-time limit",
    "SIGABRT": "an abort",
    "SIGBUS": "a bus error",
}


class _Worker:
    """One worker process and the state shared by every view of a StudentModule."""

    def __init__(self, target_dir, module_name, worker_cmd_prefix, preexec_fn, env,
                 rlimits, startup_timeout, max_message_bytes, python):
        self.target_dir = str(Path(target_dir).resolve())
        self.module_name = module_name
        self.prefix = list(worker_cmd_prefix or [])
        self.preexec_fn = preexec_fn
        self.env = env
        self.rlimits = dict(rlimits or {})
        self.startup_timeout = startup_timeout
        self.limit = max_message_bytes
        self.python = python or sys.executable
        self.proc: subprocess.Popen | None = None
        self.reader: _Reader | None = None
        self.generation = 0
        self.import_problem: StudentProblem | None = None
        self.pending_release: list[int] = []
        self.lock = threading.RLock()
        self.names: list[str] = []
        self.budget: float | None = None
        self.spent = 0.0
        _LIVE_WORKERS.add(self)

    # -- lifecycle -----------------------------------------------------------------
    def _spawn(self, timeout: float) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # -I ignores PYTHONDONTWRITEBYTECODE: -B keeps the student's folder free of
        # __pycache__ (grading must leave the target exactly as it found it)
        cmd = self.prefix + [self.python, "-I", "-B", "-c",
                             _BOOT.format(root=_package_root())]
        # the worker points fd 2 elsewhere once started; before that (a broken
        # interpreter or sandbox) its errors land in this file, shown on failure
        errors = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                env=env, cwd=self.target_dir, start_new_session=True,
                preexec_fn=self.preexec_fn, bufsize=0)
        except OSError as exc:
            errors.close()
            raise WorkerStartError(f"the grading worker could not be started: {exc}; "
                               f"command: {cmd}") from None
        self.reader = _Reader(self.proc.stdout.fileno(), self.limit)
        self.generation += 1
        self.pending_release = []
        try:
            hello = self._roundtrip(None, time.monotonic() + self.startup_timeout)
            ok = bool(hello.get("ready"))
        except (EOFError, TimeoutError, ProtocolError, OSError) as exc:
            hello, ok = exc, False
        if not ok:
            self.kill()
            errors.seek(0)
            tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
            errors.close()
            raise WorkerStartError(f"the grading worker did not start ({hello!r}); "
                               f"command: {cmd}" + (f"\n{tail}" if tail else ""))
        errors.close()
        init = {"op": "import", "target_dir": self.target_dir,
                "module": self.module_name, "rlimits": self.rlimits,
                "limit": self.limit}
        try:
            reply = self._roundtrip(init, time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            self.import_problem = StudentTimeout(timeout, importing=True)
            raise self.import_problem from None
        except (EOFError, ProtocolError) as exc:
            self.import_problem = self._crash(exc, "")
            raise self.import_problem from None
        if not reply.get("ok"):
            self.import_problem = self._problem(reply, "")
            self.kill()
            raise self.import_problem
        self.names = list(reply.get("names", []))

    def ensure(self, timeout: float) -> None:
        if self.import_problem is not None:
            raise self.import_problem
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self._spawn(timeout)

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except OSError:
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        reap_strays()

    def close(self) -> None:
        with self.lock:
            self.kill()

    # -- messages ------------------------------------------------------------------
    def _roundtrip(self, header: dict | None, deadline: float, bufs=()):
        if header is not None:
            write_all(self.proc.stdin.fileno(), pack(header, list(bufs)))
        reply, rbufs = self.reader.read(deadline)
        self._last_bufs = rbufs
        return reply

    def _crash(self, exc, function) -> StudentCrash:
        proc = self.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.kill()
        if isinstance(exc, ProtocolError):
            return StudentCrash(f"broke the grading protocol: {exc}", code, function)
        if code is None:
            return StudentCrash("the worker stopped answering", None, function)
        if code < 0:
            name = _signal_name(-code)
            hint = _SIGNAL_HINT.get(name)
            detail = f"killed by {name}" + (f", {hint}" if hint else "")
            return StudentCrash(detail, code, function)
        return StudentCrash(f"exit code {code}", code, function)

    def _problem(self, reply: dict, function: str) -> StudentProblem:
        kind = reply.get("kind")
        if kind == "not_attempted":
            return NotAttempted(reply.get("message", ""), function)
        if kind == "missing":
            return MissingFunction(self.module_name, reply.get("name", function))
        if kind == "import":
            return ImportFailed(self.module_name + ".py", reply.get("type", "Error"),
                                reply.get("message", ""), reply.get("lineno"),
                                reply.get("line", ""), reply.get("traceback", ""))
        if kind == "exit_at_import":
            return StudentCrash(f"your file called sys.exit({reply.get('code')!s}) "
                                "while being imported", None, function)
        return StudentError(reply.get("type", "Exception"), reply.get("message", ""),
                            reply.get("traceback", ""), function,
                            reply.get("mro", ()))

    def left(self, function: str = "") -> float | None:
        """Seconds left in the budget (None: no budget); raises when none is left."""
        if self.budget is None:
            return None
        left = self.budget - self.spent
        if left <= 0:
            raise TimeBudgetExceeded(self.budget, self.module_name, function)
        return left

    def request(self, header: dict, args_bufs: list, timeout: float, function: str,
                owner: StudentModule, charged: bool = True):
        """Send one request, wait for its reply, raise or return the decoded reply.
        ``charged``: the call counts against (and is capped by) the budget."""
        with self.lock:
            t0 = time.monotonic()
            try:
                return self._request(header, args_bufs, timeout, function, owner,
                                     charged)
            finally:
                if charged:
                    self.spent += time.monotonic() - t0

    def ensure_charged(self, timeout: float, function: str = "",
                       charged: bool = True) -> None:
        """:meth:`ensure` (start and import if needed), within the time budget."""
        with self.lock:
            if self.proc is not None and self.import_problem is None:
                return
            t0 = time.monotonic()
            try:
                self._ensure_capped(timeout, function, charged)
            finally:
                if charged:
                    self.spent += time.monotonic() - t0

    def _ensure_capped(self, timeout: float, function: str,
                       charged: bool = True) -> tuple[float, bool]:
        left = self.left(function) if charged else None
        capped = left is not None and left < timeout
        if capped:
            timeout = left
        try:
            self.ensure(timeout)
        except TimeBudgetExceeded:
            raise
        except StudentTimeout:
            if capped:
                raise TimeBudgetExceeded(self.budget, self.module_name, function,
                                         during=True) from None
            raise
        return timeout, capped

    def _request(self, header, args_bufs, timeout, function, owner, charged):
        timeout, capped = self._ensure_capped(timeout, function, charged)
        if self.pending_release:
            header["release"], self.pending_release = self.pending_release, []
        deadline = time.monotonic() + timeout
        try:
            reply = self._roundtrip(header, deadline, args_bufs)
        except TimeoutError:
            self.kill()
            if capped:
                raise TimeBudgetExceeded(self.budget, self.module_name, function,
                                         during=True) from None
            raise StudentTimeout(timeout, function) from None
        except (EOFError, BrokenPipeError, ProtocolError, ConnectionError) as exc:
            raise self._crash(exc, function) from None
        bufs = self._last_bufs
        self._last_bufs = None
        if not reply.get("ok"):
            raise self._problem(reply, function)
        gen = self.generation

        def on_handle(node):
            if "r" not in node:
                raise ProtocolError("worker sent a parent-side handle")
            return RemoteObject(owner, int(node["r"]), gen, str(node.get("ty", "")),
                                bool(node.get("c")))

        def on_fn(name):
            return Fn(name)

        try:
            return {k: decode(v, bufs, on_handle, on_fn) if k in
                    ("value", "args", "kwargs") else v for k, v in reply.items()}
        except (ProtocolError, ValueError, TypeError, KeyError, IndexError,
                RecursionError) as exc:
            self.kill()
            raise StudentCrash(f"sent a malformed result: {exc}", None,
                               function) from None


def _encode_args(args, kwargs, worker: _Worker):
    bufs: list = []

    def on_other(obj):
        if isinstance(obj, RemoteObject):
            if obj._worker is not worker:
                raise TypeError("a remote object can only go back to the module "
                                "that created it")
            if obj._generation != worker.generation:
                raise StudentCrash("this object came from a worker that has since "
                                   "been restarted (after a timeout or a crash)")
            return {"h": obj._id}
        if isinstance(obj, np.random.Generator):
            raise TypeError("a numpy Generator cannot be sent to student code; pass "
                            "Rng(seed) instead (the worker builds "
                            "np.random.default_rng(seed) from it)")
        raise TypeError(f"cannot send a {type(obj).__name__} to student code; use "
                        "arrays, numbers, strings, containers, Fn(...), Rng(...) "
                        "or remote objects")

    try:
        a = encode(tuple(args), bufs, on_other)
        k = encode(dict(kwargs), bufs, on_other)
    except ProtocolError as exc:
        raise TypeError(str(exc)) from None
    return a, k, bufs


# --------------------------------------------------------------------------- proxies
class StudentModule:
    """Proxy for one student module imported in a worker process.

    Parameters
    ----------
    target_dir : str or Path
        Folder holding the student's file (``exercises/`` or ``solutions/``).
    module_name : str
        Module to import from it, e.g. ``"ch03_chain_rule"``.
    timeout : float
        Seconds allowed per call (and for importing the file).
    worker_cmd_prefix : list of str, optional
        Prepended to the worker command, e.g. a ``bwrap ...`` sandbox command line.
    preexec_fn : callable, optional
        Run in the child before exec (e.g. to set resource limits).
    env : dict, optional
        Environment of the worker (default: this process's).
    rlimits : dict, optional
        ``{"RLIMIT_AS": bytes, "RLIMIT_CPU": seconds, ...}`` applied by the worker
        after its own imports and before importing the student's file.
    startup_timeout : float
        Seconds allowed for the worker's own start (Python and numpy import).
    max_message_bytes : int
        Largest reply accepted from the worker.
    budget : float, optional
        Seconds that all calls to this module (imports and restarts included) may
        take together, so that one slow file cannot use up the time of a whole
        grading run. A call is stopped when the budget runs out, and later calls
        are not made: both raise :class:`TimeBudgetExceeded` (a
        :class:`StudentTimeout`). Calls through a :meth:`with_timeout` view with
        a longer limit are exempt. Default: no budget.

    Notes
    -----
    ``ch.name(*args)`` returns the value; ``ch.call(name, *args)`` returns a
    :class:`CallResult`; ``ch.with_timeout(60)`` is a view of the same worker with a
    different per-call limit. The worker starts on first use, and again after a
    time-out or crash. Use ``close()`` (or ``with``) to stop it.
    """

    def __init__(self, target_dir, module_name: str, timeout: float = DEFAULT_TIMEOUT,
                 worker_cmd_prefix: Sequence[str] | None = None, *,
                 preexec_fn: Callable[[], None] | None = None, env: dict | None = None,
                 rlimits: dict | None = None, startup_timeout: float = 60.0,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, python: str | None = None,
                 budget: float | None = None):
        self._worker = _Worker(target_dir, module_name, worker_cmd_prefix, preexec_fn,
                               env, rlimits, startup_timeout, max_message_bytes, python)
        self._worker.budget = None if budget is None else float(budget)
        self._timeout = float(timeout)
        self._charged = True
        weakref.finalize(self, self._worker.close)

    @property
    def module_name(self) -> str:
        """Name of the student's module."""
        return self._worker.module_name

    @property
    def path(self) -> Path:
        """Path of the student's file."""
        return Path(self._worker.target_dir) / f"{self._worker.module_name}.py"

    @property
    def timeout(self) -> float:
        """Per-call time limit of this view, in seconds."""
        return self._timeout

    def with_timeout(self, seconds: float) -> StudentModule:
        """A view sharing this worker whose calls may take up to ``seconds``.

        A view with a longer limit than this module's is for the few calls a test
        explicitly allows to be long (training a network): they are bounded by
        that limit alone and neither use nor are stopped by the ``budget``.
        """
        view = object.__new__(StudentModule)
        view._worker = self._worker
        view._timeout = float(seconds)
        view._charged = self._charged and view._timeout <= self._timeout
        return view

    def call(self, name: str, *args, **kwargs) -> CallResult:
        """Call ``name(*args, **kwargs)`` in the worker and return the full record."""
        return self._call(None, name, args, kwargs, True, name)

    @property
    def budget(self) -> float | None:
        """Seconds all calls to this module may take together (None: no limit)."""
        return self._worker.budget

    @property
    def time_spent(self) -> float:
        """Seconds spent so far in calls to this module (imports included)."""
        return self._worker.spent

    def has(self, name: str) -> bool:
        """True when the student's module defines ``name`` (imports the file)."""
        self._worker.ensure_charged(self._timeout, "", self._charged)
        return name in self._worker.names

    def names(self) -> list[str]:
        """Public names defined by the student's module."""
        self._worker.ensure_charged(self._timeout, "", self._charged)
        return list(self._worker.names)

    def restart(self) -> None:
        """Kill the worker; the next call starts a fresh one (fresh import)."""
        self._worker.close()

    def close(self) -> None:
        """Stop the worker process."""
        self._worker.close()

    def __enter__(self) -> StudentModule:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _RemoteFunction(self, name)

    def __repr__(self) -> str:
        return f"<StudentModule {self.path} timeout={self._timeout:g}s>"

    def _call(self, handle, name, args, kwargs, full, label, take=None) -> Any:
        w = self._worker
        w.ensure_charged(self._timeout, label, self._charged)
        a, k, bufs = _encode_args(args, kwargs, w)
        header = {"op": "call", "handle": handle, "name": name, "args": a,
                  "kwargs": k, "want_args": bool(full), "take": take}
        reply = w.request(header, bufs, self._timeout, label, self, self._charged)
        if not full:
            return reply["value"]
        warns = [Warned(*x) for x in reply.get("warnings", [])]
        return CallResult(reply["value"], reply.get("args", ()),
                          reply.get("kwargs", {}), warns, reply.get("stdout", ""),
                          reply.get("seconds", 0.0))

    def _getattr(self, handle, name, label):
        w = self._worker
        header = {"op": "getattr", "handle": handle, "name": name}
        return w.request(header, [], self._timeout, label, self,
                         self._charged)["value"]


class _RemoteFunction:
    """A callable standing for ``module.name`` in the worker."""

    __slots__ = ("_module", "_name")

    def __init__(self, module: StudentModule, name: str):
        self._module = module
        self._name = name

    def __call__(self, *args, **kwargs):
        return self._module._call(None, self._name, args, kwargs, False, self._name)

    def call(self, *args, **kwargs) -> CallResult:
        """Like calling it, but returns the full :class:`CallResult`."""
        return self._module._call(None, self._name, args, kwargs, True, self._name)

    def __repr__(self) -> str:
        return f"<student function {self._module.module_name}.{self._name}>"


class RemoteObject:
    """Handle to an object that lives in the worker (e.g. a fitted model).

    Attribute access and method calls are forwarded: ``model.predict(X)`` runs
    ``predict`` in the worker and returns plain data (or another handle).

    Attributes
    ----------
    remote_type : str
        ``module.QualName`` of the object's class in the worker (student-controlled,
        so informative only).
    """

    __slots__ = ("_module", "_worker", "_id", "_generation", "remote_type",
                 "_callable", "__weakref__")

    def __init__(self, module: StudentModule, oid: int, generation: int,
                 remote_type: str, is_callable: bool):
        self._module = module
        self._worker = module._worker
        self._id = oid
        self._generation = generation
        self.remote_type = remote_type
        self._callable = is_callable

    def _check(self):
        if self._generation != self._worker.generation or self._worker.proc is None:
            raise StudentCrash("this object came from a worker that has since been "
                               "restarted (after a timeout or a crash)")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self._check()
        return self._module._getattr(self._id, name, f"{self._label()}.{name}")

    def call(self, method: str, *args, **kwargs) -> CallResult:
        """Call ``method`` on the remote object and return the full record."""
        self._check()
        return self._module._call(self._id, method, args, kwargs, True,
                                  f"{self._label()}.{method}")

    def __call__(self, *args, **kwargs):
        self._check()
        return self._module._call(self._id, None, args, kwargs, False, self._label())

    def __getitem__(self, key):
        self._check()
        return self._module._call(self._id, "__getitem__", (key,), {}, False,
                                  f"{self._label()}[...]")

    def take(self, n: int) -> list:
        """Up to ``n`` next items of a remote iterator, in one round trip.

        For an iterable that is not an iterator (a list-like object), call
        ``obj.call("__iter__").value.take(n)``.
        """
        self._check()
        return self._module._call(self._id, None, (), {}, False,
                                  f"{self._label()} (iterating)", take=int(n))

    def __iter__(self):
        """Iterate a remote iterable (a generator from ``yield``), 64 items per
        round trip. Wrap it in ``itertools.islice`` to bound a runaway generator."""
        self._check()
        it = self._module._call(self._id, "__iter__", (), {}, False, self._label())
        if not isinstance(it, RemoteObject):
            raise StudentError("TypeError", "__iter__ did not return an iterator")
        count = 0
        while True:
            chunk = it.take(64)
            yield from chunk
            if len(chunk) < 64:
                return
            count += len(chunk)
            if count >= MAX_ITER_ITEMS:  # an endless generator must not fill memory
                raise StudentError(
                    "TooManyItems", f"{self._label()} yielded more than "
                    f"{MAX_ITER_ITEMS:,} items; does a loop of yours never end?",
                    function=self._label())

    def __len__(self) -> int:
        self._check()
        try:
            n = self._module._call(self._id, "__len__", (), {}, False, self._label())
        except StudentError as exc:
            if exc.is_a("AttributeError"):  # no len(): what list() etc. expect
                raise TypeError(f"remote {self._label()} has no len()") from None
            raise
        if type(n) is not int:
            raise StudentError("TypeError", "__len__ did not return an int")
        return n

    def _label(self) -> str:
        return self.remote_type.rsplit(".", 1)[-1] or "object"

    def __repr__(self) -> str:
        return f"<remote {self.remote_type or 'object'} #{self._id}>"

    def __del__(self):
        try:
            if self._generation == self._worker.generation:
                self._worker.pending_release.append(self._id)
        except Exception:
            pass
