"""The command prefixes that confine a worker: bubblewrap, or rlimits and setpriv.

:func:`prefix` builds what the grading core puts in front of
``python -m course_lib.grading.worker``; :class:`~.sandbox.Sandbox` adds the
budget's cgroup join in front of it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import course_lib

from ..core.chapters import CHAPTERS
from .modes import Limits, Mode
from .reaping import TOKEN_VAR
from .uids import worker_uid
from .watchdog import TRUST_VAR

#: Worker processes one submission may have at once (a chapter each, and one
#: being restarted): the user id's process limit is this many times the
#: per-chapter budget, which the cgroup or the watchdog holds per worker.
WORKERS_PER_SUBMISSION = len(CHAPTERS) + 1


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
        if key.startswith("COURSE_") and key not in (TOKEN_VAR, TRUST_VAR):
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


def _setpriv_args(uid: int) -> list[str]:
    """Become ``uid`` (group ``uid``, no other groups), without capabilities
    and unable to gain privileges again (setuid binaries included)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


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
           token: str = "", *, workdir: Path | None = None,
           extra_env: dict | None = None, uid: int | None = None) -> list[str]:
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
        Marker put into the environment (see :func:`~.reaping.reap`).
    workdir : Path, optional
        ``rlimits`` mode: the worker's own directory (its ``TMPDIR``; as root
        also its working directory and ``HOME``), owned by its uid; required
        as root (:class:`~.sandbox.Sandbox` makes one).
    extra_env : dict, optional
        More variables for the worker (``LD_LIBRARY_PATH`` of its runtime).
    uid : int, optional
        As root: the worker's uid (default: the one claimed for ``slot``).

    Returns
    -------
    list of str
        For example ``["prlimit", ..., "--", "bwrap", ..., "--"]``, or in
        ``rlimits`` mode as root ``["prlimit", ..., "--", "setpriv", ...,
        "--", "env", "-i", "-C", workdir, "HOME=...", ...]``.
    """
    student_dir = Path(student_dir).resolve()
    root = os.geteuid() == 0
    uid = (uid or worker_uid(slot)) if root else None
    # the process limit counts a user id's processes: the worker's own as root,
    # every process of this account otherwise
    nproc = limits.nproc * WORKERS_PER_SUBMISSION
    cmd = _rlimit_args(limits, nproc if root else _user_process_count() + nproc)
    if mode.name == "bwrap":
        return cmd + _bwrap_args(student_dir, limits, token, uid)
    env = _env(token, str(workdir if root else student_dir))
    if workdir is not None:
        env.update({"TMPDIR": str(workdir), "MPLCONFIGDIR": str(workdir)})
    env.update(extra_env or {})
    assignments = [f"{k}={v}" for k, v in sorted(env.items())]
    if not root:
        # (no "--" after the assignments: env would take it as the command)
        return cmd + ["env", "-i", "-C", str(student_dir)] + assignments
    if workdir is None:
        raise ValueError("rlimits mode as root needs the worker's own workdir "
                         "(use Sandbox(...).prefix())")
    return cmd + _setpriv_args(uid) + ["env", "-i", "-C", str(workdir)] + assignments


def _system_binds() -> list[str]:
    """Read-only binds of the system's programs and libraries."""
    cmd = []
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
    return cmd


def _own_binds(student_dir: Path) -> list[str]:
    """Read-only binds of Python, course_lib and the submission (after /tmp is
    mounted: the submission's copy lives there)."""
    cmd = []
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
    return cmd


def _bwrap_args(student_dir: Path, limits: Limits, token: str,
                uid: int | None) -> list[str]:
    size = str(limits.tmp_mb * 1024 * 1024)
    cmd = ["bwrap", *_system_binds(), "--proc", "/proc", "--dev", "/dev",
           # its own /tmp and /dev/shm, each of a fixed size
           "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
           "--size", size, "--perms", "1777", "--tmpfs", "/dev/shm",
           *_own_binds(student_dir), "--clearenv"]
    for key, value in sorted(_env(token, "/tmp").items()):
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", str(student_dir), "--die-with-parent", "--new-session",
            "--hostname", "sandbox"]
    if uid is not None:
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net",
                "--unshare-uts", "--unshare-cgroup-try"]
        cmd += ["--"] + _setpriv_args(uid)[:-1]
    else:
        cmd += ["--unshare-all", "--cap-drop", "ALL"]
    return cmd + ["--"]
