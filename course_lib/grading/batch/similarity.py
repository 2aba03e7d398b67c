"""Near-copies in a batch: of each other, of ``solutions/``, of the engine.

``grade-batch`` calls :func:`section` once the class is graded; it adds a
*Similarity* section to ``summary.md`` that lists every flagged pair with
the lines they share. The detection is copydetect's (winnowed fingerprints
of the token stream, Schleimer, Wilkerson and Aiken 2003): names of
variables, functions and classes, strings, comments and whitespace are
normalised away before fingerprinting, so renaming variables, re-wording
comments or reordering functions does not hide a copy. The stub that every
student received is boilerplate: its fingerprints (signatures, docstrings,
the ``raise NotImplementedError`` lines) are ignored.

A flag is a lead for a human, not a verdict: short exercises have few ways
to be written, and two honest answers to a one-line exercise can match.
The thresholds are fractions of a submission's own fingerprinted code.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import io
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

#: copydetect's noise threshold (k-gram length, in characters of the
#: normalised token stream) and guarantee threshold (matches at least this
#: long are always found); its defaults.
NOISE = 25
GUARANTEE = 30
#: Fraction of one file found in the other that flags two submissions.
PAIR_THRESHOLD = 0.6
#: Fraction of a submission found in the reference solution.
SOLUTION_THRESHOLD = 0.6
#: Normalised characters shared with one engine file that flag a copy
#: (about four lines of real code), or this fraction of the submission.
ENGINE_MIN_OVERLAP = 120
ENGINE_THRESHOLD = 0.5
#: Lines shown per flagged pair.
MAX_LINES = 12


@dataclass
class Finding:
    """One flagged pair.

    Attributes
    ----------
    submission : str
        The submission (batch id) whose file matches.
    other : str
        Another submission's id, ``solutions/<file>`` or ``course_lib/<file>``.
    kind : str
        ``submission``, ``solutions`` or ``engine``.
    module : str
        The exercise file compared (``ch03_chain_rule``).
    similarity : float
        Fraction of the submission's fingerprinted code found in ``other``
        (for two submissions: the larger of the two fractions).
    lines : list of (int, str)
        Numbered lines of the submission that are part of the match.
    other_lines : list of int
        Line numbers of the match in ``other``.
    """

    submission: str
    other: str
    kind: str
    module: str
    similarity: float
    lines: list = field(default_factory=list)
    other_lines: list = field(default_factory=list)


# ------------------------------------------------------------------ fingerprints
class _OnFirstUse(types.ModuleType):
    """Stands for a module until one of its attributes is used."""

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(self.__name__), attr)


def _copydetect():
    """``copydetect``, imported without ``matplotlib.pyplot``: its detector
    imports pyplot at the top for the HTML report's plots, which the batch
    never draws (a third of a second, and a plotting library in the grader)."""
    if "copydetect" in sys.modules:
        return sys.modules["copydetect"]
    name = "matplotlib.pyplot"
    placeholder = None
    if name not in sys.modules:
        placeholder = sys.modules[name] = _OnFirstUse(name)
    try:
        import copydetect
    finally:
        if placeholder is not None and sys.modules.get(name) is placeholder:
            del sys.modules[name]
    return copydetect


def fingerprint(text: str, name: str = "code.py", boilerplate=None):
    """copydetect's fingerprint of Python source ``text``."""
    CodeFingerprint = _copydetect().CodeFingerprint  # noqa: N806

    return CodeFingerprint(name, NOISE, GUARANTEE - NOISE + 1,
                           boilerplate=boilerplate, language="python",
                           fp=io.StringIO(text))


def boilerplate_hashes(text: str):
    """Every k-gram hash of a stub (what all students start from)."""
    import numpy as np

    CodeFingerprint = _copydetect().CodeFingerprint  # noqa: N806
    fp = CodeFingerprint("stub.py", NOISE, 1, language="python",
                         fp=io.StringIO(text))
    return np.unique(np.array(sorted(fp.hashes)))


