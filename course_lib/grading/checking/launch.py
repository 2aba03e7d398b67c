"""Start the trusted pytest process of a grading run, as fast as the platform allows.

The graded tests always run in a process of their own (its own session, so the
runner can kill the whole group at the time limit; the dedicated subreaper; the
signing key on a pipe). Only *how* that process starts differs:

- ``fork``: the runner's process forks and the child calls ``pytest.main``. The
  child inherits the interpreter, numpy and pytest already imported, which is most
  of a quick check's time. Used on Linux when the runner's process has no other
  thread (``course grade``).
- ``server``: a process that has imported numpy and pytest and does nothing but
  fork such children on request (like multiprocessing's forkserver). Used on
  Linux when the runner's process has threads (a Jupyter kernel), where forking
  the process itself is not safe; started at the first run, reused after.
- ``exec``: ``python -m pytest`` in a new interpreter, everywhere else and
  whenever ``COURSE_GRADER_START=exec``.

A child is started the same way in all three cases (:func:`_child`): new session,
output to a file, the environment and working folder of the request, the key
written to a fresh pipe whose read end is ``--grading-key-fd``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..core import procs

__all__ = ["mode", "run_pytest"]

_SERVER: subprocess.Popen | None = None
_SERVER_LOCK = threading.Lock()
_PRELOAD = ("pytest", "numpy", "course_lib.grading.checking.plugin")


def mode() -> str:
    """``"fork"``, ``"server"`` or ``"exec"`` (see the module docstring)."""
    wanted = os.environ.get("COURSE_GRADER_START", "")
    if wanted == "exec" or not sys.platform.startswith("linux") or \
            not hasattr(os, "fork"):
        return "exec"
    if wanted in ("fork", "server"):
        return wanted
    return "fork" if threading.active_count() == 1 else "server"


# --------------------------------------------------------------------------- child
def _child(argv: list[str], cwd: str, env: dict, out: str, key: bytes | None) -> None:
    """In the forked child: become the pytest process of one run; never returns."""

    def pytest_run() -> int:
        procs.become_forked_child(cwd, env, stderr=out, stdout=out)
        sys.dont_write_bytecode = True
        sys.path.insert(0, cwd)  # as ``python -m pytest`` run from ``cwd`` has it
        args = argv
        if key is not None:
            r, w = os.pipe()
            os.write(w, key)
            os.close(w)
            args = [*argv, "--grading-key-fd", str(r)]
        import pytest

        return pytest.main(args)

    procs.exit_with(pytest_run)


def _fork(argv, cwd, env, out, key) -> int:
    pid = os.fork()
    if pid == 0:
        _child(argv, cwd, env, out, key)
    return pid


def _wait(pid: int, timeout: float) -> tuple[int | None, bool]:
    """Exit code (negative: killed by that signal) and whether time ran out; at
    the time limit the child's whole session is killed."""
    deadline = time.monotonic() + timeout
    pause = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() > deadline:
            _kill_session(pid)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), True
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)


def _kill_session(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# --------------------------------------------------------------------------- server
def serve() -> None:
    """The fork server's loop: one JSON request per line on stdin, answered with
    ``{"pid": n}`` when the child starts and ``{"code": n}`` when it ends."""
    for name in _PRELOAD:
        __import__(name)
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in requests:
        req = json.loads(line)
        key = bytes.fromhex(req["key"]) if req.get("key") else None
        pid = _fork(req["argv"], req["cwd"], req["env"], req["out"], key)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")


def _server() -> subprocess.Popen:
    global _SERVER
    if _SERVER is None or _SERVER.poll() is not None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
        _SERVER = subprocess.Popen(
            [sys.executable, "-c",
             "from course_lib.grading.checking.launch import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
            bufsize=1, start_new_session=True)
    return _SERVER


def _via_server(argv, cwd, env, out, key, timeout) -> tuple[int | None, bool]:
    with _SERVER_LOCK:
        server = _server()
        req = {"argv": argv, "cwd": cwd, "env": env, "out": out,
               "key": key.hex() if key else None}
        try:
            server.stdin.write(json.dumps(req) + "\n")
            pid = json.loads(server.stdout.readline())["pid"]
        except (OSError, ValueError, KeyError):
            server.kill()
            raise OSError("the grading fork server stopped") from None
        fired = threading.Event()

        def on_time() -> None:
            fired.set()
            _kill_session(pid)

        timer = threading.Timer(timeout, on_time)
        timer.start()
        try:
            code = json.loads(server.stdout.readline())["code"]
        except (OSError, ValueError, KeyError):
            server.kill()
            raise OSError("the grading fork server stopped") from None
        finally:
            timer.cancel()
        return code, fired.is_set()


# --------------------------------------------------------------------------- entry
def run_pytest(argv: list[str], cwd: Path, env: dict, timeout: float,
               key: bytes | None, out: Path) -> tuple[int | None, str, bool]:
    """Run ``pytest argv`` as the trusted process of one grading run.

    Returns
    -------
    code : int or None
        pytest's exit code; negative when killed by a signal.
    output : str
        What pytest printed.
    timed_out : bool
        True when the run hit ``timeout`` and was killed.
    """
    how = mode()
    if how == "exec":
        return _exec(argv, cwd, env, timeout, key)
    args = (argv, str(cwd), dict(env), str(out), key)
    if how == "fork":
        code, timed_out = _wait(_fork(*args), timeout)
    else:
        code, timed_out = _via_server(*args, timeout)
    text = out.read_text(errors="replace") if out.exists() else ""
    return code, text, timed_out


def _exec(argv, cwd, env, timeout, key) -> tuple[int | None, str, bool]:
    fds: tuple = ()
    if key is not None:
        r, w = os.pipe()
        os.write(w, key)
        os.close(w)
        argv, fds = [*argv, "--grading-key-fd", str(r)], (r,)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            pass_fds=fds)
    for fd in fds:
        os.close(fd)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace"), False
    except subprocess.TimeoutExpired:
        _kill_session(proc.pid)
        out, _ = proc.communicate()
        return proc.returncode, out.decode("utf-8", "replace"), True
