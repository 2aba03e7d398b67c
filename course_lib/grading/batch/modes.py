"""The sandbox's vocabulary: the limits it applies (:class:`Limits`), the mode that
works on this machine (:class:`Mode`, found by :func:`.probe.probe`), and
:class:`SandboxError`."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
