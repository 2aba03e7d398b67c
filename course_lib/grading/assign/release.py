"""Student bundles and autograder bundles for chosen chapters.

``course release --chapters 1-3 --out DIR`` writes

``DIR/`` and ``DIR.zip``
    the student bundle: the chapter notebooks (outputs stripped, solution
    directives removed), exercise stubs generated afresh from ``solutions/``,
    the public graded tests, ``course_lib`` (what ``course grade`` needs),
    ``pyproject.toml``/``requirements.txt`` so that ``pip install -e .``
    works, a student README, and the GitHub Classroom configuration
    (``.github/classroom/autograding.json`` and its workflow);
``DIR-gradescope.zip``
    the Gradescope autograder (``setup.sh``, ``run_autograder``, the grader
    and the graded tests *with* the hidden ones; never the solutions).

Before finishing, :func:`scan_for_leaks` reads every file of the student
bundle. Any solution line, hidden test (file, name or body), compiled
bytecode, notebook output, cache or ``solutions`` folder makes the release
fail: the folder is renamed ``DIR.rejected`` (with ``LEAKS.txt`` inside), no
zip is written, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..checking import manifest as mf
from ..core.chapters import parse_chapters
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
#: Grading internals the student bundle does not need (instructor tools), as
#: paths inside ``course_lib/grading/``.
INSTRUCTOR_MODULES = ("assign", "batch", "checking/manifest.py")
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".json", ".ipynb",
                 ".yml", ".yaml", ".sh", ".csv", ".rst", ".html", ".js", ".css", ""}
_TRIVIAL = {"return", "pass", "else:", "try:", "finally:", "break", "continue",
            ")", "]", "}", "),", "],", "},", "return None", "return out"}


def repo_root() -> Path:
    """The repository (or bundle) root: the folder holding ``course_lib``."""
    return package_parent()


# ------------------------------------------------------------------ leaks
@dataclass(frozen=True)
class Leak:
    """One finding of the leak scan.

    Attributes
    ----------
    path : str
        File (relative to the bundle) where it was found.
    kind : str
        ``solution-line``, ``hidden-test``, ``bytecode``, ``notebook-output``,
        ``solutions-dir``, ``cache``.
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
    if not norm or norm in _TRIVIAL:
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
    tests ship in every bundle and appear in the book; a solution line that is
    also one of theirs is not something the release can hide.
    """
    root = Path(root or repo_root())
    out: set[str] = set()
    files = [p for p in (root / "course_lib").glob("*.py")]
    files += list((root / "tests" / "exercises").glob("*.py"))
    for path in files:
        out.update(normalise(x) for x in path.read_text().splitlines())
    return out


def solution_blocks(solutions_dir: Path, public: set[str] | None = None
                    ) -> list[SolutionBlock]:
    """Every solution block's revealing lines, normalised.

    Left out: trivial lines (short, ``return``, short comments), imports,
    lines that also occur outside the blocks of a solution file (the stubs
    keep them), and lines in ``public`` (see :func:`public_lines`).

    Parameters
    ----------
    solutions_dir : Path
    public : set of str, optional

    Returns
    -------
    list of SolutionBlock
    """
    public = public or set()
    raw: list[tuple[str, list[str]]] = []
    outside: set[str] = set()
    for path in sorted(Path(solutions_dir).glob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        inside: set[int] = set()
        for block in parse_blocks(text, f"solutions/{path.name}"):
            inside.update(range(block.begin, block.end + 1))
            body = [normalise(x) for x in block_lines(text, block)]
            raw.append((f"solutions/{path.name}:{block.begin}",
                        [x for x in body if not _is_trivial(x)]))
        outside.update(normalise(x) for no, x in enumerate(lines, 1)
                       if no not in inside)
    blocks = []
    for where, lines in raw:
        keep = [x for x in lines if x not in outside and x not in public
                and not x.startswith(("import ", "from "))]
        if keep:
            blocks.append(SolutionBlock(where, keep, len(lines)))
    return blocks


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
        parts = path.relative_to(bundle).parts
        if any(p.lower().startswith("solution") for p in parts[:-1]) or (
                path.is_dir() and path.name.lower().startswith("solution")):
            leaks.append(Leak(rel, "solutions-dir", "a solutions folder"))
        if "__pycache__" in parts or path.suffix in (".pyc", ".pyo"):
            leaks.append(Leak(rel, "bytecode", "compiled Python (may embed code)"))
            continue
        if any(p in (".pytest_cache", ".ipynb_checkpoints", ".git", ".hypothesis")
               for p in parts):
            leaks.append(Leak(rel, "cache", "a cache or VCS folder"))
            continue
        if "hidden" in parts:
            leaks.append(Leak(rel, "hidden-test", "a hidden tests folder"))
        if path.is_symlink():
            leaks.append(Leak(rel, "symlink", f"points to {os.readlink(path)}"))
            continue
        if path.is_dir():
            continue
        if path.name in names:
            leaks.append(Leak(rel, "hidden-test", "a hidden test file"))
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


# ------------------------------------------------------------------ pieces
def strip_notebook(nb: dict) -> tuple[dict, int]:
    """Remove outputs, execution counts and exercise solutions from a notebook.

    Solutions are cells tagged ``solution`` / ``remove-for-students`` and,
    inside markdown cells, ``{solution}`` directives (sphinx-exercise) and
    ``{solution-start}`` … ``{solution-end}`` ranges.

    Parameters
    ----------
    nb : dict
        A notebook (nbformat 4 JSON).

    Returns
    -------
    nb : dict
        A stripped copy.
    removed : int
        How many solution cells or directives were removed.
    """
    nb = json.loads(json.dumps(nb))
    removed = 0
    cells = []
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"solution", "remove-for-students", "remove_for_students"}:
            removed += 1
            continue
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled"):
            meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            src = src if isinstance(src, str) else "".join(src)
            new, n = _strip_solution_directives(src)
            if n:
                removed += n
                cell["source"] = new
        cells.append(cell)
    nb["cells"] = cells
    nb.get("metadata", {}).pop("widgets", None)
    return nb, removed


_FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})\{(solution(?:-start)?)\}")


def _strip_solution_directives(src: str) -> tuple[str, int]:
    out: list[str] = []
    lines = src.splitlines(keepends=True)
    i = n = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m and m.group(3) == "solution":
            fence = m.group(2)
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            i, n = j + 1, n + 1
            out.append("*(The solution is not part of the student release.)*\n")
            continue
        if m and m.group(3) == "solution-start":
            j = i + 1
            while j < len(lines) and "{solution-end}" not in lines[j]:
                j += 1
            # skip the closing fence line of the solution-end directive
            k = j + 1
            while k < len(lines) and lines[k].strip() not in ("```", ":::"):
                k += 1
            i, n = k + 1, n + 1
            out.append("*(The solution is not part of the student release.)*\n")
            continue
        out.append(lines[i])
        i += 1
    return "".join(out), n


def generate_stub(solution: Path) -> str:
    """The exercise stub for one solution file, from the stub generator.

    Parameters
    ----------
    solution : Path

    Returns
    -------
    str
    """
    from .stubs import make_stub

    return make_stub(solution.read_text(), solution.name)


def _ignore_cache(_dir, names):
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))
            or n.startswith(".")]


def _copy_course_lib(dest: Path, drop_instructor_tools: bool) -> None:
    src = repo_root() / "course_lib"

    grading = src / "grading"

    def ignore(d, names):
        out = _ignore_cache(d, names)
        if drop_instructor_tools and Path(d).is_relative_to(grading):
            inside = Path(d).relative_to(grading)
            out += [n for n in names if (inside / n).as_posix() in INSTRUCTOR_MODULES]
        return out

    shutil.copytree(src, dest / "course_lib", ignore=ignore)


def _chapter_files(chapter: str, root: Path) -> dict[str, Path]:
    n = chapter[2:]
    found = {}
    sol = sorted((root / "solutions").glob(f"{chapter}_*.py"))
    if sol:
        found["solution"] = sol[0]
    nbs = sorted((root / "book").glob(f"{n}_*.ipynb"))
    if nbs:
        found["notebook"] = nbs[0]
    tests = sorted((root / "tests" / "exercises").glob(f"test_{chapter}_*.py"))
    if tests:
        found["test"] = tests[0]
    return found


STUDENT_README = """\
# Backprop from Scratch — {chapter_list}

