"""File permissions that keep an unprivileged worker out (the fallback as root).

Without namespaces the file system cannot be hidden from the worker, only
closed by permissions: :func:`protect` closes the course folder to other users,
:func:`share_with_worker` opens a submission's copy to one slot's worker, and
:func:`can_access` tells from the permission bits what a user id may open.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..core.paths import course_root
from .uids import worker_uid

__all__ = ["can_access", "course_root", "protect", "share_with_worker"]


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

    As root: owner root, group the slot's worker uid
    (:func:`~.uids.worker_uid`), mode 0750, so that workers of other slots
    (other uids) cannot read it. Otherwise: mode 0755 (the worker runs as this
    user anyway).
    """
    path = Path(path)
    if os.geteuid() == 0:
        os.chown(path, 0, worker_uid(slot))
        os.chmod(path, 0o750)
    else:
        os.chmod(path, 0o755)
