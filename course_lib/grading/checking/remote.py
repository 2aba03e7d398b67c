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

import os
import signal
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

from course_lib.grading.checking.problems import (
    ImportFailed,
    MissingFunction,
    NotAttempted,
    ResultRefused,
    StudentCrash,
    StudentError,
    StudentProblem,
    StudentTimeout,
    TimeBudgetExceeded,
    WorkerStartError,
)
from course_lib.grading.checking.replies import check_reply
from course_lib.grading.checking.wire import (  # noqa: F401  (part of this API)
    MAX_HEADER_BYTES,
    MAX_MESSAGE_BYTES,
    DecodeLimitError,
    DecodeLimits,
    Fn,
    ProtocolError,
    Rng,
    decode,
    decode_fields,
    encode,
    pack,
    write_all,
)
from course_lib.grading.checking.wire import Reader as _Reader
from course_lib.grading.core import procs
from course_lib.grading.core.paths import package_parent
from course_lib.grading.core.procs import (  # noqa: F401  (part of this API)
    children_of,
    kill_pids,
    set_dumpable,
    signal_name,
)

__all__ = [
    "CallResult",
    "Fn",
    "ImportFailed",
    "MissingFunction",
    "NotAttempted",
    "RemoteObject",
    "ResultRefused",
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
#: most items that iterating a remote object in the parent will fetch
MAX_ITER_ITEMS = 1_000_000



# --------------------------------------------------------------------------- values
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


# --------------------------------------------------------------------------- processes
#: every _Worker of this process (their live worker pids are never "strays")
_LIVE_WORKERS: weakref.WeakSet = weakref.WeakSet()
_reaping = False


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
    _reaping = procs.become_subreaper()
    return _reaping


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
        strays = [pid for pid in children_of() if pid not in keep]
        if not strays:
            break
        killed += kill_pids(strays, reap=True)
    return killed


# --------------------------------------------------------------------------- worker
#: refuse graded code that imports course_lib's engine, i.e. every part of
#: ``course_lib`` but ``course_lib.grading`` (see engine_guard); the learner's own
#: chapter files, numpy and the standard library stay importable
#: (``COURSE_REFUSE_ENGINE=0`` turns it off for one run)
REFUSE_ENGINE = True

# the package is put in place without running its __init__ (the engine): the
# worker loads the engine only if the student's code uses it (engine_guard)
_BOOT = ("import sys;sys.dont_write_bytecode=True;sys.path.insert(0,{root!r});"
         "import importlib.util as u;s=u.find_spec('course_lib');"
         "sys.modules['course_lib']=u.module_from_spec(s);"
         "from course_lib.grading.checking.worker import main;main({root!r})")


def _boot() -> str:
    return _BOOT.format(root=str(package_parent()))


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
        self.limits = DecodeLimits(max_bytes=max_message_bytes,
                                   max_array_bytes=max_message_bytes)
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
        self.ready = False  # True once the worker has imported the student's file
        self.errors = self.cmd = None
        flag = os.environ.get("COURSE_REFUSE_ENGINE", "")
        self.refuse_engine = flag == "1" or (REFUSE_ENGINE and flag != "0")
        self.path_before: list[str] = []
        _LIVE_WORKERS.add(self)

    # -- lifecycle -----------------------------------------------------------------
    def _launch(self) -> None:
        """Start the worker process (it imports Python and numpy on its own)."""
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # -I ignores PYTHONDONTWRITEBYTECODE: -B keeps the student's folder free of
        # __pycache__ (grading must leave the target exactly as it found it)
        cmd = self.prefix + [self.python, "-I", "-B", "-c",
                             _boot()]
        # the worker points fd 2 elsewhere once started; before that (a broken
        # interpreter or sandbox) its errors land in this file, shown on failure
        errors = self.errors = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                env=env, cwd=self.target_dir, start_new_session=True,
                preexec_fn=self.preexec_fn, bufsize=0)
        except OSError as exc:
            errors.close()
            raise WorkerStartError(f"the grading worker could not be started: {exc}; "
                               f"command: {cmd}") from None
        self.reader = _Reader(self.proc.stdout.fileno(), self.limit, self.limits)
        self.generation += 1
        self.pending_release = []
        self.cmd = cmd

    def prestart(self) -> None:
        """Start the process now and meet it later (:meth:`ensure`), so that its
        start overlaps with whatever the grader does meanwhile."""
        with self.lock:
            if self.proc is None and self.import_problem is None:
                self._launch()

    def _spawn(self, timeout: float) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self._launch()
        self._handshake(timeout)

    def _handshake(self, timeout: float) -> None:
        """Wait for the worker's hello, then have it import the student's file."""
        errors, cmd = self.errors, self.cmd
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
                "limit": self.limit, "refuse_engine": self.refuse_engine,
                "path_before": self.path_before}
        try:
            reply = self._roundtrip(init, time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            self.import_problem = StudentTimeout(timeout, importing=True)
            raise self.import_problem from None
        except (EOFError, ProtocolError) as exc:
            self.import_problem = self._crash(exc, "")
            raise self.import_problem from None
        try:
            check_reply(reply)
        except ProtocolError as exc:
            self.import_problem = self._crash(exc, "")
            raise self.import_problem from None
        if not reply.get("ok"):
            self.import_problem = self._problem(reply, "")
            self.kill()
            raise self.import_problem
        self.names = list(reply.get("names", []))
        self.ready = True

    def ensure(self, timeout: float) -> None:
        if self.import_problem is not None:
            raise self.import_problem
        if self.proc is None or self.proc.poll() is not None or not self.ready:
            self._spawn(timeout)

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        self.ready = False
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
        if isinstance(exc, ProtocolError):  # alive and misbehaving: no exit to wait for
            self.kill()
            if isinstance(exc, DecodeLimitError):
                return ResultRefused(str(exc), function)
            return StudentCrash(f"broke the grading protocol: {exc}", None, function)
        proc = self.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.kill()
        if code is None:
            return StudentCrash("the worker stopped answering", None, function)
        if code < 0:
            name = signal_name(-code)
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
            if self.proc is not None and self.ready and self.import_problem is None:
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
        try:
            check_reply(reply)
        except ProtocolError as exc:
            raise self._crash(exc, function) from None
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
            return decode_fields(reply, ("value", "args", "kwargs"), bufs, on_handle,
                                 on_fn, limits=self.limits, deadline=deadline)
        except DecodeLimitError as exc:
            self.kill()
            raise ResultRefused(str(exc), function) from None
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
    refuse_engine : bool, optional
        Make importing ``course_lib``'s engine (every part of ``course_lib``
        but ``course_lib.grading``) from the student's file fail with a message
        saying what is refused and why (see
        :data:`~course_lib.grading.checking.engine_guard.MESSAGE`); the
        learner's own chapter files stay importable. Default:
        :data:`REFUSE_ENGINE` (on).
    path_before : sequence of str
        Folders the worker puts on ``sys.path`` before ``target_dir``, so that
        the modules they hold shadow the student's files of the same name (the
        graded tests supply reference modules of earlier chapters this way). A
        folder the worker cannot see or read (a sandbox) is skipped by Python's
        import system, and the student's own files are used.

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
                 budget: float | None = None, refuse_engine: bool | None = None,
                 path_before: Sequence[str] = ()):
        self._worker = _Worker(target_dir, module_name, worker_cmd_prefix, preexec_fn,
                               env, rlimits, startup_timeout, max_message_bytes, python)
        self._worker.path_before = [str(p) for p in path_before]
        self._worker.budget = None if budget is None else float(budget)
        if refuse_engine is not None:
            self._worker.refuse_engine = bool(refuse_engine)
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

    def prestart(self) -> None:
        """Start the worker process now, without waiting for it: the first call
        (or :meth:`has`) meets it, so its start overlaps with other work."""
        self._worker.prestart()

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
