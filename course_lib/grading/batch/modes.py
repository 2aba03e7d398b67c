"""Which sandbox works on this machine (:func:`probe`), and the limits it applies."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import course_lib

from .uids import BASE_UID


class SandboxError(RuntimeError):
    """The sandbox cannot be set up safely, so no student code is run."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student worker process (and its children).

    Attributes
    ----------
    memory_mb : int
        Memory of the whole submission, all its processes together (a cgroup,
        or the watchdog), and the address space of each (``RLIMIT_AS``), in MiB.
    cpu_seconds : int
        CPU time per process (``RLIMIT_CPU``), in seconds.
    nproc : int
        Processes and threads each worker (one chapter) and its children may
        have at once: a pids cgroup per worker or the watchdog holds it; the
        worker's user id may have :data:`~.confine.WORKERS_PER_SUBMISSION`
        times as many (``RLIMIT_NPROC``).
    fsize_mb : int
        Largest file the worker may write (``RLIMIT_FSIZE``), in MiB.
    tmp_mb : int
        Temporary space, in MiB: the size of each worker's private ``/tmp`` and
        ``/dev/shm`` (bwrap), or of everything the worker's uid writes in its
        ``TMPDIR``, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (fallback as root).
    """

    memory_mb: int = 1024
    cpu_seconds: int = 300
    nproc: int = 64
    fsize_mb: int = 16
    tmp_mb: int = 32


@dataclass(frozen=True)
class Mode:
    """The sandbox mode that works on this machine.

    Attributes
    ----------
    name : str
        ``"bwrap"`` or ``"rlimits"``.
    degraded : bool
        True when the student's code is not isolated from the file system
        and the network.
    reason : str
        One line on why this mode was chosen.
    """

    name: str
    degraded: bool
    reason: str

    def banner(self) -> str:
        """One loud line describing the mode, for stderr and summaries."""
        if not self.degraded:
            return f"sandbox: bubblewrap ({self.reason})"
        if os.geteuid() == 0:
            what = (
                f"student code runs as an unprivileged user (uid {BASE_UID}+) "
                "with resource limits, in a private temporary directory, with a "
                "read-only copy of Python, numpy and course_lib; the course "
                "folder is made private (chmod o-rwx), but every file that all "
                "users may read elsewhere stays readable, and the network is "
                "reachable")
        else:
            what = (
                "student code runs with resource limits and a clean temporary "
                "directory only; it can read and write every file this account "
                "can (solutions and tests included) and reach the network")
        return (
            f"WARNING: SANDBOX DEGRADED: {what}. Reason: {self.reason}. "
            "Install bubblewrap (apt-get install -y bubblewrap) and allow user "
            "namespaces to fix this."
        )


def budget_line(limits: Limits, kind: str | None) -> str:
    """One line on what a submission may use, for the summary."""
    how = {"cgroup": "held by the kernel (a cgroup per submission)",
           "watchdog": "checked every 0.1 s by the grader (no cgroup allowed here)"
           }.get(kind or "", "")
    return (f"Budget per submission: {limits.memory_mb} MiB of memory for all its "
            f"processes together, {limits.nproc} processes per chapter, "
            f"{limits.tmp_mb} MiB of temporary space" + (f", {how}" if how else "")
            + f"; each process at most {limits.memory_mb} MiB of address space.")


_PROBE_SCRIPT = (
    "import os, socket, sys\n"
    "sys.path.insert(0, {root!r})\n"
    "import numpy, course_lib\n"
    "assert not os.path.exists({secret!r}), 'host file visible'\n"
    "try:\n"
    "    socket.create_connection(('192.0.2.1', 9), timeout=0.5)\n"
    "except OSError:\n"
    "    pass\n"
    "print('sandbox-ok')\n"
)


@functools.cache
def probe(force: str | None = None) -> Mode:
    """Find out which sandbox mode works here (cached).

    Runs a tiny Python program through the real bwrap prefix and checks that
    it starts, imports numpy and ``course_lib`` and cannot see a file placed
    outside its binds.

    Parameters
    ----------
    force : {"bwrap", "rlimits"}, optional
        Skip the probe (default: the ``COURSE_SANDBOX`` variable, if set).

    Returns
    -------
    Mode
    """
    force = force or os.environ.get("COURSE_SANDBOX") or None
    if force not in (None, "bwrap", "rlimits"):
        raise ValueError(f"COURSE_SANDBOX must be bwrap or rlimits, got {force!r}")
    if force == "rlimits":
        return Mode("rlimits", True, "forced by COURSE_SANDBOX=rlimits")
    if shutil.which("bwrap") is None:
        return Mode("rlimits", True, "bwrap is not installed")
    if shutil.which("prlimit") is None:
        return Mode("rlimits", True, "prlimit (util-linux) is not installed")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return Mode("rlimits", True, "setpriv (util-linux) is not installed")
    from . import confine

    trial = Mode("bwrap", False, "probing")
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        student = Path(tmp) / "student"
        student.mkdir()
        secret = Path(tmp) / "secret.txt"
        secret.write_text("instructor only")
        os.chmod(tmp, 0o755)
        root = str(Path(course_lib.__file__).resolve().parents[1])
        script = _PROBE_SCRIPT.format(secret=str(secret), root=root)
        argv = confine.prefix(student, Limits(), trial, 0, "probe") + [
            sys.executable, "-c", script]
        try:
            out = subprocess.run(argv, check=False, capture_output=True, text=True,
                                 timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Mode("rlimits", True, f"bwrap failed to start: {exc}")
    if out.returncode != 0 or "sandbox-ok" not in out.stdout:
        err = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return Mode("rlimits", True, f"bwrap does not work here: {err}")
    kind = (f"as root, workers drop to uid {BASE_UID}+" if os.geteuid() == 0
            else "unprivileged user namespace")
    return Mode("bwrap", False, f"bwrap works ({kind})")
