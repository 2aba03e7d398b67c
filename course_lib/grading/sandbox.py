"""Sandbox for the student's worker process during batch grading.

The grader's own pytest process is trusted and runs in the instructor's
environment. Only the *worker* that imports a student's module is confined.
This module builds the command prefix that the grading core puts in front of
``python -m course_lib.grading.worker`` (``grade(worker_cmd_prefix=...)``).

Two modes:

``bwrap``
    bubblewrap: a fresh mount namespace that holds only read-only binds of the
    system libraries, the Python installation and virtualenv, the ``course_lib``
    package and the student's temporary copy, a private ``/tmp``, a private
    ``/proc``; no network, no IPC, its own PID namespace (every process in it
    dies with the worker), a new session (no terminal), a clean environment.
    When started as root the worker then drops to an unprivileged user id of
    its own (so that ``RLIMIT_NPROC`` is enforced: the kernel ignores it for
    root).
``rlimits``
    the degraded fallback where bubblewrap is missing or cannot create
    namespaces (some containers forbid it): resource limits, a clean
    environment and a clean working directory only. The student's code can
    then read any file the instructor's account can read. Batch grading says
    so loudly.

Both modes set resource limits with ``prlimit``: address space
(``RLIMIT_AS``), processes (``RLIMIT_NPROC``), CPU seconds (``RLIMIT_CPU``),
file size (``RLIMIT_FSIZE``) and no core dumps (``RLIMIT_CORE = 0``).

Set ``COURSE_SANDBOX=rlimits`` (or ``bwrap``) to force a mode.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import course_lib

#: Name of the environment variable that marks every sandboxed process, so
#: that :func:`reap` can find and kill anything a submission left behind.
TOKEN_VAR = "COURSE_SANDBOX_TOKEN"

#: First unprivileged user id used for workers when grading as root; worker
#: slot ``k`` runs as ``BASE_UID + k`` so parallel submissions do not share a
#: process count.
BASE_UID = 61000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student worker process (and its children).

    Attributes
    ----------
    memory_mb : int
        Address-space limit per process (``RLIMIT_AS``), in MiB.
    cpu_seconds : int
        CPU time per process (``RLIMIT_CPU``), in seconds.
    nproc : int
        Processes and threads the worker may have at once (``RLIMIT_NPROC``).
    fsize_mb : int
        Largest file the worker may write (``RLIMIT_FSIZE``), in MiB.
    tmp_mb : int
        Size of the private ``/tmp`` (bwrap mode), in MiB.
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
        return (
            "WARNING: SANDBOX DEGRADED: student code runs with resource limits "
            "and a clean temporary directory only; it can read and write every "
            "file this account can (solutions and tests included) and reach the "
            f"network. Reason: {self.reason}. "
            "Install bubblewrap (apt-get install -y bubblewrap) and allow user "
            "namespaces to fix this."
        )


@dataclass
class Sandbox:
    """Command prefix factory for one submission's worker processes.

    Parameters
    ----------
    student_dir : path
        The submission's temporary copy (bound read-only, the working
        directory of the worker).
    limits : Limits
        Resource limits.
    mode : Mode, optional
        Defaults to :func:`probe`'s answer.
    slot : int
        Worker slot (0 .. workers-1); picks the unprivileged uid under root.
    token : str, optional
        Marker put into the worker's environment; defaults to a fresh one.
    """

    student_dir: Path
    limits: Limits = field(default_factory=Limits)
    mode: Mode | None = None
    slot: int = 0
    token: str = ""

    def __post_init__(self):
        self.student_dir = Path(self.student_dir).resolve()
        if self.mode is None:
            self.mode = probe()
        if not self.token:
            self.token = f"{os.getpid()}-{time.monotonic_ns()}-{self.slot}"

    def prefix(self) -> list[str]:
        """The argv prefix to put before ``python -m ...worker``."""
        return prefix(self.student_dir, self.limits, self.mode, self.slot,
                      self.token)

    def reap(self) -> int:
        """Kill every process still carrying this sandbox's token."""
        return reap(self.token)