@functools.lru_cache(maxsize=4096)
def _line_starts(text: str) -> list[int]:
    """Offsets where the lines of ``text`` start (one list per file and batch:
    a file is in as many pairs as there are submissions)."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


@functools.lru_cache(maxsize=4096)
def _normalised_lines(text: str) -> list[str]:
    """The lines of ``text`` with their whitespace runs made one space."""
    return [" ".join(line.split()) for line in text.splitlines()]


def _line_numbers(text: str, slices) -> list[int]:
    """1-based numbers of the lines that the character ``slices`` touch."""
    starts = _line_starts(text)
    out: set[int] = set()
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    for a, b in zip(slices[0], slices[1]):
        first = bisect.bisect_right(starts, int(a)) - 1
        last = bisect.bisect_right(starts, max(int(a), int(b) - 1)) - 1
        out.update(range(first + 1, last + 2))
    return sorted(out)


def compare(fp_a, fp_b) -> tuple[int, float, float, list[int], list[int]]:
    """(overlap, share of a, share of b, lines of a, lines of b)."""
    compare_files = _copydetect().compare_files
    overlap, (sim_a, sim_b), (sl_a, sl_b) = compare_files(fp_a, fp_b)
    if not overlap:
        return 0, 0.0, 0.0, [], []
    return (int(overlap), float(sim_a), float(sim_b),
            _line_numbers(fp_a.raw_code, sl_a), _line_numbers(fp_b.raw_code, sl_b))


def _own_lines(text: str, numbers: list[int], stub: set[str]) -> list[int]:
    """The ``numbers`` of lines of ``text`` that are neither blank nor stub."""
    lines = _normalised_lines(text)
    return [n for n in numbers if 0 < n <= len(lines) and lines[n - 1] not in stub]


def _numbered(text: str, numbers: list[int]) -> list[tuple[int, str]]:
    lines = text.splitlines()
    return [(n, lines[n - 1]) for n in numbers[:MAX_LINES]]


# ------------------------------------------------------------------ detection
def find_copies(files: dict[str, dict[str, str]], solutions: dict[str, str],
                engine: dict[str, str], stubs: dict[str, str]) -> list[Finding]:
    """Flag near-copies among submissions, of the solutions and of the engine.

    Parameters
    ----------
    files : dict
        ``{submission id: {module: source}}``, the exercise files handed in.
    solutions : dict
        ``{module: source}`` of ``solutions/``.
    engine : dict
        ``{relative path: source}`` of the engine the book demonstrates.
    stubs : dict
        ``{module: source}`` of the stubs handed out (boilerplate).

    Returns
    -------
    list of Finding
        Sorted by module, then by decreasing similarity.
    """
    found: list[Finding] = []
    engine_fps = {path: fingerprint(src, path) for path, src in engine.items()}
    engine_index = _hash_index(engine_fps)
    modules = sorted({m for per in files.values() for m in per})
    for module in modules:
        bp = boilerplate_hashes(stubs[module]) if module in stubs else None
        stub = {" ".join(x.split()) for x in stubs.get(module, "").splitlines()}
        subs = {sid: per[module] for sid, per in sorted(files.items())
                if module in per}
        fps = {sid: fingerprint(src, f"{module}.py", bp) for sid, src in subs.items()}
        found += _pairs(module, subs, fps, stub)
        if module in solutions:
            ref = fingerprint(solutions[module], f"{module}.py", bp)
            found += _against(module, subs, fps, {f"solutions/{module}.py": ref},
                              "solutions", stub)
        found += _against(module, subs, fps, engine_fps, "engine", stub, engine_index)
    found.sort(key=lambda f: (f.module, -f.similarity, f.submission, f.other))
    return found


def _finding(sub: str, other: str, kind: str, module: str, sim: float,
             texts: tuple[str, str], lines: tuple[list, list], stub: set) -> Finding:
    mine = _own_lines(texts[0], lines[0], stub)
    theirs = _own_lines(texts[1], lines[1], stub)
    return Finding(sub, other, kind, module, sim, _numbered(texts[0], mine), theirs)


def _pairs(module: str, subs: dict, fps: dict, stub: set) -> list[Finding]:
    out = []
    ids = list(subs)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            overlap, sim_a, sim_b, lines_a, lines_b = compare(fps[a], fps[b])
            if overlap and max(sim_a, sim_b) >= PAIR_THRESHOLD:
                out.append(_finding(a, b, "submission", module, max(sim_a, sim_b),
                                    (subs[a], subs[b]), (lines_a, lines_b), stub))
    return out


def _hash_index(fps: dict) -> dict[int, set[str]]:
    """``{fingerprint hash: names of the files that have it}``."""
    index: dict[int, set[str]] = {}
    for name, fp in fps.items():
        for h in fp.hashes:
            index.setdefault(int(h), set()).add(name)
    return index


def _sharing(fp, index: dict[int, set[str]]) -> set[str]:
    """The files of ``index`` with at least one hash of ``fp``: copydetect
    finds no overlap with any other (a match is made of shared hashes)."""
    out: set[str] = set()
    for h in fp.hashes:
        out |= index.get(int(h), set())
    return out


def _against(module: str, subs: dict, fps: dict, refs: dict, kind: str,
             stub: set, index: dict | None = None) -> list[Finding]:
    out = []
    for sid, fp in fps.items():
        names = refs if index is None else sorted(_sharing(fp, index))
        for name in names:
            ref = refs[name]
            overlap, sim, _, lines, ref_lines = compare(fp, ref)
            if not overlap:
                continue
            if kind == "solutions":
                hit = sim >= SOLUTION_THRESHOLD
            else:
                hit = overlap >= ENGINE_MIN_OVERLAP or sim >= ENGINE_THRESHOLD
            if hit:
                out.append(_finding(sid, name, kind, module, sim,
                                    (subs[sid], ref.raw_code), (lines, ref_lines),
                                    stub))
    return out


# ------------------------------------------------------------------ the batch
def engine_sources(root: Path) -> dict[str, str]:
    """``{course_lib/<path>: source}`` of the engine the book demonstrates.

    Everything in ``course_lib`` but the grader and the command line.
    """
    lib = Path(root) / "course_lib"
    out = {}
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib)
        if rel.parts[0] in ("grading", "cli.py", "__main__.py") or \
                "__pycache__" in rel.parts:
            continue
        out[f"course_lib/{rel.as_posix()}"] = path.read_text(errors="replace")
    return out


def _read_folder(folder: Path, modules: set[str]) -> dict[str, str]:
    return {p.stem: p.read_text(errors="replace") for p in sorted(folder.glob("*.py"))
            if p.stem in modules}


def batch_files(entries, collect, modules: dict[str, str]) -> dict[str, dict[str, str]]:
    """The exercise files of every submission, read as the grader collects them.

    Parameters
    ----------
    entries : list of (id, path)
        As listed by ``discover``.
    collect : callable
        ``collect(src, dest, modules) -> (found, notes)``, the batch's own
        collection (zips and folders alike, with its size limits).
    modules : dict
        ``{chapter: module}``.
    """
    import tempfile

    wanted = set(modules.values())
    out = {}
    for sid, path in entries:
        with tempfile.TemporaryDirectory(prefix="course-similarity-") as tmp:
            dest = Path(tmp) / "exercises"
            dest.mkdir()
            try:
                collect(Path(path), dest, modules)
            except (OSError, ValueError):
                continue
            out[sid] = _read_folder(dest, wanted)
    return out


def section(entries, collect, modules: dict[str, str],
            tests_dir: Path | None = None) -> str:
    """The *Similarity* section of ``summary.md`` for a graded batch.

    Parameters
    ----------
    entries, collect, modules
        See :func:`batch_files`.
    tests_dir : Path, optional
        The graded tests of the course (default: the course's own); the
        course folder above them holds ``solutions/`` and ``exercises/``.
    """
    try:
        _copydetect()
    except ImportError:
        return ("## Similarity\n\nNot checked: copydetect is not installed "
                "(`pip install copydetect`).\n")
    from ..core.paths import default_tests_dir

    root = Path(tests_dir or default_tests_dir()).resolve().parents[1]
    wanted = set(modules.values())
    files = batch_files(entries, collect, modules)
    engine_root = Path(__file__).resolve().parents[3]  # the course_lib in use
    findings = find_copies(files, _read_folder(root / "solutions", wanted),
                           engine_sources(engine_root),
                           _read_folder(root / "exercises", wanted))
    return markdown(findings, len(files))


# ------------------------------------------------------------------ markdown
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def md_text(text: str) -> str:
    """Inline text for Markdown: no control characters, specials escaped."""
    text = _CONTROL.sub("?", str(text))
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~&-])", r"\\\1", text)


def _code_block(lines: list[tuple[int, str]]) -> list[str]:
    body = [f"{n:4d}  {_CONTROL.sub('?', line)[:120]}" for n, line in lines]
    longest = max((len(m) for x in body for m in re.findall(r"`+|~+", x)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *body, fence]


def _ranges(numbers: list[int]) -> str:
    out, start, prev = [], None, None
    for n in numbers + [None]:
        if start is None:
            start = prev = n
        elif n is not None and n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    return ", ".join(out)


def markdown(findings: list[Finding], n_submissions: int) -> str:
    """Findings as the *Similarity* section of ``summary.md``."""
    lines = ["## Similarity", "",
             f"{n_submissions} submission(s) compared with copydetect, file by "
             "file, with each other, with `solutions/` and with the engine in "
             "`course_lib/` (the stubs are boilerplate). A flag is a lead to "
             "read, not a verdict.", ""]
    if not findings:
        return "\n".join(lines + ["No near-copies found.", ""])
    what = {"submission": "near-copy of submission", "solutions":
            "near-copy of the reference solution", "engine": "code of the engine"}
    for f in findings:
        lines.append(f"- **{md_text(f.submission)}** `{f.module}.py`: "
                     f"{what[f.kind]} **{md_text(f.other)}** "
                     f"({100 * f.similarity:.0f} % of its code; lines "
                     f"{_ranges(f.other_lines) or '-'} there)")
        lines += ["", *("  " + x for x in _code_block(f.lines)), ""]
    return "\n".join(lines) + "\n"
