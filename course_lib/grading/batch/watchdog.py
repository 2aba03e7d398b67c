"""The accounting fallback of a submission's budget, where cgroups are not allowed.

A thread in the process that owns the sandbox looks at the submission's
processes a few times a second (:data:`TICK`) and stops them all when, together,

- their memory (proportional set size, so pages shared after a ``fork`` count
  once) passes the memory budget;
- one worker's tree holds more than ``nproc`` processes;
- (as root) the files the worker's user id owns in the shared temporary folders
  pass the temporary-space budget; those files are deleted as well.

The submission's processes are every descendant of the owner (orphans come
back to the grader, a child subreaper) that is not the grader's own (these carry
:data:`TRUST_VAR` in their environment, which the worker's cleared environment
never has), and as root every process of the worker's user id.

What it guarantees is weaker than a cgroup: between two looks a submission can
exceed the budget by what it allocates in :data:`TICK` seconds (each process
still stops at its own ``RLIMIT_AS``), and memory that no process maps (a file in
``/dev/shm``) counts only as temporary space.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds between two looks.
TICK = 0.1

#: Marks the grader's own processes (its value is a secret of this run).
TRUST_VAR = "GRADER_TRUST_MARK"

#: Shared temporary folders a worker of another user id may write to.
TEMP_ROOTS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))


def trust_mark() -> str:
    """This run's mark for the grader's own processes (set once, inherited)."""
    value = os.environ.get(TRUST_VAR)
    if not value:
        value = os.environ[TRUST_VAR] = secrets.token_hex(16)
    return value


@dataclass
class Proc:
    """One line of :func:`snapshot`."""

    pid: int
    ppid: int
    uid: int


def snapshot() -> dict[int, Proc]:
    """``{pid: Proc}`` of every live (non-zombie) process, from ``/proc``."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            uid = os.stat(f"/proc/{entry.name}").st_uid
        except OSError:
            continue
        if fields[0] != b"Z":
            out[int(entry.name)] = Proc(int(entry.name), int(fields[1]), uid)
    return out


