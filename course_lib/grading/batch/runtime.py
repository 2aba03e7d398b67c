"""A read-only copy of Python, numpy and course_lib that an unprivileged worker can run.

Used by the fallback as root (:mod:`.sandbox`): the interpreter and packages
the grader runs may sit where the worker's user id cannot read them (a
virtualenv in the course folder, which is made private; ``/root``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import course_lib

from .modes import SandboxError
from .permissions import can_access

#: Third-party packages copied into the worker's runtime in ``rlimits`` mode as
#: root (besides the standard library and ``course_lib``): what the exercise
#: files may import. Their ``<name>.libs`` folders (bundled shared libraries)
#: come along.
RUNTIME_PACKAGES = ("numpy",)

#: Parts of the standard library the worker never needs (left out of its copy).
_STDLIB_SKIP = frozenset({"site-packages", "dist-packages", "test", "idlelib",
                          "tkinter", "turtledemo", "ensurepip", "lib2to3"})


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


def _cached_runtime(sources: dict[str, Path]) -> Path:
    """The runtime's folder: from the shared cache (built there if missing),
    or a private copy for this run when the cache cannot be trusted."""
    parent = _runtime_parent()
    if parent is None:
        dest = Path(tempfile.mkdtemp(prefix="course-worker-runtime-"))
        _build_runtime(dest, sources)
        os.chmod(dest, 0o755)
        return dest
    dest = parent / _runtime_key(sources)
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
    return dest


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
    try:
        dest = _cached_runtime(sources)
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
