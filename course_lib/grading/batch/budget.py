"""A submission's resource budget, held across all of its processes.

``RLIMIT_AS`` and ``RLIMIT_NPROC`` bound one process, or one user id; a
submission has a worker per chapter and each worker may start children, so
per-process limits alone add up to many times what the instructor asked for.
A :class:`Budget` bounds the submission as a whole:

- **memory**: all of the submission's processes together (their resident
  memory, and in a cgroup also the files they write to memory-backed
  ``/tmp`` or ``/dev/shm``) stay below ``memory_mb``;
- **processes**: each worker (one chapter) and its children hold at most
  ``nproc`` processes, so children left alive by one chapter never cost
  another chapter its own.

Where the machine lets the grader make cgroups (cgroup v2 with the memory
controller delegated to its cgroup, or the v1 ``memory`` and ``pids``
hierarchies, as root) the kernel enforces both: a worker command joins the
submission's cgroup before it starts (:meth:`Budget.wrap`). Elsewhere a
:class:`~.watchdog.Watchdog` in the grader sums the memory (PSS) of the
submission's processes a few times a second and stops them all when they
pass the budget; see its notes for what that guarantees.

A grader that is killed (SIGKILL, a crash, a lost machine) cannot remove its
submissions' cgroups; the next batch's probe (:func:`available`) removes
those whose grader is gone, with any process still in them
(:func:`sweep_stale`).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")

#: Joins the cgroups named by its first arguments, then runs the worker.
#: ``$1`` memory ``cgroup.procs`` file or ``-``; ``$2`` folder under which each
#: worker gets a pids cgroup of its own, or ``-``; ``$3`` that cgroup's limit.
JOIN_SCRIPT = (
    'm=$1; p=$2; n=$3; shift 3; '
    'if [ "$m" != - ]; then echo $$ > "$m" || exit 125; fi; '
    'if [ "$p" != - ]; then d="$p/w$$"; mkdir "$d" && echo "$n" > "$d/pids.max" '
    '&& echo $$ > "$d/cgroup.procs" || exit 125; fi; '
    'exec "$@"')


@dataclass
class Cgroups:
    """The cgroups of one submission (created by :func:`make_cgroups`).

    Attributes
    ----------
    version : int
        1 (separate ``memory`` and ``pids`` hierarchies) or 2 (unified).
    memory : Path or None
        The cgroup whose memory limit is the budget.
    pids : Path or None
        The folder holding one pids cgroup per worker (``w<pid>``).
    """

    version: int
    memory: Path | None
    pids: Path | None
    made: list = field(default_factory=list)

    def join_args(self, nproc: int) -> list[str]:
        """``sh -c JOIN_SCRIPT`` arguments to put before a worker command."""
        if self.version == 2 and self.memory is not None:
            procs = "-" if self.pids is not None else str(self.memory / "cgroup.procs")
        else:
            procs = str(self.memory / "cgroup.procs") if self.memory else "-"
        return ["/bin/sh", "-c", JOIN_SCRIPT, "course-budget", procs,
                str(self.pids) if self.pids else "-", str(nproc)]

    def pids_in(self) -> set[int]:
        """Every process in the submission's cgroups."""
        found: set[int] = set()
        for group in self._groups():
            try:
                text = (group / "cgroup.procs").read_text()
            except OSError:
                continue
            found.update(int(p) for p in text.split())
        return found

    def _groups(self) -> list[Path]:
        groups = [g for g in (self.memory, self.pids) if g is not None]
        for parent in [g for g in groups]:
            try:
                groups += [c for c in parent.iterdir() if c.is_dir()]
            except OSError:
                pass
        return groups

    def memory_events(self) -> tuple[int, int]:
        """``(peak bytes, processes the kernel killed for memory)``."""
        if self.memory is None:
            return 0, 0
        if self.version == 1:
            peak = _read_int(self.memory / "memory.max_usage_in_bytes")
            kills = _key_value(self.memory / "memory.oom_control").get("oom_kill", 0)
        else:
            peak = _read_int(self.memory / "memory.peak")
            kills = _key_value(self.memory / "memory.events").get("oom_kill", 0)
        return peak, kills

    def refused_forks(self) -> int:
        """Forks refused by the per-worker process limits so far."""
        if self.pids is None:
            return 0
        total = 0
        for child in _subdirs(self.pids):
            total += _key_value(child / "pids.events").get("max", 0)
        return total

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroups until none is left (5 s at most)."""
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            pids = self.pids_in()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and remove the cgroups (children first)."""
        self.kill_all()
        for group in sorted(self._groups(), key=lambda p: -len(p.parts)):
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _key_value(path: Path) -> dict[str, int]:
    out = {}
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                out[key] = int(value)
    except OSError:
        pass
    return out


def _subdirs(path: Path) -> list[Path]:
    try:
        return [c for c in path.iterdir() if c.is_dir()]
    except OSError:
        return []


def _own_cgroup(controller: str, proc_cgroup: str) -> str | None:
    """This process's path in the hierarchy of ``controller`` ("" = v2)."""
    for line in proc_cgroup.splitlines():
        _, names, path = line.split(":", 2)
        if names.split(",") == [controller] or (not controller and not names):
            return path
        if controller and controller in names.split(","):
            return path
    return None


