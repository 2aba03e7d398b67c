"""The leak scan: what a student bundle must never hold.

:func:`scan_for_leaks` reads every file of a folder (notebooks cell by cell,
markdown and comments included) and reports

- a line of a reference answer: one long, distinctive line of a solution
  block, or half of a block's lines (lines the public engine or the public
  tests also have are not counted: students have those anyway). Every file
  is scanned against the answers of *every* chapter, released or not, and a
  block's line is excused only by its own chapter's stub (the code outside
  the blocks of the same solution file): a helper given in one chapter's
  stub that is another chapter's answer (chapter 3's stub with a stable
  sigmoid, which is exercise 1.1) is a leak, except the few lines listed,
  with the reason, in :data:`REVIEWED`;
- a hidden test: its file, its name, or a line of its body;
- the oracles of the graded tests (``oracles.py``: the bundle gets their
  values, ``expected.json``);
- compiled bytecode, a notebook with outputs, a ``solutions`` folder, a cache
  or version-control folder, a symbolic link.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.markers import block_lines, parse_blocks
from ..core.paths import package_parent

#: Solution lines shorter than this (after normalising whitespace) are too
#: generic to call a leak (``return out``, ``else:``).
MIN_LINE_CHARS = 12
#: Comment lines shorter than this are ignored.
MIN_COMMENT_CHARS = 24
#: Hidden-test lines at least this long (and absent from the public tests)
#: count as a leak of the hidden test's body.
MIN_HIDDEN_LINE_CHARS = 30
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".json", ".ipynb",
                 ".yml", ".yaml", ".sh", ".csv", ".rst", ".html", ".js", ".css", ""}
#: Files of ``tests/exercises`` that never reach a student.
NEVER_SHIPPED = ("oracles.py",)
#: Answer lines that another chapter's stub or page holds on purpose, and why
#: that reveals nothing. Each was reviewed; any other line of an answer that a
#: shipped file holds is reported.
REVIEWED = {
    "return forward(self.layers, X)": (
        "exercise 4.2 (NeuralNetwork.feedforward) is one call of the learner's "
        "chapter 1 forward; chapter 5's Sequential.forward is given as the same "
        "call"),
}
#: A line that only turns an argument into a float array (``z =
#: np.asarray(z, dtype=float)``) reveals nothing of an answer.
_CAST = re.compile(r"^(\w+) = np\.asarray\(\1(, dtype=float)?\)$")
_TRIVIAL = {"return", "pass", "else:", "try:", "finally:", "break", "continue",
            ")", "]", "}", "),", "],", "},", "return None", "return out"}


def repo_root() -> Path:
    """The repository (or bundle) root: the folder holding ``course_lib``."""
    return package_parent()


@dataclass(frozen=True)
class Leak:
    """One finding of the leak scan.

    Attributes
    ----------
    path : str
        File (relative to the bundle) where it was found.
    kind : str
        ``solution-line``, ``hidden-test``, ``oracle``, ``bytecode``,
        ``notebook-output``, ``solutions-dir``, ``cache``, ``symlink``.
    detail : str
        What was found (and where it comes from).
    """

    path: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


def normalise(line: str) -> str:
    """Strip a line and collapse runs of whitespace to one space."""
    return " ".join(line.split())


def _is_trivial(norm: str) -> bool:
    if not norm or norm in _TRIVIAL or _CAST.match(norm):
        return True
    if norm.startswith("#"):
        return len(norm) < MIN_COMMENT_CHARS
    return len(norm) < MIN_LINE_CHARS


@dataclass
class SolutionBlock:
    """The non-trivial, non-public lines of one solution block.

    Attributes
    ----------
    where : str
        ``solutions/ch03_chain_rule.py:57`` (the BEGIN line).
    lines : list of str
        Normalised lines that would reveal the answer.
    size : int
        Non-trivial lines in the block (public ones included).
    """

    where: str
    lines: list
    size: int


def public_lines(root: Path | None = None) -> set[str]:
    """Normalised lines of what is published with the course anyway.

    The engine (``course_lib`` outside ``grading/``) and the public graded
    tests (not their oracles) ship in every bundle and appear in the book; a
    solution line that is also one of theirs is not something the release can
    hide.
    """
    root = Path(root or repo_root())
    out: set[str] = set()
    files = [p for p in (root / "course_lib").rglob("*.py")
             if "grading" not in p.relative_to(root / "course_lib").parts]
    files += [p for p in (root / "tests" / "exercises").glob("*.py")
              if p.name not in NEVER_SHIPPED]
    for path in files:
        out.update(normalise(x) for x in path.read_text().splitlines())
    return out


def solution_blocks(solutions_dir: Path, public: set[str] | None = None
                    ) -> list[SolutionBlock]:
    """Every solution block's revealing lines, normalised.

    Left out: trivial lines (short, ``return``, short comments), imports,
    lines that also occur outside the blocks of the same solution file (its
    stub keeps them), lines in ``public`` (see :func:`public_lines`) and the
    reviewed lines of :data:`REVIEWED`. A line outside the blocks of
    *another* chapter's file is kept: that chapter's stub would hand out this
    chapter's answer, and the scan must see it.

    Parameters
    ----------
    solutions_dir : Path
    public : set of str, optional

    Returns
    -------
    list of SolutionBlock
    """
    public = public or set()
    blocks = []
    for path in sorted(Path(solutions_dir).glob("*.py")):
        raw, outside = _blocks_of(path)  # its own stub's lines only
        for where, lines in raw:
            keep = [x for x in lines if x not in outside and x not in public
                    and x not in REVIEWED
                    and not x.startswith(("import ", "from "))]
            if keep:
                blocks.append(SolutionBlock(where, keep, len(lines)))
    return blocks


def _blocks_of(path: Path) -> tuple[list[tuple[str, list[str]]], set[str]]:
    """(where, non-trivial lines) of each block of one file, and its other lines.

    A line outside the blocks of *this* file is in its stub anyway; the same
    line outside the blocks of another chapter's file is not excused (that
    stub would hand out this chapter's answer).
    """
    text = path.read_text()
    inside: set[int] = set()
    raw: list[tuple[str, list[str]]] = []
    for block in parse_blocks(text, f"solutions/{path.name}"):
        inside.update(range(block.begin, block.end + 1))
        body = [normalise(x) for x in block_lines(text, block)]
        raw.append((f"solutions/{path.name}:{block.begin}",
                    [x for x in body if not _is_trivial(x)]))
    outside = {normalise(x) for no, x in enumerate(text.splitlines(), 1)
               if no not in inside}
    return raw, outside


def solution_lines(solutions_dir: Path) -> dict[str, str]:
    """``{normalised line: where}`` of every block (see :func:`solution_blocks`)."""
    return {x: b.where for b in solution_blocks(solutions_dir) for x in b.lines}


def hidden_markers(tests_dir: Path) -> tuple[set[str], dict[str, str]]:
    """Names and body lines that identify the hidden tests.

    Parameters
    ----------
    tests_dir : Path
        ``tests/exercises`` (its ``hidden/`` folder is read).

    Returns
    -------
    names : set of str
        Hidden test function names and hidden file names.
    lines : dict
        Long hidden-test lines absent from every public test file, mapped to
        where they come from.
    """
    hidden_dir = Path(tests_dir) / "hidden"
    names: set[str] = set()
    lines: dict[str, str] = {}
    if not hidden_dir.is_dir():
        return names, lines
    public: set[str] = set()
    public_names: set[str] = set()
    for path in Path(tests_dir).glob("*.py"):
        text = path.read_text()
        public.update(normalise(x) for x in text.splitlines())
        public_names.add(path.name)
        public_names.update(re.findall(r"def (test_\w+)", text))
    for path in sorted(hidden_dir.rglob("*.py")):
        text = path.read_text()
        if path.name != "__init__.py" and path.name != "conftest.py":
            names.add(path.name)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.name.startswith("test_"):
                names.add(node.name)
        for no, line in enumerate(text.splitlines(), 1):
            norm = normalise(line)
            if len(norm) >= MIN_HIDDEN_LINE_CHARS and norm not in public \
                    and not norm.startswith(("import ", "from ")):
                lines.setdefault(norm, f"{path.relative_to(tests_dir)}:{no}")
    return names - public_names, lines


def _notebook_text(path: Path, leaks: list, rel: str) -> str:
    try:
        nb = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        leaks.append(Leak(rel, "unreadable", f"not a valid notebook: {exc}"))
        return path.read_text(errors="replace")
    parts = []
    for i, cell in enumerate(nb.get("cells", [])):
        src = cell.get("source", "")
        parts.append(src if isinstance(src, str) else "".join(src))
        if cell.get("outputs") or cell.get("execution_count") is not None:
            leaks.append(Leak(rel, "notebook-output",
                              f"cell {i} has outputs or an execution count"))
        for out in cell.get("outputs", []) or []:
            parts.append(json.dumps(out))
        parts.extend(cell.get("attachments") or {})
    return "\n".join(parts)


#: A single solution line at least this long is enough to call a file a leak;
#: shorter ones count only when half of their block is there.
DISTINCTIVE_CHARS = 24


def scan_for_leaks(bundle: Path, solutions_dir: Path | None = None,
                   tests_dir: Path | None = None,
                   extra_names: set[str] | None = None) -> list[Leak]:
    """Look for anything a student must not get in a folder.

    A file leaks a solution block when it contains one of the block's
    revealing lines of at least :data:`DISTINCTIVE_CHARS` characters, or
    revealing lines making up half of the block's non-trivial lines (two at
    least). Whitespace is
    normalised; lines are matched whole, and long ones inside longer lines
    too (a notebook's markdown, a comment).

    Parameters
    ----------
    bundle : Path
        The folder to scan (every file, recursively, symlinks included).
    solutions_dir : Path, optional
        Reference answers (default: ``solutions/`` of the repository).
    tests_dir : Path, optional
        Graded tests (default: ``tests/exercises`` of the repository).
    extra_names : set of str, optional
        More strings that must not appear (e.g. hidden test names).

    Returns
    -------
    list of Leak
        Empty when the bundle is clean.
    """
    root = repo_root()
    solutions_dir = Path(solutions_dir or root / "solutions")
    tests_dir = Path(tests_dir or root / "tests" / "exercises")
    blocks = solution_blocks(solutions_dir, public_lines(root))
    sol_texts = {p.read_bytes() for p in solutions_dir.glob("*.py")}
    names, hidden_lines = hidden_markers(tests_dir)
    names |= set(extra_names or ())
    leaks: list[Leak] = []
    bundle = Path(bundle)
    for path in sorted(bundle.rglob("*")):
        rel = str(path.relative_to(bundle))
        found, readable = _where_leaks(path, path.relative_to(bundle).parts, names)
        leaks += [Leak(rel, kind, detail) for kind, detail in found]
        if not readable:
            continue
        raw = path.read_bytes()
        if raw in sol_texts:
            leaks.append(Leak(rel, "solution-line", "a copy of a solution file"))
            continue
        if path.suffix == ".ipynb":
            text = _notebook_text(path, leaks, rel)
        elif path.suffix.lower() in TEXT_SUFFIXES or b"\0" not in raw[:4096]:
            text = raw.decode("utf-8", errors="replace")
        else:
            continue
        _scan_text(text, rel, blocks, names, hidden_lines, leaks)
    return leaks


_CACHES = (".pytest_cache", ".ipynb_checkpoints", ".git", ".hypothesis")


def _where_leaks(path: Path, parts: tuple, names: set) -> tuple[list, bool]:
    """Leaks given away by a path itself, and whether to read the file."""
    found = []
    if any(p.lower().startswith("solution") for p in parts[:-1]) or (
            path.is_dir() and path.name.lower().startswith("solution")):
        found.append(("solutions-dir", "a solutions folder"))
    if "__pycache__" in parts or path.suffix in (".pyc", ".pyo"):
        return found + [("bytecode", "compiled Python (may embed code)")], False
    if any(p in _CACHES for p in parts):
        return found + [("cache", "a cache or VCS folder")], False
    if "hidden" in parts:
        found.append(("hidden-test", "a hidden tests folder"))
    if path.is_symlink():
        return found + [("symlink", f"points to {os.readlink(path)}")], False
    if path.is_dir():
        return found, False
    if path.name in names:
        found.append(("hidden-test", "a hidden test file"))
    if path.name in NEVER_SHIPPED and re.search(
            r"^\s*(def|class)\s|\blambda\b", path.read_text(errors="replace"), re.M):
        found.append(("oracle", "the oracles' code (a release ships their values: "
                      "expected.json, replayed by a generated oracles.py)"))
    return found, True


def _scan_text(text: str, rel: str, blocks: list, names: set,
               hidden_lines: dict, leaks: list) -> None:
    norm_lines = [normalise(x) for x in text.splitlines()]
    line_set = set(norm_lines)
    joined = "\n".join(norm_lines)
    for block in blocks:
        hits = [x for x in block.lines if x in line_set or (
            len(x) >= DISTINCTIVE_CHARS and x in joined)]
        long_hits = [x for x in hits if len(x) >= DISTINCTIVE_CHARS]
        if long_hits or len(hits) >= max(2, (block.size + 1) // 2):
            shown = (long_hits or hits)[0]
            leaks.append(Leak(rel, "solution-line",
                              f"{len(hits)} line(s) of the block at {block.where}, "
                              f"e.g. {shown!r}"))
    for name in sorted(names):
        if name in joined:
            leaks.append(Leak(rel, "hidden-test", f"names hidden test {name!r}"))
    for x in sorted(line_set & set(hidden_lines)):
        leaks.append(Leak(rel, "hidden-test",
                          f"line {x!r} of hidden test {hidden_lines[x]}"))


