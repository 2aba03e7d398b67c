"""Processes: scanning ``/proc``, killing and reaping, naming signals.

Linux only where ``/proc`` is read; elsewhere the scans find nothing.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

__all__ = ["become_forked_child", "become_subreaper", "children_of",
           "descendants_of", "exit_with", "kill_pids", "parents", "processes",
           "set_dumpable", "signal_name"]

_PR_GET_DUMPABLE, _PR_SET_DUMPABLE = 3, 4
_PR_SET_CHILD_SUBREAPER = 36


def signal_name(num: int) -> str:
    """``"SIGKILL"`` for 9; ``"signal 99"`` for a number with no name."""
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _parent_of(stat: bytes) -> int | None:
    """The parent pid in the text of ``/proc/PID/stat`` (after the command name,
    which may itself hold spaces and parentheses)."""
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def processes() -> dict[int, Path]:
    """Every pid visible in ``/proc``, mapped to its ``/proc/PID`` folder."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    return {int(n): Path("/proc", n) for n in entries if n.isdigit()}


def parents() -> dict[int, int]:
    """``{pid: parent pid}`` of every process visible in ``/proc``."""
    out = {}
    for pid, folder in processes().items():
        try:
            ppid = _parent_of((folder / "stat").read_bytes())
        except OSError:
            continue
        if ppid is not None:
            out[pid] = ppid
    return out


def children_of(pid: int | None = None) -> list[int]:
    """Live children of ``pid`` (default: this process)."""
    me = os.getpid() if pid is None else pid
    return [p for p, ppid in parents().items() if ppid == me]


def descendants_of(pid: int) -> list[int]:
    """Live descendants of ``pid``: children, their children, and so on."""
    tree: dict[int, list[int]] = {}
    for child, parent in parents().items():
        tree.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def kill_pids(pids: Iterable[int], reap: bool = False) -> int:
    """SIGKILL every process in ``pids`` (those already gone are skipped).

    With ``reap=True`` also wait for them, so that children of this process leave
    no zombies. Returns how many were signalled.
    """
    pids = list(pids)
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


def prctl(option: int, arg: int = 0) -> int | None:
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
    before = prctl(_PR_GET_DUMPABLE)
    if before is None or prctl(_PR_SET_DUMPABLE, 1 if flag else 0) is None:
        return None
    return bool(before)


def become_subreaper() -> bool:
    """Adopt orphaned descendants of this process (Linux ``PR_SET_CHILD_SUBREAPER``).

    A process that leaves its parent's process group and is orphaned is
    reparented here instead of to init, so :func:`children_of` still finds it.
    Returns True when enabled.
    """
    return prctl(_PR_SET_CHILD_SUBREAPER, 1) is not None


def become_forked_child(cwd: str, env: dict, stderr: str,
                        stdout: str | None = None) -> None:
    """Turn a freshly forked process into a new run: what starting one would give.

    A session of its own; stdin from ``/dev/null``; stderr to the file
    ``stderr`` and stdout to ``stdout`` (the same file when the paths are
    equal, ``/dev/null`` when None), both created private (0600) and
    truncated; Python's streams reopened on those descriptors (line
    buffered); the working folder ``cwd``; exactly the environment ``env``.
    """
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stdout is None:
        out = null
    elif stdout == stderr:
        out = err
    else:
        out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in {null, out, err}:
        os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False, buffering=1)
    sys.stderr = open(2, "w", closefd=False, buffering=1)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)


def exit_with(body: Callable[[], int]) -> NoReturn:
    """End a forked child with the exit code of ``body()``, never returning.

    Anything ``body`` raises is printed to stderr (exit code 3); the streams
    are flushed and the child leaves with ``os._exit``, so nothing of the
    parent's (atexit hooks, its buffers) runs twice.
    """
    code = 3
    try:
        code = int(body())
    except BaseException:  # noqa: BLE001  (anything: report it, as a new run would)
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
