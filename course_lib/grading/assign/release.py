"""Student bundles and autograder bundles for chosen chapters.

``course release --chapters 1-3 --out DIR`` writes

``DIR/`` and ``DIR.zip``
    the student bundle: the chapter notebooks (outputs stripped, solution
    directives removed), exercise stubs generated afresh from ``solutions/``,
    the public graded tests with their reference values as data
    (``tests/exercises/expected.json``), ``course_lib`` (what ``course grade``
    needs), ``pyproject.toml``/``requirements.txt`` so that ``pip install -e
    .`` works, a student README, and the GitHub Classroom workflow
    (``.github/workflows/classroom.yml``, see :mod:`.classroom`);
``DIR-gradescope.zip``
    the Gradescope autograder (see :mod:`.gradescope`).

Before finishing, the release grades a copy of the bundle (stubs and
reference answers, :mod:`.checks`) and :func:`.leaks.scan_for_leaks` reads
every file of it. A bundle that does not work, or holds a solution line, a
hidden test, the tests' oracles, compiled bytecode, notebook output, a cache
or a ``solutions`` folder, is refused: the folder is renamed
``DIR.rejected`` (with ``LEAKS.txt`` inside), no zip is written, and the exit
code is 1. The oracles' code never ships: a public test that passes a
function to an oracle (``fd(lambda ...)``), whose calls no data can replay,
makes the release refuse the bundle and name the test's chapter and oracle.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..checking import manifest as mf
from ..core.chapters import parse_chapters
from . import classroom
from .checks import record_expected, replay_module, smoke_test_bundle, tests_digest
from .contents import copy_course_lib, copy_tests
from .gradescope import build_gradescope, write_zip
from .leaks import Leak, repo_root, scan_for_leaks
from .notebooks import strip_notebook

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class ReleaseResult:
    """What :func:`build_release` produced.

    Attributes
    ----------
    ok : bool
        False when the bundle was refused (leaks, or it does not work).
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


# ------------------------------------------------------------------ pieces
def generate_stub(solution: Path) -> str:
    """The exercise stub for one solution file, from the stub generator."""
    from .stubs import make_stub

    return make_stub(solution.read_text(), solution.name)


def _chapter_files(chapter: str, root: Path) -> dict[str, Path]:
    found = {}
    sol = sorted((root / "solutions").glob(f"{chapter}_*.py"))
    if sol:
        found["solution"] = sol[0]
    nbs = sorted((root / "book").glob(f"{chapter[2:]}_*.ipynb"))
    if nbs:
        found["notebook"] = nbs[0]
    return found


def _fill(template: str, **values) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    return template


def student_readme(chapters: list[str], modules: dict[str, str],
                   first_exercise: str = "") -> str:
    """The README of a student bundle (``templates/README.student.md``)."""
    return _fill(
        (TEMPLATES / "README.student.md").read_text(),
        chapter_list=", ".join(chapters),
        chapter_words=", ".join(f"chapter {int(c[2:])}" for c in chapters),
        grade_commands="\n".join(
            f"course grade {c}                   # chapter {int(c[2:])}"
            for c in chapters),
        check_example=chapters[0],
        check_one=f"{chapters[0]}.{first_exercise or 'sigmoid'}",
        module_list=", ".join(f"`{modules[c]}.py`" for c in chapters if c in modules))


def requirements(root: Path) -> str:
    """The bundle's requirements: what the notebooks and ``course grade`` need."""
    keep = ("numpy", "matplotlib", "scikit-learn", "tqdm", "ipywidgets",
            "ipykernel", "pytest", "pytest-timeout", "jupyterlab", "notebook")
    lines = ["# What the notebooks and `course grade` need (Python >= 3.10).",
             "# `pip install -r requirements.txt` also installs this folder."]
    for line in (root / "requirements.txt").read_text().splitlines():
        name = re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower()
        if name in keep:
            lines.append(line.strip())
    if not any(x.startswith("jupyterlab") for x in lines):
        lines.append("jupyterlab")
    lines.append("-e .")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the steps
