"""The child side of :mod:`course_lib.grading.checking.remote`: runs student code.

Started by :class:`~course_lib.grading.checking.remote.StudentModule` as
``python -I -B -c "...; from course_lib.grading.checking.worker import main;
main(root)"``
(``python -m course_lib.grading.checking.worker`` works as well; ``-B`` because ``-I``
ignores ``PYTHONDONTWRITEBYTECODE`` and grading must not leave ``__pycache__``
in the student's folder). It

1. moves the protocol pipes away from file descriptors 0 and 1, points fd 0 at
   ``/dev/null`` and fds 1 and 2 at a pipe drained by a thread, and replaces
   ``sys.stdout``/``sys.stderr`` with a capped in-memory buffer, so that nothing the
   student prints can corrupt the protocol, block, or fill memory;
2. keeps only the student's folder on ``sys.path`` (not the repository root, so
   ``solutions/`` and ``tests/`` cannot be imported);
3. answers ``import``, ``call`` and ``getattr`` requests, running every call under
   ``warnings.catch_warnings(record=True)`` with ``simplefilter("always")`` and
   ``np.errstate(all="warn")``, and catching every exception (``SystemExit``
   included) to report it as data.

Nothing here is trusted by the parent: replies are decoded as plain data only.
"""

from __future__ import annotations

import importlib
import io
import itertools
import os
import sys
import threading
import time
import traceback
import warnings

# bound now: a student's module may monkeypatch os, time or threading later, and
# the parent watcher below must still be able to end this process
_exit = os._exit
_getppid = os.getppid
_sleep = time.sleep

_STDOUT_CAP = 20_000
_ARRAY_HOOKS = ("__array__", "__array_interface__", "__array_struct__")
_MAX_WARNINGS = 50