def _mkdir(parent: Path, name: str, made: list) -> Path:
    path = parent / name
    path.mkdir()
    made.append(path)
    return path


def make_cgroups(name: str, memory_bytes: int, root: Path = CGROUP_ROOT,
                 proc_cgroup: str | None = None) -> Cgroups | None:
    """Create a submission's cgroups under the grader's own, or return None.

    Parameters
    ----------
    name : str
        Folder name of the submission's cgroup.
    memory_bytes : int
        The memory budget.
    root : Path
        Where the hierarchies are mounted (tests pass a fake one).
    proc_cgroup : str, optional
        The text of ``/proc/self/cgroup`` (tests pass their own).

    Returns
    -------
    Cgroups or None
        None when neither cgroup v2 with a delegated memory controller nor the
        v1 ``memory`` hierarchy can be written here.
    """
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    for make in (_make_v2, _make_v1):
        try:
            groups = make(name, memory_bytes, root, proc_cgroup)
        except OSError:
            groups = None
        if groups is not None:
            return groups
    return None


@functools.cache
def available() -> str:
    """``"cgroup"`` when this process may make a submission's cgroups here
    (``COURSE_BUDGET=watchdog`` says no), else ``"watchdog"``. The first call
    also removes the cgroups that dead graders left (:func:`sweep_stale`)."""
    if os.environ.get("COURSE_BUDGET") == "watchdog":
        return "watchdog"
    sweep_stale()
    groups = make_cgroups(f"course-probe-{os.getpid()}", 64 << 20)
    if groups is None:
        return "watchdog"
    groups.remove()
    return "cgroup"


#: ``course-<grader pid>-...`` and ``course-probe-<grader pid>``: the names
#: :class:`~.sandbox` and :func:`available` give a submission's cgroups
_OWNED = re.compile(r"course-(?:probe-)?(\d+)(?:-|$)")


def _grader_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _parents(root: Path, proc_cgroup: str) -> list[Path]:
    """The folders under which this grader makes cgroups (v2 and v1)."""
    found = []
    for controller, sub in (("", ""), ("memory", "memory"), ("pids", "pids")):
        own = _own_cgroup(controller, proc_cgroup)
        if own is not None:
            parent = root / sub / own.lstrip("/")
            if parent.is_dir() and parent not in found:
                found.append(parent)
    return found


def sweep_stale(root: Path = CGROUP_ROOT, proc_cgroup: str | None = None) -> list[Path]:
    """Kill and remove the submission cgroups whose grader process is gone.

    Only folders named as this grader names them (``course-<pid>-...``),
    under the cgroups this process would make them in, and only when no
    process ``<pid>`` is alive; their processes are killed first (an orphaned
    student process must not outlive its grader). Returns the removed folders.
    """
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return []
    removed = []
    for parent in _parents(root, proc_cgroup):
        for group in _subdirs(parent):
            owner = _OWNED.match(group.name)
            if owner is None or _grader_alive(int(owner.group(1))):
                continue
            Cgroups(0, group, None).remove()
            if not group.exists():
                removed.append(group)
    return removed


def _make_v1(name: str, memory_bytes: int, root: Path, proc_cgroup: str
             ) -> Cgroups | None:
    mem_own = _own_cgroup("memory", proc_cgroup)
    if mem_own is None or not (root / "memory").is_dir():
        return None
    made: list = []
    try:
        memory = _mkdir(root / "memory" / mem_own.lstrip("/"), name, made)
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        swap = memory / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(memory_bytes))
        pids = None
        pids_own = _own_cgroup("pids", proc_cgroup)
        if pids_own is not None and (root / "pids").is_dir():
            try:
                pids = _mkdir(root / "pids" / pids_own.lstrip("/"), name, made)
            except OSError:
                pids = None
    except OSError:
        Cgroups(1, None, None, made).remove()
        raise
    return Cgroups(1, memory, pids, made)


def _make_v2(name: str, memory_bytes: int, root: Path, proc_cgroup: str
             ) -> Cgroups | None:
    own = _own_cgroup("", proc_cgroup)
    base = root / own.lstrip("/") if own is not None else None
    if base is None or not (base / "cgroup.subtree_control").is_file():
        return None
    if "memory" not in (base / "cgroup.controllers").read_text().split():
        return None
    enabled = (base / "cgroup.subtree_control").read_text().split()
    if "memory" not in enabled:
        # refused (EBUSY) when the grader's own cgroup holds processes
        (base / "cgroup.subtree_control").write_text("+memory")
    made: list = []
    memory = _mkdir(base, name, made)
    (memory / "memory.max").write_text(str(memory_bytes))
    if (memory / "memory.swap.max").exists():
        (memory / "memory.swap.max").write_text("0")
    pids = None
    if "pids" in (memory / "cgroup.controllers").read_text().split():
        try:
            (memory / "cgroup.subtree_control").write_text("+pids")
            pids = memory
        except OSError:
            pids = None
    return Cgroups(2, memory, pids, made)