def _stage_chapters(stage: Path, chapters: list[str], root: Path
                    ) -> tuple[int, dict[str, str]]:
    """Stubs and stripped notebooks; returns (solutions removed, modules)."""
    removed = 0
    modules: dict[str, str] = {}
    (stage / "exercises").mkdir()
    for ch in chapters:
        files = _chapter_files(ch, root)
        if "solution" not in files:
            raise FileNotFoundError(f"no solutions/{ch}_*.py to generate stubs from")
        sol = files["solution"]
        modules[ch] = sol.stem
        (stage / "exercises" / sol.name).write_text(generate_stub(sol))
        if "notebook" in files:
            nb, n = strip_notebook(json.loads(files["notebook"].read_text()))
            removed += n
            (stage / "book").mkdir(exist_ok=True)
            (stage / "book" / files["notebook"].name).write_text(
                json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return removed, modules


def _stage_support(stage: Path, chapters: list[str], modules: dict[str, str],
                   root: Path) -> list[Leak]:
    """Tests with their data, course_lib, install files, README, manifest,
    and the Classroom workflow.

    The bundle's ``oracles.py`` is always generated from the recorded values
    (no oracle code). Returns a problem for each oracle that the chapters'
    public tests call with something that is not data (a function), which no
    recording can replay: the release is then refused.
    """
    copy_tests(stage, chapters, include_hidden=False)
    copy_course_lib(stage, student=True)
    shutil.copy(root / "pyproject.toml", stage / "pyproject.toml")
    (stage / "requirements.txt").write_text(requirements(root))
    full = points_manifest()
    public = mf.restrict(full, chapters)
    first = next(iter(public["chapters"].get(chapters[0], {}).get("exercises", {})),
                 "")
    (stage / "README.md").write_text(student_readme(chapters, modules, first))
    # read by the runner to tell students how many points hidden tests hold
    (stage / "manifest.json").write_text(mf.dumps(public))
    classroom.write(stage, chapters, full)
    data = record_expected(chapters)
    tests = stage / "tests" / "exercises"
    (tests / "expected.json").write_text(json.dumps(data, sort_keys=True) + "\n")
    (tests / "oracles.py").write_text(replay_module(data))
    return unreplayable(data)


def unreplayable(data: dict) -> list[Leak]:
    """Problems for the recorded calls that passed oracles something not data.

    Their values cannot be replayed from ``expected.json``, and shipping the
    oracles' code instead would hand out answers (``fd`` *is* exercise 3.4).
    """
    calls = sorted({tuple(k.split("/")[1:3]) for k in data
                    if k.startswith("unreplayable/")})
    return [Leak("tests/exercises/oracles.py", "oracle",
                 f"the public tests of {chapter} pass a function (or another "
                 f"object that is not data) to the oracle {name}: a bundle can "
                 "only replay values, and never ships the oracles' code. Make "
                 "the test ask a data-only oracle (arrays, numbers, dicts of "
                 "them) through expected(...) (see tests/exercises/expected.py)")
            for chapter, name in calls]


_MANIFESTS: dict[str, dict] = {}


def points_manifest() -> dict:
    """The points manifest of the course's tests (built once per version)."""
    key = tests_digest(repo_root())
    if key not in _MANIFESTS:
        _MANIFESTS[key] = mf.build()
    return _MANIFESTS[key]


def _prepare(out: Path) -> tuple[Path, Path]:
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    stage = out.with_name(out.name + ".partial")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    return out, stage


def _remove_caches(folder: Path) -> None:
    for path in list(folder.rglob("__pycache__")) + list(folder.rglob(".pytest_cache")):
        shutil.rmtree(path, ignore_errors=True)


def _reject(stage: Path, out: Path, leaks: list, removed: int) -> ReleaseResult:
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
    return ReleaseResult(False, rejected, None, None, leaks, removed)


def _publish(stage: Path, out: Path, chapters: list[str], gradescope: bool,
             timeout_per_test: float, removed: int) -> ReleaseResult:
    if out.exists():
        out.rmdir()
    stage.rename(out)
    zip_path = out.with_name(out.name + ".zip")
    write_zip(out, zip_path)
    gs = None
    if gradescope:
        gs = build_gradescope(chapters, out.with_name(out.name + "-gradescope.zip"),
                              timeout_per_test)
    return ReleaseResult(True, out, zip_path, gs, [], removed)


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
        Grade a copy of the bundle (stubs, and the reference answers).
    timeout_per_test : float
        Per-call limit written into the Gradescope grader.
    _tamper : callable, optional
        Called with the staged folder before the checks (tests plant leaks).

    Returns
    -------
    ReleaseResult
    """
    chapters = parse_chapters(chapters)
    root = repo_root()
    out, stage = _prepare(out)
    removed, modules = _stage_chapters(stage, chapters, root)
    unreplayable_calls = _stage_support(stage, chapters, modules, root)
    if unreplayable_calls:
        return _reject(stage, out, unreplayable_calls, removed)
    if _tamper is not None:
        _tamper(stage)
    if smoke_test:
        problem = smoke_test_bundle(stage, chapters, modules)
        if problem:
            return _reject(stage, out, [Leak(".", "broken", problem)], removed)
    _remove_caches(stage)
    leaks = scan_for_leaks(stage, root / "solutions", root / "tests" / "exercises")
    if leaks:
        return _reject(stage, out, leaks, removed)
    return _publish(stage, out, chapters, gradescope, timeout_per_test, removed)


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
                        help="do not grade a copy of the bundle before release")
    parser.add_argument("--timeout-per-test", type=float, default=10.0,
                        help="per-call limit used by the Gradescope grader")


def main(args: argparse.Namespace) -> int:
    """Run ``course release``; returns the exit code (1 when refused)."""
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
    print("github classroom: .github/workflows/classroom.yml in the bundle")
    return 0
