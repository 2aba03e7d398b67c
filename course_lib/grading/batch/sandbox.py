"""Sandbox for the student's worker processes during batch grading.

The grader's own pytest process is trusted and runs in the instructor's
environment. Only the *worker* that imports a student's module is confined:
:class:`Sandbox` gives the grading core the command prefix to put in front of
``python -m course_lib.grading.worker`` (``grade(**box.grade_kwargs())``) and
holds the submission to its budget (:mod:`.budget`) until :meth:`Sandbox.close`.

Two modes (:func:`~.probe.probe` picks one):

``bwrap``
    bubblewrap: a fresh mount namespace that holds only read-only binds of the
    system libraries, the Python installation and virtualenv, the ``course_lib``
    package and the student's temporary copy, a private ``/tmp`` and
    ``/dev/shm`` of a fixed size, a private ``/proc``; no network, no IPC, its
    own PID namespace (every process in it dies with the worker), a new session
    (no terminal), a clean environment. As root the worker then drops to an
    unprivileged user id of its own (:mod:`.uids`).
``rlimits``
    the degraded fallback where bubblewrap is missing or cannot create
    namespaces (some containers forbid it): resource limits, a clean
    environment and a temporary folder of its own (``TMPDIR``). Without
    namespaces the file system can only be protected by permissions:

    - as **root**, the worker drops to its own unprivileged uid (``setpriv``: no
      capabilities, no supplementary groups, no new privileges), in a private
      directory it owns, with a read-only copy of Python, numpy and
      ``course_lib`` (:mod:`.runtime`); the course folder is made private
      (``chmod o-rwx``, :mod:`.permissions`). Files elsewhere that every user
      may read stay readable. What that uid writes in ``/tmp``, ``/var/tmp``
      and ``/dev/shm`` counts against the temporary-space budget and is
      deleted after the submission.
    - as any other user, the worker runs as that user: it can read and write
      every file the account can (solutions and tests included).

    Either way batch grading says so loudly.

Both modes set resource limits with ``prlimit``: address space
(``RLIMIT_AS``), processes (``RLIMIT_NPROC``), CPU seconds (``RLIMIT_CPU``),
file size (``RLIMIT_FSIZE``) and no core dumps (``RLIMIT_CORE = 0``).

Set ``COURSE_SANDBOX=rlimits`` (or ``bwrap``) to force a mode, and
``COURSE_BUDGET=watchdog`` to hold the budget without cgroups.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import budget
from .confine import prefix
from .modes import Limits, Mode, SandboxError, budget_line
from .permissions import can_access, course_root, protect, share_with_worker
from .probe import probe
from .reaping import TOKEN_VAR, kill_group, processes_with_token, reap
from .runtime import Runtime, _trusted_dir, worker_runtime
from .uids import BASE_UID, worker_uid
from .watchdog import Watchdog

__all__ = ["BASE_UID", "TOKEN_VAR", "Limits", "Mode", "Runtime", "Sandbox",
           "SandboxError", "_trusted_dir", "budget_line", "can_access",
           "course_root", "kill_group", "prefix", "probe", "processes_with_token",
           "protect", "reap", "share_with_worker", "worker_runtime", "worker_uid"]


@dataclass
class Sandbox:
    """Command prefix factory and budget keeper for one submission's workers.

    Parameters
    ----------
    student_dir : path
        The submission's temporary copy (bound read-only; in ``rlimits`` mode
        as root it must be readable by the worker's uid, see
        :func:`share_with_worker`).
    limits : Limits
        Resource limits and the submission's budget.
    mode : Mode, optional
        Defaults to :func:`probe`'s answer.
    slot : int
        Worker slot (0 .. workers-1); picks the unprivileged uid under root.
    token : str, optional
        Marker put into the worker's environment; defaults to a fresh one.
    private : tuple of path
        More folders to make private (``chmod o-rwx``) in ``rlimits`` mode as
        root, besides the course folder (e.g. the graded tests' own course).
    uid : int, optional
        As root: the worker's uid (default: the one claimed for ``slot``).
    budget_kind : {"cgroup", "watchdog"}, optional
        How the budget is held (default: a cgroup where the machine allows one;
        ``COURSE_BUDGET=watchdog`` forces the watchdog).

    Notes
    -----
    Use it as ``grade(target, ..., **box.grade_kwargs())`` (the prefix and,
    in ``rlimits`` mode as root, the worker's interpreter), then
    :meth:`close`; :attr:`stopped` then says what the budget stopped. The
    first call prepares the worker (:meth:`prepare`) and may raise
    :class:`SandboxError`.
    """

    student_dir: Path
    limits: Limits = field(default_factory=Limits)
    mode: Mode | None = None
    slot: int = 0
    token: str = ""
    private: tuple = ()
    uid: int | None = None
    budget_kind: str | None = None
    notes: list = field(default_factory=list, init=False)
    stopped: list = field(default_factory=list, init=False)

    def __post_init__(self):
        self.student_dir = Path(self.student_dir).resolve()
        if self.mode is None:
            self.mode = probe()
        if not self.token:
            self.token = f"{os.getpid()}-{time.monotonic_ns()}-{self.slot}"
        self.uid = (self.uid or worker_uid(self.slot)) if os.geteuid() == 0 else None
        self._workdir: Path | None = None
        self._runtime: Runtime | None = None
        self._cgroups: budget.Cgroups | None = None
        self._watchdog: Watchdog | None = None
        self._prepared = False
        self._peak = 0

    @property
    def drops_privileges_itself(self) -> bool:
        """True in ``rlimits`` mode as root: the prefix runs ``setpriv``."""
        return self.mode.name != "bwrap" and os.geteuid() == 0

    @property
    def peak_bytes(self) -> int:
        """The most memory the submission's processes held together (as the
        cgroup or the watchdog saw it)."""
        if self._cgroups is not None and self._cgroups.memory is not None:
            return self._cgroups.memory_events()[0]
        return self._peak or (self._watchdog.peak_bytes if self._watchdog else 0)

    def prepare(self) -> None:
        """Set up the budget and the worker's own folder; in ``rlimits`` mode as
        root also build (or reuse) the worker's runtime, make the course folder
        private and check, as the worker's uid, that all of it works.
        Idempotent.

        Raises
        ------
        SandboxError
            When the worker could not run safely (nothing is graded then).
        """
        if self._prepared:
            return
        self._prepared = True
        if self.drops_privileges_itself:
            self._prepare_as_root()
        elif self.mode.name != "bwrap":
            self._workdir = Path(tempfile.mkdtemp(prefix=f"course-worker-{self.slot}-"))
        self._start_budget()

    def _start_budget(self) -> None:
        lim = self.limits
        kind = self.budget_kind or budget.available()
        if kind == "cgroup":
            name = f"course-{os.getpid()}-{self.slot}-{time.monotonic_ns()}"
            self._cgroups = budget.make_cgroups(name, lim.memory_mb << 20)
        self.budget_kind = "cgroup" if self._cgroups is not None else "watchdog"
        held = self._cgroups or budget.Cgroups(0, None, None)
        fallback = self.mode.name != "bwrap"
        self._watchdog = Watchdog(
            None if held.memory else lim.memory_mb << 20,
            None if held.pids else lim.nproc, worker_uid=self.uid,
            temp_bytes=lim.tmp_mb << 20 if fallback else None,
            private_tmp=self._workdir)
        if self.uid is not None:
            self._watchdog.sweep()  # what an earlier run of this uid left
        if not (held.memory and held.pids) or fallback:
            self._watchdog.start()

    def _prepare_as_root(self) -> None:
        uid = self.uid
        for tool in ("setpriv", "prlimit"):
            if shutil.which(tool) is None:
                raise SandboxError(f"{tool} (util-linux) is not installed: refusing "
                                   "to run student code as root")
        if not can_access(self.student_dir, uid, uid, os.R_OK | os.X_OK):
            raise SandboxError(
                f"the submission folder {self.student_dir} is not readable by the "
                f"worker's uid {uid}: make it (and its parents) readable, e.g. with "
                "sandbox.share_with_worker(path, slot), and keep it outside the "
                "course folder")
        self._runtime = worker_runtime(uid, uid)
        self.notes += self._runtime.notes
        roots = [r for r in [course_root()] + [Path(p) for p in self.private] if r]
        self.notes += protect(roots)
        workdir = Path(tempfile.mkdtemp(prefix=f"course-worker-{self.slot}-"))
        os.chown(workdir, uid, uid)
        self._workdir = workdir
        try:
            self._check_as_worker(uid, roots)
        except BaseException:
            self.cleanup()
            raise
        for note in self.notes:
            print(f"sandbox: {note}", file=sys.stderr)

    def _check_as_worker(self, uid: int, private: list[Path]) -> None:
        """Start the runtime's Python through the real prefix, as the worker."""
        script = (
            "import json, os, sys\n"
            "import numpy, course_lib.grading.checking.worker\n"
            "closed = []\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        os.listdir(p)\n"
            "    except PermissionError:\n"
            "        closed.append(p)\n"
            "print(json.dumps({'uid': os.getuid(), 'version': sys.version,\n"
            "    'numpy': numpy.__version__, 'closed': closed,\n"
            "    'cwd': os.getcwd()}))\n")
        argv = self.prefix() + [self._runtime.python, "-I", "-B", "-c", script,
                                *map(str, private)]
        out = None
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                 check=False)
            info = json.loads(out.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
            err = (out.stderr.strip().splitlines() or [""])[-1] if out else ""
            raise SandboxError(
                f"the worker's Python ({self._runtime.python}) does not start as "
                f"uid {uid}: {err or type(exc).__name__}; refusing to run student "
                "code") from None
        import numpy

        problems = []
        if info.get("uid") != uid:
            problems.append(f"it runs as uid {info.get('uid')}, not {uid}")
        if info.get("version") != sys.version:
            problems.append(f"it is Python {info.get('version')!r}, not the "
                            f"grader's {sys.version!r}")
        if info.get("numpy") != numpy.__version__:
            problems.append(f"it has numpy {info.get('numpy')}, not "
                            f"{numpy.__version__}")
        opened = [str(p) for p in private if str(p) not in info.get("closed", [])]
        if opened:
            problems.append(f"it can still read {', '.join(opened)}")
        if problems:
            raise SandboxError("refusing to grade: the unprivileged worker is not "
                               "as expected: " + "; ".join(problems))

    def prefix(self) -> list[str]:
        """The argv prefix to put before ``python -m ...worker``."""
        self.prepare()
        extra = self._runtime.env if self._runtime is not None else {}
        join = self._cgroups.join_args(self.limits.nproc) if self._cgroups else []
        return join + prefix(self.student_dir, self.limits, self.mode, self.slot,
                             self.token, workdir=self._workdir, extra_env=extra,
                             uid=self.uid)

    @property
    def python(self) -> str | None:
        """Interpreter the worker must run (``grade(worker_python=...)``), or
        None for the grader's own."""
        self.prepare()
        return self._runtime.python if self._runtime is not None else None

    def grade_kwargs(self) -> dict:
        """``worker_cmd_prefix`` and ``worker_python`` for :func:`grade`."""
        return {"worker_cmd_prefix": self.prefix(), "worker_python": self.python}

    def reap(self) -> int:
        """Kill every process still carrying this sandbox's token."""
        return reap(self.token)

    def cleanup(self) -> None:
        """Remove the worker's own directory (after :meth:`reap`)."""
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def _close_budget(self) -> None:
        if self._watchdog is not None:
            self._watchdog.close()
            self.stopped += self._watchdog.stopped
        groups, self._cgroups = self._cgroups, None
        if groups is None:
            return
        _, kills = groups.memory_events()
        if kills:
            self.stopped.append(
                f"memory budget of {self.limits.memory_mb} MiB reached: the kernel "
                f"stopped {kills} process{'es' * (kills != 1)}")
        refused = groups.refused_forks()
        if refused:
            self.stopped.append(
                f"process budget of {self.limits.nproc} per chapter reached "
                f"({refused} new process{'es' * (refused != 1)} refused)")
        self._peak = groups.memory_events()[0]
        groups.remove()

    def close(self) -> int:
        """Kill what is left, release the budget (its notes go to
        :attr:`stopped`), delete the worker's files; returns how many
        processes carried the token."""
        killed = self.reap()
        if self._prepared:
            self._close_budget()
        self.cleanup()
        return killed

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
