"""How the batch starts each submission's trusted grader: forked from a warm server.

A submission's grader (:mod:`.child`) used to be a new interpreter that then
imported the grader, pytest, numpy and the graded tests' dependencies
(scikit-learn's digits), a second or more of CPU per submission spent on the
same imports. A :class:`GraderServer` (one per worker slot) is a process that
has done those imports once and forks one grader per request
(:func:`.child.serve`): the grader still runs in a process and a session of
its own, with everything it had before; only the imports are shared, and
they happen before any student code exists.

Where ``fork`` is not available, or with ``COURSE_GRADER_START=exec``,
:func:`run_grader` starts a new interpreter per submission as before.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .reaping import kill_group

CHILD = "course_lib.grading.batch.child"


def forking() -> bool:
    """True when graders are forked from a server (Linux, unless
    ``COURSE_GRADER_START=exec``)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and os.environ.get("COURSE_GRADER_START", "") != "exec")


class ServerDied(OSError):
    """The grader server stopped answering (it is restarted for the next one)."""


class GraderServer:
    """One warm process that forks a submission's grader per request.

    Parameters
    ----------
    env : dict
        The server's environment (each request brings its grader's own).
    """

    def __init__(self, env: dict):
        self.env = dict(env)
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self._buffer = b""

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self._buffer = b""
            self.proc = subprocess.Popen(
                [sys.executable, "-m", CHILD, "--serve"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env,
                start_new_session=True, bufsize=0)
        return self.proc

    def _reply(self, deadline: float | None) -> dict:
        """The server's next line, waiting until ``deadline`` (None: forever);
        raises TimeoutError at the deadline, ServerDied when it is gone."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:  # (both replies may come in one read)
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 4096)
            if not chunk:
                raise ServerDied("the grader server stopped")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            raise ServerDied("the grader server sent a malformed reply") from None

    def run(self, argv: list[str], cwd: Path, env: dict, stderr: Path,
            timeout: float) -> tuple[int | None, bool]:
        """Grade with ``argv`` (arguments of :func:`.child.parser`) in a forked
        grader; ``(exit code, timed out)``. At ``timeout`` the grader's whole
        session is killed."""
        with self.lock:
            proc = self._start()
            req = {"argv": list(argv), "cwd": str(cwd), "env": dict(env),
                   "stderr": str(stderr)}
            try:
                os.write(proc.stdin.fileno(), (json.dumps(req) + "\n").encode())
                pid = int(self._reply(time.monotonic() + 60)["pid"])
            except (OSError, TimeoutError, KeyError, ValueError, TypeError):
                self.close()
                raise ServerDied("the grader server did not start a grader") from None
            timed_out = False
            try:
                try:
                    code = self._reply(time.monotonic() + timeout)["code"]
                except TimeoutError:
                    timed_out = True
                    kill_group(pid)
                    code = self._reply(time.monotonic() + 60)["code"]
            except (OSError, TimeoutError, KeyError, ValueError, TypeError):
                kill_group(pid)
                self.close()
                raise ServerDied("the grader server stopped while grading") from None
            return code, timed_out

    def close(self) -> None:
        """Stop the server (the graders it forked are waited for by then)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        proc.stdout.close()


def run_grader(argv: list[str], cwd: Path, env: dict, stderr: Path, timeout: float,
               server: GraderServer | None) -> tuple[int | None, bool]:
    """Run a submission's grader, from ``server`` or as a new interpreter;
    ``(exit code, timed out)``; its stderr goes to the file ``stderr``."""
    if server is not None:
        return server.run(argv, cwd, env, stderr, timeout)
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", CHILD, *argv],
                                stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env=env, cwd=str(cwd))
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        return proc.wait(), True
