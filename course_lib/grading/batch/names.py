"""Student ids from upload names, and the outputs no upload name can reach.

An upload's id is its name (without ``.zip``) made safe: letters and digits of
any script, ``-``, ``_``, ``.`` and ``@``; anything else becomes ``_``; it never
starts with ``.``, ``-`` or a spreadsheet formula sign, is at most
:data:`MAX_ID` characters (a long name keeps a short hash of the whole), and is
unique in the batch, ignoring case (``alice``, ``alice-2``, ...): two uploads
never share a folder or a row. The outputs of a batch are laid out so that no
id can name one of them: ``OUT/grades.csv``, ``OUT/summary.md`` and one
folder per upload under ``OUT/students/``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from pathlib import Path

from .uploads import is_zip_name, kind_of

#: Longest id (characters).
MAX_ID = 64

#: Where the per-student results go, under the output folder.
STUDENTS = "students"
GRADEBOOK = "grades.csv"
SUMMARY = "summary.md"


def safe_id(name: str) -> str:
    """The id of an upload called ``name`` (before de-duplication)."""
    stem = name[:-4] if is_zip_name(name) else name
    stem = unicodedata.normalize("NFC", stem)
    out = "".join(c if (c.isalnum() or c in "-_.@") and c.isprintable() else "_"
                  for c in stem)
    out = out.lstrip(".-=+@")
    if not out.strip("._"):
        out = "_" + out.strip(".") if out.strip(".") else "_"
    if len(out) > MAX_ID:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()
        out = f"{out[:MAX_ID - 9]}-{digest[:8]}"
    return out


def unique_ids(names: list[str]) -> list[str]:
    """:func:`safe_id` of each name, made unique ignoring case."""
    base = [safe_id(n) for n in names]
    counts: dict[str, int] = {}
    for b in base:
        counts[b.casefold()] = counts.get(b.casefold(), 0) + 1
    taken = {b.casefold() for b in base if counts[b.casefold()] == 1}
    out = []
    for b in base:
        if counts[b.casefold()] == 1:
            out.append(b)
            continue
        sid, n = b, 1
        while sid.casefold() in taken:
            n += 1
            sid = f"{b}-{n}"
        taken.add(sid.casefold())
        out.append(sid)
    return out


def discover(submissions: Path) -> list[tuple[str, Path, str]]:
    """Every upload in ``submissions``: ``(id, path, problem)``.

    A folder or a zip (any case) is an upload; so is any entry that is not a
    regular file (a named pipe, a link, a device), with a ``problem`` saying
    why it scores 0, so that it still gets its row. Regular files with
    another ending (a README) and names starting with ``.`` or ``__`` are
    skipped.

    Returns
    -------
    list of tuple
        Sorted by name.
    """
    entries = []
    for entry in sorted(os.scandir(submissions), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name.startswith("__"):
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and not is_zip_name(entry.name):
            continue
        problem = ""
        if stat.S_ISLNK(mode):
            problem = "the upload is a symbolic link; it was not followed"
        elif not (stat.S_ISDIR(mode) or (stat.S_ISREG(mode)
                                         and is_zip_name(entry.name))):
            problem = f"the upload is {kind_of(mode)}, neither a folder nor a zip"
        entries.append((entry.name, Path(entry.path), problem))
    ids = unique_ids([name for name, _, _ in entries])
    return [(sid, path, problem) for sid, (_, path, problem) in zip(ids, entries)]


def student_dir(out: Path, sid: str) -> Path:
    """``OUT/students/<id>``, where nothing else of the batch is written."""
    return Path(out) / STUDENTS / sid
