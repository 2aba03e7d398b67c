"""Read a student's upload defensively: a folder or a zip, never trusted.

Only the exercise files (``chNN_<slug>.py``) are taken, found anywhere in the
upload (an ``exercises/`` folder first, then the shallowest), and copied flat
into a fresh folder. Every file is opened without following links and without
blocking (``O_NOFOLLOW | O_NONBLOCK``) and must be a regular file: a named pipe,
socket, device node or symbolic link is skipped with a note, never read. A zip
is read entry by entry (never ``extractall``); absolute paths, ``..`` and link
entries are refused; each file is capped at :data:`MAX_FILE_BYTES`; an entry
that is there twice is taken from its last copy; an entry that cannot be
decompressed is skipped, and the others are still graded. Upper-case ``.ZIP``
works like ``.zip``.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

#: Largest exercise file accepted (bytes).
MAX_FILE_BYTES = 1 << 20
#: Most bytes read from one upload's exercise files together.
MAX_UPLOAD_BYTES = 64 << 20
#: Most entries looked at in a zip or a folder.
MAX_ENTRIES = 100_000

_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a device", stat.S_IFBLK: "a device",
          stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder"}


class Refused(ValueError):
    """An upload entry that is not read (the message says why)."""


def is_zip_name(name: str) -> bool:
    """``.zip`` in any case."""
    return name.lower().endswith(".zip")


def kind_of(mode: int) -> str:
    """What a file is, in words ("a named pipe", "a regular file", ...)."""
    return _KINDS.get(stat.S_IFMT(mode), "a regular file" if stat.S_ISREG(mode)
                      else "a special file")


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file.

    Never follows a symbolic link and never blocks (a named pipe is not
    waited on). Raises :class:`Refused` for anything else.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        try:
            what = kind_of(os.lstat(path).st_mode)
        except OSError:
            what = "unreadable"
        raise Refused(f"{what} ({exc.strerror})" if what.startswith("a ")
                      else f"cannot be opened ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise Refused(f"{kind_of(mode)}, not a file")
    return fd


def _read_capped(read) -> bytes:
    data = read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Refused(f"larger than {MAX_FILE_BYTES >> 10} KiB")
    return data


def _write_new(dest: Path, data: bytes) -> None:
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _rank(rel: Path, order: int) -> tuple:
    """Prefer an ``exercises`` folder, then the shallowest, then the last copy."""
    return ("exercises" not in rel.parts[:-1], len(rel.parts), -order)


class _Copier:
    """Keeps the notes and the byte budget of one upload."""

    def __init__(self, dest: Path, wanted: dict[str, str]):
        self.dest, self.wanted = dest, wanted
        self.notes: list[str] = []
        self.budget = MAX_UPLOAD_BYTES

    def put(self, name: str, rel, read) -> None:
        try:
            data = _read_capped(read)
        except Refused as exc:
            self.notes.append(f"skipped {rel}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001  (zlib.error, CRC, EOF, ...)
            self.notes.append(f"skipped {rel}: it cannot be read "
                              f"({type(exc).__name__}: {exc})")
            return
        if len(data) > self.budget:
            self.notes.append(f"skipped {rel}: the upload's files pass "
                              f"{MAX_UPLOAD_BYTES >> 20} MiB")
            return
        self.budget -= len(data)
        _write_new(self.dest / name, data)

    def open(self, path: Path, rel):
        """``path`` opened for reading if it is a regular file, else a note."""
        try:
            return os.fdopen(open_regular(path), "rb")
        except Refused as exc:
            self.notes.append(f"skipped {rel}: {exc}")
            return None

    def found(self) -> dict[str, Path]:
        return {self.wanted[p.name]: p for p in sorted(self.dest.glob("*.py"))}


def collect_submission(src: Path, dest: Path, modules: dict[str, str]
                       ) -> tuple[dict[str, Path], list[str]]:
    """Copy an upload's exercise files into ``dest`` (flat, safe).

    Parameters
    ----------
    src : Path
        A folder or a zip (``.zip`` in any case).
    dest : Path
        An empty folder; receives ``<module>.py`` files only.
    modules : dict
        ``{"ch01": "ch01_forward_pass", ...}``.

    Returns
    -------
    found : dict
        ``{"ch01": dest / "ch01_forward_pass.py", ...}``.
    notes : list of str
        What was skipped and why (one line each).
    """
    copier = _Copier(Path(dest), {f"{m}.py": ch for ch, m in modules.items()})
    src = Path(src)
    try:
        mode = os.lstat(src).st_mode
    except OSError as exc:
        return {}, [f"{src.name} cannot be read ({exc.strerror})"]
    if stat.S_ISDIR(mode):
        _read_folder(src, copier)
    elif stat.S_ISREG(mode) and is_zip_name(src.name):
        _read_zip_file(src, copier)
    else:
        return {}, [f"{src.name} is {kind_of(mode)}, neither a folder nor a zip"]
    return copier.found(), copier.notes


def _walk(src: Path, copier: _Copier) -> tuple[dict[str, list], list[Path]]:
    """Candidates ``{name: [(rank, rel, path)]}`` and the zips met on the way."""
    candidates: dict[str, list] = {}
    zips: list[Path] = []
    seen = 0
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and d != "__pycache__" and d != "__MACOSX")
        for name in sorted(files):
            seen += 1
            if seen > MAX_ENTRIES:
                copier.notes.append(f"stopped looking after {MAX_ENTRIES} files")
                return candidates, zips
            path = Path(root) / name
            rel = path.relative_to(src)
            if name in copier.wanted:
                candidates.setdefault(name, []).append((_rank(rel, 0), rel, path))
            elif is_zip_name(name) and len(rel.parts) == 1:
                zips.append(path)
    return candidates, zips


def _read_folder(src: Path, copier: _Copier) -> None:
    candidates, zips = _walk(src, copier)
    for name, options in sorted(candidates.items()):
        for _, rel, path in sorted(options, key=lambda o: o[0]):
            f = copier.open(path, rel)
            if f is None:
                continue
            with f:
                copier.put(name, rel, f.read)
            break
    if not candidates:
        # a folder holding the student's zip (Gradescope keeps uploads so)
        for inner in zips:
            before = len(copier.found())
            _read_zip_file(inner, copier)
            if len(copier.found()) > before:
                copier.notes.append(f"read {inner.name}")
                break


def _read_zip_file(path: Path, copier: _Copier) -> None:
    f = copier.open(path, path.name)
    if f is None:
        return
    with f:
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            copier.notes.append(f"{path.name} is not a readable zip: {exc}")
            return
        with archive:
            _read_zip(archive, copier)


def _zip_candidates(archive: zipfile.ZipFile, copier: _Copier) -> dict[str, list]:
    candidates: dict[str, list] = {}
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        copier.notes.append(f"looked at the first {MAX_ENTRIES} of "
                            f"{len(infos)} entries")
    for order, info in enumerate(infos[:MAX_ENTRIES]):
        name = info.filename.replace("\\", "/")
        rel = Path(name)
        if name.startswith("/") or ".." in rel.parts or ":" in (rel.parts or ("",))[0]:
            copier.notes.append(f"refused unsafe path {info.filename!r}")
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            copier.notes.append(f"refused symlink {info.filename!r}")
            continue
        if info.is_dir() or rel.name not in copier.wanted or "__MACOSX" in rel.parts:
            continue
        candidates.setdefault(rel.name, []).append((_rank(rel, order), rel, info))
    return candidates


def _read_zip(archive: zipfile.ZipFile, copier: _Copier) -> None:
    for name, options in sorted(_zip_candidates(archive, copier).items()):
        options.sort(key=lambda o: o[0])
        copies = sum(o[1] == options[0][1] for o in options)
        if copies > 1:
            copier.notes.append(f"{options[0][1]} is in the zip {copies} times: "
                                "graded its last copy")
        for _, rel, info in options:
            before = len(copier.notes)

            def read(n, info=info):
                with archive.open(info) as f:
                    return f.read(n)

            copier.put(name, rel, read)
            if len(copier.notes) == before:
                break
