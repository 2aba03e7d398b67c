"""Sandbox for the student's worker process during batch grading.

The grader's own pytest process is trusted and runs in the instructor's
environment. Only the *worker* that imports a student's module is confined.
This module builds the command prefix that the grading core puts in front of
``python -m course_lib.grading.checking.worker`` (``grade(worker_cmd_prefix=...)``).

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
    environment and a working directory of its own. Without namespaces the
    file system cannot be hidden, only protected by permissions:

    - as **root**, the worker drops to the unprivileged uid ``BASE_UID + slot``
      (``setpriv``: no capabilities, no supplementary groups, no new
      privileges), in a private temporary directory it owns. It cannot read the
      grader's memory (the signing key), other workers' folders or ``/root``.
      The course folder (the one holding ``course_lib``, ``solutions/`` and
      ``tests/``) is made private to its owner (``chmod o-rwx``), and the
      worker runs a read-only copy of the interpreter, its standard library,
      numpy and ``course_lib`` (:func:`worker_runtime`), hard-linked where
      possible, because the originals may sit in that folder or under
      ``/root``. Files elsewhere that every user may read stay readable.
    - as any other user, the worker runs as that user: it can read and write
      every file the account can (solutions and tests included).

    Either way batch grading says so loudly.

Both modes set resource limits with ``prlimit``: address space
(``RLIMIT_AS``), processes (``RLIMIT_NPROC``), CPU seconds (``RLIMIT_CPU``),
file size (``RLIMIT_FSIZE``) and no core dumps (``RLIMIT_CORE = 0``).

Set ``COURSE_SANDBOX=rlimits`` (or ``bwrap``) to force a mode.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import course_lib
from course_lib.grading.core.paths import course_root, package_parent
from course_lib.grading.core.procs import kill_pids, processes

#: Name of the environment variable that marks every sandboxed process, so
#: that :func:`reap` can find and kill anything a submission left behind.
TOKEN_VAR = "COURSE_SANDBOX_TOKEN"

#: First unprivileged user id used for workers when grading as root; worker
#: slot ``k`` runs as ``BASE_UID + k`` so parallel submissions do not share a
#: process count.
BASE_UID = 61000

#: Third-party packages copied into the worker's runtime in ``rlimits`` mode as
#: root (besides the standard library and ``course_lib``): what the exercise
#: files may import. Their ``<name>.libs`` folders (bundled shared libraries)
#: come along.
RUNTIME_PACKAGES = ("numpy",)

#: Parts of the standard library the worker never needs (left out of its copy).
_STDLIB_SKIP = frozenset({"site-packages", "dist-packages", "test", "idlelib",
                          "tkinter", "turtledemo", "ensurepip", "lib2to3"})


class SandboxError(RuntimeError):
    """The sandbox cannot be set up safely, so no student code is run."""


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


@dataclass
class Sandbox:
    """Command prefix factory for one submission's worker processes.

    Parameters
    ----------
    student_dir : path
        The submission's temporary copy (bound read-only; in ``rlimits`` mode
        as root it must be readable by the worker's uid, see
        :func:`share_with_worker`).
    limits : Limits
        Resource limits.
    mode : Mode, optional
        Defaults to :func:`probe`'s answer.
    slot : int
        Worker slot (0 .. workers-1); picks the unprivileged uid under root.
    token : str, optional
        Marker put into the worker's environment; defaults to a fresh one.
    private : tuple of path
        More folders to make private (``chmod o-rwx``) in ``rlimits`` mode as
        root, besides the course folder (e.g. the graded tests' own course).

    Notes
    -----
    Use it as ``grade(target, ..., **box.grade_kwargs())`` (the prefix and,
    in ``rlimits`` mode as root, the worker's interpreter), then
    :meth:`close`. In ``rlimits`` mode as root the first call prepares the
    worker (:meth:`prepare`) and may raise :class:`SandboxError`.
    """

    student_dir: Path
    limits: Limits = field(default_factory=Limits)
    mode: Mode | None = None
    slot: int = 0
    token: str = ""
    private: tuple = ()
    notes: list = field(default_factory=list, init=False)

    def __post_init__(self):
        self.student_dir = Path(self.student_dir).resolve()
        if self.mode is None:
            self.mode = probe()
        if not self.token:
            self.token = f"{os.getpid()}-{time.monotonic_ns()}-{self.slot}"
        self._workdir: Path | None = None
        self._runtime: Runtime | None = None

    @property
    def drops_privileges_itself(self) -> bool:
        """True in ``rlimits`` mode as root: the prefix runs ``setpriv``."""
        return self.mode.name != "bwrap" and os.geteuid() == 0

    @property
    def uid(self) -> int | None:
        """The worker's uid when grading as root (None: the caller's)."""
        return BASE_UID + self.slot if os.geteuid() == 0 else None

    def prepare(self) -> None:
        """In ``rlimits`` mode as root: build (or reuse) the worker's runtime,
        make the course folder private, create the worker's own directory and
        check, as the worker's uid, that all of it works. Idempotent; does
        nothing in the other modes.

        Raises
        ------
        SandboxError
            When the worker could not run safely (nothing is graded then).
        """
        if not self.drops_privileges_itself or self._workdir is not None:
            return
        uid = BASE_UID + self.slot
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
        roots = [course_root()] + [Path(p) for p in self.private]
        self.notes += protect([r for r in roots if r is not None])
        workdir = Path(tempfile.mkdtemp(prefix=f"course-worker-{self.slot}-"))
        os.chown(workdir, uid, uid)
        self._workdir = workdir
        try:
            self._check_as_worker(uid, [r for r in roots if r is not None])
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
        return prefix(self.student_dir, self.limits, self.mode, self.slot,
                      self.token, workdir=self._workdir, extra_env=extra)

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

    def close(self) -> int:
        """:meth:`reap`, then :meth:`cleanup`; returns how many were killed."""
        killed = self.reap()
        self.cleanup()
        return killed

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------ permissions
def _allowed(st: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    if st.st_uid == uid:
        mode = (st.st_mode >> 6) & 7
    elif st.st_gid == gid:
        mode = (st.st_mode >> 3) & 7
    else:
        mode = st.st_mode & 7
    return mode & bits == bits


def can_access(path, uid: int, gid: int, want: int = os.R_OK) -> bool:
    """Whether a process of ``uid``/``gid`` (no other groups, no capabilities)
    may open ``path`` for ``want`` (``os.R_OK``, ``os.W_OK``, ``os.X_OK``),
    judged from the permission bits of the path and of every folder above it
    (both as written and with symbolic links resolved). ACLs are not read.

    Parameters
    ----------
    path : path
    uid, gid : int
    want : int
        A combination of ``os.R_OK``, ``os.W_OK`` and ``os.X_OK``.

    Returns
    -------
    bool
    """
    bits = ((4 if want & os.R_OK else 0) | (2 if want & os.W_OK else 0)
            | (1 if want & os.X_OK else 0))
    given = Path(os.path.abspath(path))
    for target in {given, given.resolve()}:
        try:
            for parent in reversed(target.parents):
                if not _allowed(os.stat(parent), uid, gid, 1):
                    return False
            if not _allowed(os.stat(target), uid, gid, bits):
                return False
        except OSError:
            return False
    return True


def protect(paths) -> list[str]:
    """Remove every permission of "other" users from ``paths`` (``chmod
    o-rwx``), so that an unprivileged worker can neither enter nor list them.

    Owner and group keep their access (the grader runs as root). Returns one
    note per folder changed.
    """
    notes = []
    for path in paths:
        path = Path(path).resolve()
        if path == Path("/") or not path.is_dir():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o007:
            os.chmod(path, mode & ~0o007)
            notes.append(f"made {path} private to its owner and group (chmod "
                         f"o-rwx, was {mode:o}) so that student code cannot read it")
    return notes


def share_with_worker(path, slot: int = 0) -> None:
    """Let slot ``slot``'s worker (and nobody else) read a submission folder.

    As root: owner root, group ``BASE_UID + slot``, mode 0750, so that workers
    of other slots (other uids) cannot read it. Otherwise: mode 0755 (the
    worker runs as this user anyway).
    """
    path = Path(path)
    if os.geteuid() == 0:
        os.chown(path, 0, BASE_UID + slot)
        os.chmod(path, 0o750)
    else:
        os.chmod(path, 0o755)


# ------------------------------------------------------------------ worker runtime
@dataclass(frozen=True)
class Runtime:
    """A Python installation an unprivileged worker can run.

    Attributes
    ----------
    python : str
        The interpreter.
    env : dict
        Extra environment (``LD_LIBRARY_PATH`` for a shared ``libpython``).
    notes : tuple of str
        What was done, for the log.
    """

    python: str
    env: dict
    notes: tuple = ()


def _runtime_sources() -> dict[str, Path]:
    """``{relative destination: source}`` of everything the runtime holds."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    exe = Path(sys.executable).resolve()
    stdlib = Path(sysconfig.get_path("stdlib")).resolve()
    lib = Path("lib") / version
    out = {f"bin/{exe.name}": exe, str(lib): stdlib}
    dynload = sysconfig.get_config_var("DESTSHARED")
    if dynload and Path(dynload).is_dir() and stdlib not in Path(
            dynload).resolve().parents:
        out[str(lib / "lib-dynload")] = Path(dynload).resolve()
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        name = sysconfig.get_config_var("INSTSONAME")
        libdir = sysconfig.get_config_var("LIBDIR")
        if name and libdir and (Path(libdir) / name).exists():
            out[f"lib/{name}"] = (Path(libdir) / name).resolve()
    site = lib / "site-packages"
    for name in RUNTIME_PACKAGES:
        module = __import__(name)
        pkg = Path(module.__file__).resolve().parent
        out[str(site / name)] = pkg
        libs = pkg.parent / f"{name}.libs"
        if libs.is_dir():
            out[str(site / libs.name)] = libs
    out[str(site / "course_lib")] = Path(course_lib.__file__).resolve().parent
    return out


def _runtime_key(sources: dict[str, Path]) -> str:
    """Changes whenever the interpreter, a package or course_lib changes.

    Installed folders are identified by their inode and modification time
    (``pip`` replaces them); ``course_lib``, edited in place, file by file.
    """
    h = hashlib.sha256(sys.version.encode())
    for name in RUNTIME_PACKAGES:
        h.update(f"{name}={getattr(__import__(name), '__version__', '')}".encode())
    for rel, src in sorted(sources.items()):
        st = src.stat()
        h.update(f"{rel}={src}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode())
        if rel.endswith("/course_lib"):
            for f in sorted(src.rglob("*.py")):
                fst = f.stat()
                h.update(f"{f.relative_to(src)}:{fst.st_size}:"
                         f"{fst.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def _place(src: str, dst: str) -> str:
    """Hard-link ``src`` to ``dst`` when that gives the worker a read-only
    file; copy it (readable by all, writable by none but root) otherwise."""
    st = os.stat(src)
    if st.st_uid == 0 and not st.st_mode & 0o7022 and st.st_mode & 0o004:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            pass
    shutil.copyfile(src, dst)
    os.chmod(dst, (stat.S_IMODE(st.st_mode) & 0o755) | 0o444)
    return dst


def _skip_in_stdlib(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _STDLIB_SKIP or n.startswith("config-")}


def _build_runtime(dest: Path, sources: dict[str, Path]) -> None:
    for rel, src in sorted(sources.items()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_file():
            _place(str(src), str(target))
        else:
            shutil.copytree(src, target, copy_function=_place, dirs_exist_ok=True,
                            ignore=_skip_in_stdlib if rel.count("/") == 1 else None)
    for folder, dirs, _ in os.walk(dest):
        for d in dirs:
            os.chmod(os.path.join(folder, d), 0o755)
    os.chmod(dest, 0o755)
    (dest / ".complete").write_text(sys.version + "\n")


def _trusted_dir(path: Path) -> bool:
    """A real folder, owned by root, that no one else may write to."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o022


def _runtime_parent() -> Path | None:
    """``/var/tmp/course-worker-runtimes`` (root-owned, 0711), or None when it
    cannot be trusted (someone else made it first)."""
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(
        tempfile.gettempdir())
    parent = base / "course-worker-runtimes"
    try:
        parent.mkdir(mode=0o711)
    except FileExistsError:
        pass
    except OSError:
        return None
    return parent if _trusted_dir(parent) else None


#: Cached runtimes unused for this long are removed (course_lib edits make new ones).
_RUNTIME_MAX_AGE = 2 * 24 * 3600


def _prune_runtimes(parent: Path, keep: Path) -> None:
    now = time.time()
    for entry in parent.iterdir():
        if entry == keep:
            continue
        marker = entry / ".complete"
        try:
            age = now - (marker if marker.exists() else entry).stat().st_mtime
        except OSError:
            continue
        if age > _RUNTIME_MAX_AGE:
            shutil.rmtree(entry, ignore_errors=True)


def worker_runtime(uid: int, gid: int) -> Runtime:
    """A read-only copy of the interpreter, its standard library,
    :data:`RUNTIME_PACKAGES` and ``course_lib`` that ``uid`` can run.

    The originals may be out of the worker's reach (a virtualenv inside the
    course folder, which :func:`protect` closes; an interpreter under
    ``/root``), and ``course_lib`` must not be read from the course folder. The
    copy is hard-linked where possible (no space used) and cached in
    ``/var/tmp/course-worker-runtimes/<key>`` (owned by root, writable by
    root only), rebuilt whenever one of its sources changes. Student code
    there may import the standard library, numpy and ``course_lib`` only.

    Parameters
    ----------
    uid, gid : int
        The worker's ids (only to report what it could not read).

    Returns
    -------
    Runtime

    Raises
    ------
    SandboxError
        When the copy cannot be made.
    """
    sources = _runtime_sources()
    closed = sorted(str(src) for src in sources.values()
                    if not can_access(src, uid, gid, os.R_OK))
    notes = []
    if closed:
        notes.append(f"uid {uid} cannot read {', '.join(closed[:3])}"
                     + (" ..." if len(closed) > 3 else ""))
    key = _runtime_key(sources)
    parent = _runtime_parent()
    try:
        if parent is None:  # untrusted shared cache: a private copy, for this run
            dest = Path(tempfile.mkdtemp(prefix="course-worker-runtime-"))
            _build_runtime(dest, sources)
            os.chmod(dest, 0o755)
        else:
            dest = parent / key
            if not (_trusted_dir(dest) and (dest / ".complete").is_file()):
                shutil.rmtree(dest, ignore_errors=True)
                tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=parent))
                _build_runtime(tmp, sources)
                try:
                    os.rename(tmp, dest)
                except OSError:  # another grader built it meanwhile
                    shutil.rmtree(tmp, ignore_errors=True)
            os.utime(dest / ".complete")  # in use: not pruned
            _prune_runtimes(parent, keep=dest)
    except OSError as exc:
        raise SandboxError(
            f"could not build a Python runtime readable by uid {uid} "
            f"({type(exc).__name__}: {exc}); refusing to run student code as root"
        ) from None
    python = dest / f"bin/{Path(sys.executable).resolve().name}"
    env = {}
    if any(rel.startswith("lib/lib") for rel in sources):
        env["LD_LIBRARY_PATH"] = str(dest / "lib")
    notes.append(f"the worker runs a read-only copy of Python {sys.version.split()[0]}"
                 f", numpy and course_lib at {dest}")
    return Runtime(str(python), env, tuple(notes))


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


def _setpriv_args(uid: int) -> list[str]:
    """Become ``uid`` (group ``uid``, no other groups), without capabilities
    and unable to gain privileges again (setuid binaries included)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in processes().values():
        try:
            if entry.stat().st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def prefix(student_dir: Path, limits: Limits, mode: Mode, slot: int = 0,
           token: str = "", *, workdir: Path | None = None,
           extra_env: dict | None = None) -> list[str]:
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
    workdir : Path, optional
        ``rlimits`` mode as root: the worker's own directory (its working
        directory, ``HOME`` and ``TMPDIR``), owned by its uid; required there
        (:class:`Sandbox` makes one).
    extra_env : dict, optional
        More variables for the worker (``LD_LIBRARY_PATH`` of its runtime).

    Returns
    -------
    list of str
        For example ``["prlimit", ..., "--", "bwrap", ..., "--"]``, or in
        ``rlimits`` mode as root ``["prlimit", ..., "--", "setpriv", ...,
        "--", "env", "-i", "-C", workdir, "HOME=...", ...]``.
    """
    student_dir = Path(student_dir).resolve()
    root = os.geteuid() == 0
    if root:
        nproc = limits.nproc          # counted for the worker's own uid only
    else:
        # the kernel counts every process of the real uid
        nproc = _user_process_count() + limits.nproc
    cmd = _rlimit_args(limits, nproc)
    if mode.name != "bwrap":
        if not root:
            env = _env(token, str(student_dir))
            # (no "--" after the assignments: env would take it as the command)
            return cmd + ["env", "-i", "-C", str(student_dir)] + [
                f"{k}={v}" for k, v in sorted(env.items())]
        if workdir is None:
            raise ValueError("rlimits mode as root needs the worker's own workdir "
                             "(use Sandbox(...).prefix())")
        env = _env(token, str(workdir))
        env.update({"TMPDIR": str(workdir), "MPLCONFIGDIR": str(workdir)})
        env.update(extra_env or {})
        return cmd + _setpriv_args(BASE_UID + slot) + [
            "env", "-i", "-C", str(workdir)] + [
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
        cmd += ["--"] + _setpriv_args(BASE_UID + slot)[:-1]
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
        root = str(package_parent())
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
    for pid, entry in processes().items():
        if pid == os.getpid():
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
            found.append(pid)
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