def descendants(procs: dict[int, Proc], pid: int) -> list[int]:
    """Every process below ``pid`` in ``procs``."""
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _trusted(pid: int, mark: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return mark in f.read().split(b"\0")
    except OSError:
        return False


def members(procs: dict[int, Proc], owner: int, worker_uid: int | None,
            mark: str) -> set[int]:
    """The submission's processes (see the module's notes)."""
    needle = f"{TRUST_VAR}={mark}".encode()
    me = os.getuid()
    found = {pid for pid in descendants(procs, owner)
             if procs[pid].uid != me or not _trusted(pid, needle)}
    if worker_uid is not None:
        found.update(p.pid for p in procs.values() if p.uid == worker_uid)
    found.discard(owner)
    return found


def pss_bytes(pid: int) -> int:
    """Proportional set size of a process (its RSS where PSS is not shown)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def worker_trees(procs: dict[int, Proc], group: set[int]) -> list[set[int]]:
    """The submission's processes split into trees (one a worker, usually)."""
    trees: dict[int, set[int]] = {}
    for pid in group:
        top = pid
        while procs[top].ppid in group:
            top = procs[top].ppid
        trees.setdefault(top, set()).add(pid)
    return list(trees.values())


def owned_files(uid: int, roots=TEMP_ROOTS, limit: int = 100_000) -> list[Path]:
    """Files and folders of ``uid`` in ``roots``: entered only where that
    user could have written (folders it owns, or that anyone may write)."""
    found: list[Path] = []
    todo = [Path(r) for r in roots]
    while todo and len(found) < limit:
        folder = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            mine = st.st_uid == uid
            if mine:
                found.append(Path(e.path))
            if e.is_dir(follow_symlinks=False) and (mine or st.st_mode & 0o002):
                todo.append(Path(e.path))
    return found


def used_bytes(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        try:
            st = p.lstat()
        except OSError:
            continue
        total += st.st_blocks * 512
    return total


def remove_files(paths: list[Path]) -> int:
    """Delete files first, then folders (deepest first); returns how many."""
    removed = 0
    for p in sorted(paths, key=lambda q: (q.is_dir() and not q.is_symlink(),
                                          -len(q.parts))):
        try:
            if p.is_dir() and not p.is_symlink():
                p.rmdir()
            else:
                p.unlink()
            removed += 1
        except OSError:
            pass
    return removed


@dataclass
class Watchdog:
    """Holds a submission to its budget from a thread of the grader.

    Parameters
    ----------
    memory_bytes : int or None
        Memory budget of all processes together (None: a cgroup holds it).
    nproc : int or None
        Processes per worker tree (None: a cgroup holds it).
    worker_uid : int or None
        The worker's own user id (as root), else None.
    temp_bytes : int or None
        Temporary-space budget for the files of ``worker_uid`` in
        :data:`TEMP_ROOTS` and ``private_tmp`` (as root only).
    private_tmp : Path, optional
        The worker's own temporary folder.
    """

    memory_bytes: int | None
    nproc: int | None
    worker_uid: int | None = None
    temp_bytes: int | None = None
    private_tmp: Path | None = None
    stopped: list = field(default_factory=list)
    peak_bytes: int = 0

    def __post_init__(self):
        self.owner = os.getpid()
        self.mark = trust_mark()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticks = 0

    def start(self) -> Watchdog:
        self._thread = threading.Thread(target=self._run, name="course-watchdog",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._halt.wait(TICK):
            try:
                self.check()
            except Exception:  # noqa: BLE001  (a look that failed: look again)
                pass

    def group(self) -> tuple[dict[int, Proc], set[int]]:
        procs = snapshot()
        return procs, members(procs, self.owner, self.worker_uid, self.mark)

    def check(self) -> None:
        """One look: stop the submission if it is over a budget."""
        procs, group = self.group()
        self._ticks += 1
        if self.memory_bytes is not None and group:
            used = sum(pss_bytes(pid) for pid in group)
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.memory_bytes:
                self._stop(group, f"memory budget of {self.memory_bytes >> 20} MiB "
                                  f"passed ({used >> 20} MiB in {len(group)} "
                                  "processes)")
                return
        if self.nproc is not None:
            for tree in worker_trees(procs, group):
                if len(tree) > self.nproc:
                    self._stop(tree, f"process budget of {self.nproc} per chapter "
                                     f"passed ({len(tree)} processes)")
        if self.temp_bytes is not None and self._ticks % 2 == 0:
            self.check_temp(group)

    def check_temp(self, group: set[int]) -> None:
        files = self.temp_files()
        used = used_bytes(files)
        if used > self.temp_bytes:
            self._stop(group, f"temporary-space budget of {self.temp_bytes >> 20} "
                              f"MiB passed ({used >> 20} MiB written)")
            remove_files(files)

    def temp_files(self) -> list[Path]:
        """What the worker wrote: in its own folder, and (as root) everything
        its uid owns in the shared ones; never the worker's folder itself."""
        own = [self.private_tmp] if self.private_tmp else []
        if self.worker_uid is None:
            found = owned_files(os.getuid(), own)
        else:
            found = owned_files(self.worker_uid, list(TEMP_ROOTS) + own)
        return [p for p in found if p != self.private_tmp]

    def _stop(self, pids: set[int], why: str) -> None:
        kill(pids)
        if why not in self.stopped:
            self.stopped.append(why)

    def sweep(self) -> int:
        """Delete what the worker wrote (:meth:`temp_files`)."""
        return remove_files(self.temp_files())

    def close(self) -> None:
        """Stop looking; kill every process left; delete the worker's files."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for _ in range(20):
            _, group = self.group()
            if not group:
                break
            kill(group)
            time.sleep(0.02)
        self.sweep()


def kill(pids) -> None:
    """SIGKILL each of ``pids`` (those already gone are skipped)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