def _python_paths() -> list[Path]:
    """Directories the worker's Python needs: install, venv, course_lib."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(sys.base_exec_prefix)}
    exe = Path(sys.executable)
    paths.add(exe.parent)
    paths.add(exe.resolve().parent.parent)
    for entry in sys.path:
        if entry and Path(entry).is_dir() and "site-packages" in entry:
            paths.add(Path(entry))
    paths.add(Path(course_lib.__file__).resolve().parent)
    # keep only the outermost of nested directories
    resolved = sorted({p.resolve() for p in paths if p.exists()}, key=len_parts)
    out: list[Path] = []
    for p in resolved:
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return out


def len_parts(p: Path) -> int:
    """Sort key: number of components of a path."""
    return len(p.parts)


def _env(token: str, home: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        TOKEN_VAR: token,
    }
    # the grading core may configure its worker through COURSE_* variables
    for key, value in os.environ.items():
        if key.startswith("COURSE_") and key != TOKEN_VAR:
            env[key] = value
    return env


def _rlimit_args(limits: Limits, nproc: int) -> list[str]:
    mb = 1024 * 1024
    return [
        "prlimit",
        f"--as={limits.memory_mb * mb}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.fsize_mb * mb}",
        "--core=0",
        f"--nproc={nproc}",
        "--",
    ]


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def prefix(student_dir: Path, limits: Limits, mode: Mode, slot: int = 0,
           token: str = "") -> list[str]:
    """Build the argv prefix that confines a worker.

    Parameters
    ----------
    student_dir : Path
        The submission's temporary copy.
    limits : Limits
        Resource limits.
    mode : Mode
        ``bwrap`` or ``rlimits``.
    slot : int
        Worker slot, for the per-slot uid under root.
    token : str
        Marker put into the environment (see :func:`reap`).

    Returns
    -------
    list of str
        For example ``["prlimit", ..., "--", "bwrap", ..., "--"]``.
    """
    student_dir = Path(student_dir).resolve()
    root = os.geteuid() == 0
    if root and mode.name == "bwrap":
        nproc = limits.nproc          # counted for the worker's own uid only
    else:
        # the kernel counts every process of the real uid (root: not enforced)
        nproc = _user_process_count() + limits.nproc
    cmd = _rlimit_args(limits, nproc)
    if mode.name != "bwrap":
        env = _env(token, str(student_dir))
        # (no "--" after the assignments: env would take it as the command)
        return cmd + ["env", "-i", "-C", str(student_dir)] + [
            f"{k}={v}" for k, v in sorted(env.items())]

    cmd += ["bwrap"]
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / top
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), str(p)]
    for name in ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf"):
        p = Path("/etc") / name
        if p.exists():
            cmd += ["--ro-bind", str(p), str(p)]
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.tmp_mb * 1024 * 1024),
            "--perms", "1777", "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/"), Path("/usr"), Path("/tmp")}
    for path in _python_paths() + [student_dir]:
        if path == Path("/usr") or Path("/usr") in path.parents:
            continue
        for parent in reversed(path.parents):
            if parent not in made:
                cmd += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        cmd += ["--ro-bind", str(path), str(path)]
        made.add(path)
    cmd += ["--clearenv"]
    for key, value in sorted(_env(token, "/tmp").items()):
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", str(student_dir), "--die-with-parent", "--new-session",
            "--hostname", "sandbox"]
    if root:
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net",
                "--unshare-uts", "--unshare-cgroup-try"]
        uid = str(BASE_UID + slot)
        cmd += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}",
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                "--no-new-privs"]
    else:
        cmd += ["--unshare-all", "--cap-drop", "ALL"]
    cmd += ["--"]
    return cmd


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
    trial = Mode("bwrap", False, "probing")
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        student = Path(tmp) / "student"
        student.mkdir()
        secret = Path(tmp) / "secret.txt"
        secret.write_text("instructor only")
        os.chmod(tmp, 0o755)
        root = str(Path(course_lib.__file__).resolve().parents[1])
        script = _PROBE_SCRIPT.format(secret=str(secret), root=root)
        argv = prefix(student, Limits(), trial, 0, "probe") + [
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
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.05)
    return killed


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group, ignoring one that is already gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
