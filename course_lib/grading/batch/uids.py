"""User ids for the workers when grading as root: one per slot, never shared.

Worker slot ``k`` needs a user id no other process uses, so that its process
count (``RLIMIT_NPROC``), its files in the shared temporary folders and its
processes can be counted, swept and killed by user id without touching anyone
else's. A grader claims one with an exclusive lock (``flock``) on
``/var/tmp/course-worker-uids/<uid>`` that it holds while it lives; another
grader on the same machine (a second batch, a test suite) takes the next free
one. Children of the claiming process are given the id (``--uid``).
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

#: First user id tried for slot 0.
BASE_UID = 61000
#: How many ids above :data:`BASE_UID` may be claimed.
SPAN = 1000

_claimed: dict[int, tuple[int, int]] = {}  # slot -> (uid, locked fd)


def _lock_dir() -> Path | None:
    path = Path("/var/tmp") / "course-worker-uids"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    st = os.lstat(path)
    trusted = stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not (
        st.st_mode & 0o077)
    return path if trusted else None


def worker_uid(slot: int = 0) -> int:
    """The user id of slot ``slot``'s worker, claimed for this process."""
    if slot in _claimed:
        return _claimed[slot][0]
    folder = _lock_dir()
    if folder is None:  # no safe place for locks: the fixed id of the slot
        return BASE_UID + slot
    taken = {uid for uid, _ in _claimed.values()}
    for uid in range(BASE_UID + slot, BASE_UID + SPAN):
        if uid in taken:
            continue
        fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _claimed[slot] = (uid, fd)
        return uid
    return BASE_UID + slot