This folder is your copy of the course for {chapter_words}. It holds the
chapter notebooks (`book/`), the exercises you complete (`exercises/`), the
tests that grade them (`tests/exercises/`) and the small numpy library the
course builds (`course_lib/`).

## Set up (once)

```
python3 -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -r requirements.txt    # numpy, pytest, jupyter, ... and this folder
```

## Work on the exercises

Open a chapter notebook (`jupyter lab book/`) and read it; then fill in the
functions in `exercises/`. Each `raise NotImplementedError(...)` marks a
place to write code; its message says what is expected. Keep the function
names and signatures as they are.

## Check your work

In a terminal, from this folder:

```
{grade_commands}
course grade                       # every chapter of this release
```

In a notebook cell:

```python
from course_lib.grading import check
check({check_example!r})                  # the whole chapter
check({check_one!r})   # one exercise
```

The scorecard shows, per exercise, the points you earned, the points
possible and a short reason for each point lost. Some points are kept for
hidden tests that your instructor runs after the deadline: the scorecard
tells you how many; passing every visible test is a good sign, not a
guarantee.

## Hand in

Submit the files in `exercises/` ({module_list}), as your instructor asks
(a zip of the folder, Gradescope, or a push to your GitHub Classroom
repository). Do not rename them.
"""


def student_readme(chapters: list[str], modules: dict[str, str],
                   first_exercise: str = "") -> str:
    """The README of a student bundle."""
    words = ", ".join(f"chapter {int(c[2:])}" for c in chapters)
    return STUDENT_README.format(
        chapter_list=", ".join(chapters),
        chapter_words=words,
        grade_commands="\n".join(
            f"course grade {c}                   # chapter {int(c[2:])}"
            for c in chapters),
        check_example=chapters[0],
        check_one=f"{chapters[0]}.{first_exercise or 'sigmoid'}",
        module_list=", ".join(f"`{modules[c]}.py`" for c in chapters if c in modules),
    )


def _requirements(root: Path) -> str:
    keep = ("numpy", "matplotlib", "scikit-learn", "tqdm", "ipywidgets",
            "ipykernel", "pytest", "pytest-timeout", "jupyterlab", "notebook")
    lines = ["# What the notebooks and `course grade` need.",
             "# `pip install -r requirements.txt` also installs this folder."]
    for line in (root / "requirements.txt").read_text().splitlines():
        name = re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower()
        if name in keep:
            lines.append(line.strip())
    if not any(x.startswith("jupyterlab") for x in lines):
        lines.append("jupyterlab")
    lines.append("-e .")
    return "\n".join(lines) + "\n"


def classroom_config(chapters: list[str], manifest: dict,
                     modules: dict[str, str]) -> dict:
    """GitHub Classroom ``autograding.json`` for the chosen chapters.

    One entry per exercise: it runs ``course grade chNN.exercise
    --fail-under 100`` (exit 0 only with every visible point of that exercise)
    and is worth the exercise's visible points, so Classroom's total matches
    the scorecard's visible total. Uses the grading core's own
    ``classroom_config`` when it has one.

    Parameters
    ----------
    chapters : list of str
    manifest : dict
        The points manifest.
    modules : dict

    Returns
    -------
    dict
    """
    try:
        from ..checking.runner import classroom_config as core
    except ImportError:  # pragma: no cover - the core always has it today
        core = None
    if core is not None:
        return core(chapters)
    tests = []
    for ch in chapters:
        for name, ex in manifest["chapters"].get(ch, {}).get("exercises", {}).items():
            visible = ex["points"] - ex["hidden_points"]
            if visible <= 0:
                continue
            tests.append({
                "name": f"{ch} {name}",
                "setup": "",
                "run": f"course grade {ch}.{name} --fail-under 100",
                "input": "", "output": "", "comparison": "included",
                "timeout": 10, "points": visible})
    return {"tests": tests}


CLASSROOM_WORKFLOW = """\
name: Autograding
on: [push, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  grade:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - uses: education/autograding@v1
"""


# ------------------------------------------------------------------ gradescope
GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv python3-pip
# bubblewrap confines the student's code; grading still works without it.
apt-get install -y bubblewrap || echo "bubblewrap unavailable: degraded sandbox"
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
"""

GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission.
cd /autograder/source
mkdir -p /autograder/results
exec /autograder/venv/bin/python grade_submission.py \\
    /autograder/submission /autograder/results/results.json
"""

GRADESCOPE_GRADER = '''\
"""Grade one Gradescope submission (called by run_autograder)."""

import json
import sys
import tempfile
from pathlib import Path

from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import sandbox
from course_lib.grading.checking.runner import grade

CHAPTERS = {chapters!r}
TIMEOUT_PER_TEST = {timeout!r}


def main(submission, results):
    results = Path(results)
    modules = batch.exercise_modules()
    with tempfile.TemporaryDirectory(prefix="submission-") as tmp:
        work = Path(tmp) / "exercises"
        work.mkdir()
        found, notes = batch.collect_submission(Path(submission), work, modules)
        if not found:
            results.write_text(json.dumps({{
                "score": 0.0, "tests": [],
                "output": "No exercise file found. Upload your files from "
                          "exercises/ (" + ", ".join(
                              modules[c] + ".py" for c in CHAPTERS) + ")."}}))
            return 0
        sandbox.share_with_worker(tmp)
        mode = sandbox.probe()
        print(mode.banner(), file=sys.stderr)
        with sandbox.Sandbox(work, sandbox.Limits(memory_mb=2048), mode) as box:
            grade(work, chapters=CHAPTERS, include_hidden=True, json_path=results,
                  call_timeout=TIMEOUT_PER_TEST, **box.grade_kwargs())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
'''


def _write_zip(folder: Path, zip_path: Path) -> None:
    """Zip a folder's contents (relative paths, no symlinks, fixed times)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or path.is_dir():
                continue
            rel = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(2024, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def build_gradescope(chapters: list[str], zip_path: Path,
                     timeout_per_test: float = 10.0) -> Path:
    """Write the Gradescope autograder zip for the chosen chapters.

    The zip holds ``setup.sh``, ``run_autograder``, ``grade_submission.py``,
    ``course_lib`` (the full grader), ``pyproject.toml``, ``requirements.txt``
    and the graded tests of the chapters, hidden ones included. It never
    holds ``solutions/``.

    Parameters
    ----------
    chapters : list of str
    zip_path : Path
    timeout_per_test : float

    Returns
    -------
    Path
        ``zip_path``.
    """
    root = repo_root()
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "autograder"
        stage.mkdir()
        _copy_course_lib(stage, drop_instructor_tools=False)
        shutil.copy(root / "pyproject.toml", stage / "pyproject.toml")
        (stage / "README.md").write_text("Gradescope autograder for "
                                         f"{', '.join(chapters)}.\n")
        (stage / "requirements.txt").write_text(
            "numpy>=1.26\npytest>=8.0\npytest-timeout>=2.3\nscikit-learn>=1.3\n"
            "tqdm>=4.66\n-e /autograder/source\n")
        _copy_tests(stage, chapters, include_hidden=True)
        (stage / "setup.sh").write_text(GRADESCOPE_SETUP)
        (stage / "run_autograder").write_text(GRADESCOPE_RUN)
        (stage / "grade_submission.py").write_text(GRADESCOPE_GRADER.format(
            chapters=list(chapters), timeout=timeout_per_test))
        for name in ("setup.sh", "run_autograder"):
            (stage / name).chmod(0o755)
        for path in stage.rglob("*"):
            if "solutions" in path.relative_to(stage).parts:
                raise RuntimeError(f"refusing to ship {path} to Gradescope")
        _write_zip(stage, zip_path)
    return zip_path


def _copy_tests(dest: Path, chapters: list[str], include_hidden: bool) -> None:
    src = repo_root() / "tests" / "exercises"
    out = dest / "tests" / "exercises"
    out.mkdir(parents=True)
    for helper in ("conftest.py", "__init__.py"):
        if (src / helper).exists():
            shutil.copy(src / helper, out / helper)
    if (src.parent / "conftest.py").exists():
        shutil.copy(src.parent / "conftest.py", dest / "tests" / "conftest.py")
    for path in sorted(src.glob("*.py")):
        if path.name.startswith("test_ch") and path.name[5:9] in chapters:
            shutil.copy(path, out / path.name)
        elif not path.name.startswith("test_") and path.name not in (
                "conftest.py", "__init__.py"):
            shutil.copy(path, out / path.name)  # shared helpers of the tests
    if include_hidden and (src / "hidden").is_dir():
        hid = out / "hidden"
        hid.mkdir()
        for path in sorted((src / "hidden").glob("*.py")):
            if not path.name.startswith("test_ch") or path.name[5:9] in chapters:
                shutil.copy(path, hid / path.name)


# ------------------------------------------------------------------ release
@dataclass
class ReleaseResult:
    """What :func:`build_release` produced.

    Attributes
    ----------
    ok : bool
        False when leaks were found (the bundle was rejected).
    bundle : Path
        The student folder (``DIR``), or ``DIR.rejected`` when not ok.
    zip : Path or None
        ``DIR.zip`` (None when rejected).
    gradescope : Path or None
        ``DIR-gradescope.zip``.
    leaks : list of Leak
    removed_solutions : int
        Solution directives or cells stripped from notebooks.
    """

    ok: bool
    bundle: Path
    zip: Path | None
    gradescope: Path | None
    leaks: list
    removed_solutions: int = 0


def build_release(chapters, out: Path, gradescope: bool = True,
                  smoke_test: bool = True, timeout_per_test: float = 10.0,
                  _tamper=None) -> ReleaseResult:
    """Build the student bundle (and the autograder) for some chapters.

    Parameters
    ----------
    chapters : str or list of str
        ``"1-3"``, ``"1,4"`` or ``["ch01", "ch04"]``.
    out : Path
        The bundle folder to create (must not exist, or be empty).
    gradescope : bool
        Also write ``<out>-gradescope.zip``.
    smoke_test : bool
        Check that ``course grade`` runs inside the bundle.
    timeout_per_test : float
        Per-call limit written into the Gradescope grader.
    _tamper : callable, optional
        Called with the staged folder before the scan (tests plant leaks).

    Returns
    -------
    ReleaseResult
    """
    chapters = parse_chapters(chapters)
    root = repo_root()
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    stage = out.with_name(out.name + ".partial")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    removed = 0
    modules: dict[str, str] = {}
    for ch in chapters:
        files = _chapter_files(ch, root)
        if "solution" not in files:
            raise FileNotFoundError(f"no solutions/{ch}_*.py to generate stubs from")
        sol = files["solution"]
        modules[ch] = sol.stem
        (stage / "exercises").mkdir(exist_ok=True)
        (stage / "exercises" / sol.name).write_text(generate_stub(sol))
        if "notebook" in files:
            nb, n = strip_notebook(json.loads(files["notebook"].read_text()))
            removed += n
            (stage / "book").mkdir(exist_ok=True)
            (stage / "book" / files["notebook"].name).write_text(
                json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    _copy_tests(stage, chapters, include_hidden=False)
    _copy_course_lib(stage, drop_instructor_tools=True)
    shutil.copy(root / "pyproject.toml", stage / "pyproject.toml")
    (stage / "requirements.txt").write_text(_requirements(root))
    try:
        full = mf.build()
        public = mf.restrict(full, chapters)
    except RuntimeError:
        full = public = {"chapters": {}}
    first = next(iter(public["chapters"].get(chapters[0], {}).get("exercises", {})),
                 "")
    (stage / "README.md").write_text(student_readme(chapters, modules, first))
    # read by the runner to tell students how many points hidden tests hold
    (stage / "manifest.json").write_text(mf.dumps(public))
    gh = stage / ".github"
    (gh / "classroom").mkdir(parents=True)
    (gh / "classroom" / "autograding.json").write_text(
        json.dumps(classroom_config(chapters, full, modules), indent=2) + "\n")
    (gh / "workflows").mkdir()
    (gh / "workflows" / "classroom.yml").write_text(CLASSROOM_WORKFLOW)
    if _tamper is not None:
        _tamper(stage)
    if smoke_test:
        problem = smoke_test_bundle(stage, chapters[0])
        if problem:
            _reject(stage, out, [Leak(".", "broken", problem)])
            return ReleaseResult(False, out.with_name(out.name + ".rejected"),
                                 None, None, [Leak(".", "broken", problem)], removed)
        _remove_caches(stage)
    leaks = scan_for_leaks(stage)
    if leaks:
        rejected = _reject(stage, out, leaks)
        return ReleaseResult(False, rejected, None, None, leaks, removed)
    if out.exists():
        out.rmdir()
    stage.rename(out)
    zip_path = out.with_name(out.name + ".zip")
    _write_zip(out, zip_path)
    gs = None
    if gradescope:
        gs = build_gradescope(chapters, out.with_name(out.name + "-gradescope.zip"),
                              timeout_per_test)
    return ReleaseResult(True, out, zip_path, gs, [], removed)


def _remove_caches(folder: Path) -> None:
    for path in list(folder.rglob("__pycache__")) + list(folder.rglob(".pytest_cache")):
        shutil.rmtree(path, ignore_errors=True)


def _reject(stage: Path, out: Path, leaks: list) -> Path:
    rejected = out.with_name(out.name + ".rejected")
    if rejected.exists():
        shutil.rmtree(rejected)
    (stage / "LEAKS.txt").write_text(
        "This release was REJECTED: it must not be given to students.\n\n"
        + "\n".join(str(x) for x in leaks) + "\n")
    stage.rename(rejected)
    for stale in (out.with_name(out.name + ".zip"),
                  out.with_name(out.name + "-gradescope.zip")):
        stale.unlink(missing_ok=True)
    return rejected


def smoke_test_bundle(bundle: Path, chapter: str, timeout: float = 300) -> str:
    """Run ``course grade`` inside a bundle, with the bundle's own course_lib.

    Parameters
    ----------
    bundle : Path
    chapter : str
    timeout : float

    Returns
    -------
    str
        Empty when grading ran; otherwise what went wrong.
    """
    code = textwrap.dedent(f"""
        import course_lib, pathlib, sys
        here = pathlib.Path.cwd().resolve()
        assert pathlib.Path(course_lib.__file__).resolve().is_relative_to(here), \\
            course_lib.__file__
        from course_lib.cli import main
        sys.exit(main(["grade", {chapter!r}, "--target", "exercises"]))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env.update(PYTHONPATH=str(bundle), PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=bundle,
                              env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"`course grade {chapter}` did not finish in {timeout:g} s"
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        return f"`course grade {chapter}` fails in the bundle:\n{tail}"
    return ""


# ------------------------------------------------------------------ command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``course release``."""
    parser.add_argument("--chapters", required=True,
                        help="chapters to release: 1-3, 1,4, ch02 or all")
    parser.add_argument("--out", type=Path, required=True,
                        help="bundle folder to create (DIR; DIR.zip beside it)")
    parser.add_argument("--no-gradescope", action="store_true",
                        help="skip the Gradescope autograder zip")
    parser.add_argument("--no-smoke-test", action="store_true",
                        help="do not run `course grade` inside the bundle")
    parser.add_argument("--timeout-per-test", type=float, default=10.0,
                        help="per-call limit used by the Gradescope grader")


def main(args: argparse.Namespace) -> int:
    """Run ``course release``; returns the exit code (1 when leaks are found)."""
    try:
        result = build_release(args.chapters, args.out,
                               gradescope=not args.no_gradescope,
                               smoke_test=not args.no_smoke_test,
                               timeout_per_test=args.timeout_per_test)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as exc:
        print(f"course release: {exc}", file=sys.stderr)
        return 2
    if not result.ok:
        print(f"course release: REFUSED: {len(result.leaks)} problem(s) found; "
              f"the bundle was moved to {result.bundle} (see LEAKS.txt):",
              file=sys.stderr)
        for leak in result.leaks[:30]:
            print(f"  {leak}", file=sys.stderr)
        return 1
    print(f"student bundle: {result.bundle}  (zip: {result.zip})")
    if result.removed_solutions:
        print(f"  {result.removed_solutions} solution block(s) removed from notebooks")
    if result.gradescope:
        print(f"gradescope autograder: {result.gradescope}")
    print("github classroom: .github/classroom/autograding.json in the bundle")
    return 0