class _Capture(io.TextIOBase):
    """A write-only text stream that keeps the first ``cap`` characters."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, cap: int = _STDOUT_CAP):
        super().__init__()
        self.cap = cap
        self.parts: list[str] = []
        self.n = 0

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1

    def flush(self) -> None:
        pass

    def close(self) -> None:  # students closing sys.stdout must not break grading
        pass

    def write(self, s) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        n = len(s)
        if self.n < self.cap:
            self.parts.append(s[: self.cap - self.n])
        self.n += n
        return n

    def take(self) -> str:
        text = "".join(self.parts)
        if self.n > self.cap:
            text += f"\n... [{self.n - self.cap} more characters not shown]"
        self.parts, self.n = [], 0
        return text


class _Worker:
    def __init__(self, proto_in: int, proto_out: int, capture: _Capture):
        from course_lib.grading.checking import wire

        self.wire = wire
        self.fin = proto_in
        self.fout = proto_out
        self.capture = capture
        self.module = None
        self.target_dir = ""
        self.handles: dict[int, object] = {}
        self.ids = itertools.count(1)
        self.limit = wire.MAX_MESSAGE_BYTES
        # the grader's requests are trusted: no bounds but the pipe's
        self.reader = wire.Reader(proto_in, 1 << 40, wire.NO_LIMITS)

    # -- wire ----------------------------------------------------------------------
    def send(self, header: dict, bufs=()) -> None:
        data = self.wire.pack(header, list(bufs))
        hlen = int.from_bytes(data[:4], "little")
        if len(data) > self.limit or hlen > self.wire.MAX_HEADER_BYTES:
            data = self.wire.pack(self._error_reply(
                "UnsupportedResult", f"the result is {len(data) / 1e6:.0f} MB, more "
                f"than the grader accepts (return numpy arrays rather than long "
                "lists, and only what the exercise asks for)"), [])
        self.wire.write_all(self.fout, data)

    @staticmethod
    def _duck_array(obj):
        """``obj`` as a plain numeric ndarray when it says it is array-like (it has
        ``__array__`` or an array interface), else None. The conversion runs once,
        here: the parent gets a snapshot of numbers, never an object that could
        answer differently each time it is asked."""
        import numpy as np

        if not any(hasattr(type(obj), name) for name in _ARRAY_HOOKS):
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.asarray(obj)
        except BaseException:
            return None
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc":
            return None
        return np.ndarray.view(arr, np.ndarray)

    def on_other(self, obj) -> dict:
        oid = next(self.ids)
        self.handles[oid] = obj
        t = type(obj)
        return {"r": oid, "ty": f"{t.__module__}.{t.__qualname__}",
                "c": bool(callable(obj))}

    def decode(self, node, bufs):
        def on_handle(n):
            if "h" not in n:
                raise self.wire.ProtocolError("unexpected handle")
            try:
                return self.handles[int(n["h"])]
            except KeyError:
                raise self.wire.ProtocolError("unknown remote object") from None

        def on_fn(name):
            from course_lib.grading.checking import testfns

            fn = getattr(testfns, name, None)
            if fn is None or name.startswith("_"):
                raise self.wire.ProtocolError(f"testfns has no function {name!r}")
            return fn

        def on_rng(seed):
            import numpy as np

            return np.random.default_rng(seed)

        return self.wire.decode(node, bufs, on_handle, on_fn, on_rng=on_rng,
                                  limits=self.wire.NO_LIMITS)

    # -- replies -------------------------------------------------------------------
    def _student_frames(self, tb) -> list:
        root = self.target_dir + os.sep
        frames = []
        for fs in traceback.extract_tb(tb):
            try:
                real = os.path.realpath(fs.filename)
            except (OSError, ValueError):
                continue
            if real.startswith(root):
                frames.append(fs)
        return frames

    def _format_frames(self, frames) -> str:
        out = []
        for fs in frames[-5:]:
            rel = os.path.relpath(os.path.realpath(fs.filename), self.target_dir)
            out.append(f'  File "{rel}", line {fs.lineno}, in {fs.name}')
            if fs.line:
                out.append(f"    {fs.line.strip()}")
        return "\n".join(out)

    @staticmethod
    def _message(exc: BaseException) -> str:
        try:
            text = str(exc)
        except BaseException:
            text = "<the exception's message could not be printed>"
        return text if len(text) <= 1000 else text[:1000] + " ..."

    def _error_reply(self, type_name: str, message: str, tb: str = "",
                     mro=()) -> dict:
        return {"ok": False, "kind": "error", "type": type_name, "message": message,
                "traceback": tb, "mro": list(mro) or [type_name]}

    def _exception_reply(self, exc: BaseException) -> dict:
        if isinstance(exc, NotImplementedError):
            return {"ok": False, "kind": "not_attempted", "message": self._message(exc)}
        frames = self._student_frames(exc.__traceback__)
        mro = [c.__name__ for c in type(exc).__mro__]
        if isinstance(exc, SystemExit):
            return self._error_reply("SystemExit", f"sys.exit({exc.code!r}) was called",
                                     self._format_frames(frames), mro)
        return self._error_reply(type(exc).__name__, self._message(exc),
                                 self._format_frames(frames), mro)

    # -- requests ------------------------------------------------------------------
    def op_import(self, msg: dict, bufs) -> dict:
        self.target_dir = os.path.realpath(msg["target_dir"])
        name = msg["module"]
        _apply_rlimits(msg.get("rlimits") or {})
        if msg.get("refuse_engine"):
            from course_lib.grading.checking import engine_guard

            engine_guard.install()
        if "limit" in msg:
            self.limit = int(msg["limit"])
        path = os.path.join(self.target_dir, name + ".py")
        if not os.path.isfile(path):
            return {"ok": False, "kind": "import", "type": "FileNotFoundError",
                    "message": f"there is no {name}.py in {self.target_dir}"}
        sys.path.insert(0, self.target_dir)
        for folder in reversed(msg.get("path_before") or []):
            sys.path.insert(0, str(folder))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.module = importlib.import_module(name)
        except SyntaxError as exc:
            return {"ok": False, "kind": "import", "type": type(exc).__name__,
                    "message": str(exc.msg), "lineno": exc.lineno,
                    "line": (exc.text or "").rstrip("\n")[:200]}
        except SystemExit as exc:
            return {"ok": False, "kind": "exit_at_import", "code": repr(exc.code)}
        except BaseException as exc:
            frames = [f for f in self._student_frames(exc.__traceback__)
                      if os.path.realpath(f.filename) == os.path.realpath(path)]
            last = frames[-1] if frames else None
            return {"ok": False, "kind": "import", "type": type(exc).__name__,
                    "message": self._message(exc),
                    "lineno": last.lineno if last else None,
                    "line": (last.line or "") if last else "",
                    "traceback": self._format_frames(
                        self._student_frames(exc.__traceback__))}
        finally:
            self.capture.take()
        names = sorted(n for n in vars(self.module) if not n.startswith("_"))
        return {"ok": True, "names": names}

    def _target(self, msg: dict):
        h = msg.get("handle")
        if h is None:
            return self.module
        try:
            return self.handles[int(h)]
        except KeyError:
            raise LookupError("that remote object no longer exists") from None

    def op_getattr(self, msg: dict, bufs):
        try:
            value = getattr(self._target(msg), msg["name"])
        except BaseException as exc:
            return self._exception_reply(exc), []
        return self._encode_reply({"ok": True}, {"value": value})

    def op_call(self, msg: dict, bufs):
        import numpy as np

        fn, refusal = self._callee(msg)
        if refusal is not None:
            return refusal, []
        args = self.decode(msg["args"], bufs)
        kwargs = self.decode(msg["kwargs"], bufs)
        self.capture.take()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(all="warn"):
                t0 = time.perf_counter()
                try:
                    value = fn(*args, **kwargs)
                    error = None
                except BaseException as exc:  # SystemExit too: reported, not obeyed
                    error = exc
                seconds = time.perf_counter() - t0
        stdout = self.capture.take()
        if error is not None:
            reply = self._exception_reply(error)
            reply["stdout"] = stdout
            return reply, []
        head = {"ok": True, "warnings": self._warning_rows(caught), "stdout": stdout,
                "seconds": seconds}
        parts = {"value": value}
        if msg.get("want_args"):
            parts["args"] = tuple(args)
            parts["kwargs"] = dict(kwargs)
        return self._encode_reply(head, parts)

    def _callee(self, msg: dict):
        """``(fn, None)``: what a call message calls; ``(None, reply)`` when the
        name cannot be had (missing from the module, or its lookup raised)."""
        target = self._target(msg)
        name = msg.get("name")
        if msg.get("take") is not None:  # up to n items of an iterable, one trip
            n = int(msg["take"])

            def fn():
                return list(itertools.islice(target, n))
            return fn, None
        if name is None:
            return target, None
        if msg.get("handle") is None:
            try:  # a module-level __getattr__ of the student's runs here
                fn = getattr(target, name, None)
            except BaseException as exc:
                return None, self._exception_reply(exc)
            if fn is None:
                return None, {"ok": False, "kind": "missing", "name": name}
            return fn, None
        try:
            return getattr(target, name), None
        except BaseException as exc:
            return None, self._exception_reply(exc)

    def _warning_rows(self, caught) -> list:
        """``[category, message, file name, line]`` of the first warnings caught."""
        warns = []
        for w in caught[:_MAX_WARNINGS]:
            try:
                warns.append([getattr(w.category, "__name__", "Warning"),
                              self._message(w.message)[:300],
                              os.path.basename(str(w.filename)), int(w.lineno or 0)])
            except BaseException:
                continue
        return warns

    def _encode_reply(self, head: dict, parts: dict):
        bufs: list = []

        def on_other(obj):
            arr = self._duck_array(obj)
            if arr is not None:
                return self.wire.encode(arr, bufs, self.on_other)
            return self.on_other(obj)

        try:
            for key, val in parts.items():
                head[key] = self.wire.encode(val, bufs, on_other)
        except self.wire.ProtocolError as exc:
            return self._error_reply("UnsupportedResult", str(exc)), []
        except BaseException as exc:
            return self._error_reply(
                "UnsupportedResult",
                f"the result could not be sent back: {type(exc).__name__}: "
                f"{self._message(exc)}"), []
        return head, bufs

    def serve(self) -> None:
        self.send({"ready": True, "pid": os.getpid()})
        while True:
            try:
                msg, bufs = self.reader.read()
            except EOFError:
                _exit(0)
            for oid in msg.pop("release", ()) or ():
                self.handles.pop(oid, None)
            op = msg.get("op")
            try:
                if op == "import":
                    reply, rbufs = self.op_import(msg, bufs), []
                elif op == "call":
                    reply, rbufs = self.op_call(msg, bufs)
                elif op == "getattr":
                    reply, rbufs = self.op_getattr(msg, bufs)
                else:
                    reply, rbufs = self._error_reply("ProtocolError",
                                                     f"unknown op {op!r}"), []
            except BaseException as exc:
                reply, rbufs = self._error_reply(
                    "GraderError", f"{type(exc).__name__}: {self._message(exc)}"), []
            self.send(reply, rbufs)


def _apply_rlimits(limits: dict) -> None:
    if not limits:
        return
    import resource

    for name, value in limits.items():
        res = getattr(resource, str(name), None)
        if res is None:
            continue
        soft = int(value)
        _, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(res, (soft, hard))


def _drain(fd: int, capture: _Capture) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        try:
            capture.write(chunk.decode("utf-8", "replace"))
        except Exception:
            pass


def _watch_parent(parent: int) -> None:
    while True:
        _sleep(0.5)
        if _getppid() != parent:
            _exit(0)


def _pin_fp_errors(np) -> None:
    """Floating-point errors stay visible in graded calls: a student's
    ``np.errstate(...="ignore")`` or ``np.seterr(...="ignore")`` warns instead
    (stricter settings such as ``"raise"`` are kept), so that a test that
    checks a call for overflow sees it even when the code silences it.
    numpy's own uses (``np.nanmean`` silences what it handles) are obeyed."""
    def pinned(kwargs: dict) -> dict:
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller == "numpy" or caller.startswith("numpy."):
            return kwargs
        return {k: "warn" if v == "ignore" else v for k, v in kwargs.items()}

    class errstate(np.errstate):  # noqa: N801  (numpy's own name)
        def __init__(self, **kwargs):
            super().__init__(**pinned(kwargs))

    seterr = np.seterr

    def pinned_seterr(**kwargs):
        return seterr(**pinned(kwargs))

    np.errstate, np.seterr = errstate, pinned_seterr


def main(root: str | None = None) -> None:
    """Serve requests on stdin/stdout until the parent closes the pipe."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    r, w = os.pipe()
    os.dup2(w, 1)
    os.dup2(w, 2)
    os.close(w)
    capture = _Capture()
    sys.stdout = sys.stderr = capture
    sys.stdin = io.StringIO("")
    threading.Thread(target=_drain, args=(r, capture), daemon=True).start()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    import numpy  # (imported before the student's code can touch it)

    _pin_fp_errors(numpy)

    from course_lib.grading.checking import engine_guard

    engine_guard.lazy_engine()

    worker = _Worker(proto_in, proto_out, capture)
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path
                   if p not in ("", ".", cwd) and (root is None or
                                                  os.path.realpath(p) !=
                                                  os.path.realpath(root))]
    worker.serve()


if __name__ == "__main__":
    from course_lib.grading.core.paths import package_parent

    main(str(package_parent()))
