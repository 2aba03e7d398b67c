"""Find and kill what a submission left: by the token in its environment, by group."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ..core.procs import kill_pids

#: Name of the environment variable that marks every sandboxed process, so
#: that :func:`reap` can find and kill anything a submission left behind.
TOKEN_VAR = "COURSE_SANDBOX_TOKEN"


def processes_with_token(token: str, prefix: bool = False) -> list[int]:
    """PIDs of live processes whose environment carries ``token``.

    Parameters
    ----------
    token : str
    prefix : bool
        Match every token that starts with ``token``.

    Returns
    -------
    list of int
    """
    needle = f"{TOKEN_VAR}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue
        variables = env.split(b"\0")
        if needle in variables or (prefix and any(
                v.startswith(needle) for v in variables)):
            found.append(int(entry.name))
    return found


def reap(token: str) -> int:
    """Kill (SIGKILL) every process whose environment carries ``token``.

    Parameters
    ----------
    token : str

    Returns
    -------
    int
        How many processes were killed.
    """
    killed = 0
    for _ in range(5):
        pids = processes_with_token(token)
        if not pids:
            break
        killed += kill_pids(pids)
        time.sleep(0.05)
    return killed


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group, ignoring one that is already gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
