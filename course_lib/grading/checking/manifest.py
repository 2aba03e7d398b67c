"""The points manifest: points per chapter and per exercise, public and hidden.

The graded tests are the single source of points: each carries
``@pytest.mark.points(n)`` and hidden ones ``@pytest.mark.hidden`` (and live in
``tests/exercises/hidden/``). This module collects the tests with pytest (no
test runs) and derives a manifest from their markers::

    {"chapters": {"ch03": {"points": 20, "hidden_points": 6,
                           "tests": 11, "hidden_tests": 3,
                           "exercises": {"dense_backward": {"points": 6,
                                         "hidden_points": 2, "tests": 3,
                                         "hidden_tests": 1}, ...}}, ...},
     "points": 120, "hidden_points": 30, "tests": 70, "hidden_tests": 18}

``points`` counts every graded test, hidden ones included; ``hidden_points``
is the part of it that only the final grading shows. The manifest names no
hidden test, so it may ship in a student bundle (a scorecard can say how many
points remain hidden without saying what they test).

Command line (``python -m course_lib.grading.checking.manifest``)::

    manifest                 # print it
    manifest --write FILE    # write it (JSON)
    manifest --check FILE    # exit 1 if FILE differs from what the tests say
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.grading.core.chapters import CHAPTERS
from course_lib.grading.core.paths import default_tests_dir

__all__ = ["GradedTest", "build", "check", "collect", "default_tests_dir", "dumps",
           "points_by_chapter", "restrict"]


@dataclass(frozen=True)
class GradedTest:
    """One collected graded test.

    Attributes
    ----------
    nodeid : str
        pytest node id (relative to pytest's root folder).
    name : str
        Test name, parameters included (``test_relu__shape[3]``).
    chapter : str
        ``"ch01"`` … ``"ch07"``.
    exercise : str
        The exercise function, from ``test_<exercise>__<what>``.
    points : float
        Points from ``@pytest.mark.points(n)``.
    hidden : bool
        True for ``@pytest.mark.hidden`` (or a file under ``hidden/``).
    """

    nodeid: str
    name: str
    chapter: str
    exercise: str
    points: float
    hidden: bool


def collect(tests_dir: Path | None = None, timeout: float = 120) -> list[GradedTest]:
    """Collect the graded tests (those with a ``points`` marker), hidden ones too.

    The collection is the runner's (:func:`~.runner.collect`: the grading
    plugin in a separate pytest process, so that the tests' conftest files and
    imports never touch the caller).

    Parameters
    ----------
    tests_dir : Path, optional
        Defaults to :func:`default_tests_dir`; ``hidden/`` inside it is
        collected too.
    timeout : float
        Seconds allowed for the collection.

    Returns
    -------
    list of GradedTest

    Raises
    ------
    RuntimeError
        When pytest cannot collect the tests.
    """
    from course_lib.grading.checking.runner import GradingError
    from course_lib.grading.checking.runner import collect as collect_metas

    tests_dir = Path(tests_dir or default_tests_dir()).resolve()
    if not tests_dir.is_dir():
        raise RuntimeError(f"no tests directory at {tests_dir}")
    try:
        metas = collect_metas(tests_dir, include_hidden=True, timeout=timeout)
    except GradingError as exc:
        raise RuntimeError(str(exc)) from None
    return [GradedTest(nodeid=m["nodeid"], name=m["nodeid"].rsplit("::", 1)[-1],
                       chapter=m["chapter"], exercise=m["exercise"],
                       points=float(m["points"]), hidden=bool(m["hidden"]))
            for m in metas if m["points"] is not None]


def _empty() -> dict:
    return {"points": 0.0, "hidden_points": 0.0, "tests": 0, "hidden_tests": 0}


def _add(bucket: dict, test: GradedTest) -> None:
    bucket["points"] += test.points
    bucket["tests"] += 1
    if test.hidden:
        bucket["hidden_points"] += test.points
        bucket["hidden_tests"] += 1


def build(tests: list[GradedTest] | None = None,
          tests_dir: Path | None = None) -> dict:
    """Derive the manifest from the tests' markers.

    Parameters
    ----------
    tests : list of GradedTest, optional
        Already collected tests; collected from ``tests_dir`` otherwise.
    tests_dir : Path, optional

    Returns
    -------
    dict
        See the module docstring. Chapters and exercises are sorted.
    """
    if tests is None:
        tests = collect(tests_dir)
    manifest = {"chapters": {}, **_empty()}
    for test in sorted(tests, key=lambda t: (t.chapter, t.exercise, t.nodeid)):
        chapter = manifest["chapters"].setdefault(
            test.chapter, {**_empty(), "exercises": {}})
        exercise = chapter["exercises"].setdefault(test.exercise, _empty())
        for bucket in (manifest, chapter, exercise):
            _add(bucket, test)
    return _normalise(manifest)


def _normalise(obj):
    """Floats that are whole numbers become ints, keys sorted (stable JSON)."""
    if isinstance(obj, dict):
        return {k: _normalise(obj[k]) for k in sorted(obj)}
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


def points_by_chapter(manifest: dict) -> dict[str, float]:
    """Total points (hidden included) per chapter, for CSV columns.

    Parameters
    ----------
    manifest : dict

    Returns
    -------
    dict
        ``{"ch01": 12, ...}`` for every chapter in :data:`CHAPTERS`
        (0 where a chapter has no tests).
    """
    chapters = manifest.get("chapters", {})
    return {ch: chapters.get(ch, {}).get("points", 0) for ch in CHAPTERS}


def restrict(manifest: dict, chapters) -> dict:
    """The manifest of some chapters only (totals recomputed).

    Parameters
    ----------
    manifest : dict
    chapters : iterable of str

    Returns
    -------
    dict
    """
    keep = {ch: manifest["chapters"][ch] for ch in chapters
            if ch in manifest["chapters"]}
    out = {"chapters": keep, **_empty()}
    for chapter in keep.values():
        for key in ("points", "hidden_points", "tests", "hidden_tests"):
            out[key] += chapter[key]
    return _normalise(out)


def dumps(manifest: dict) -> str:
    """The manifest as stable, diff-friendly JSON text."""
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def check(path: Path, tests_dir: Path | None = None) -> list[str]:
    """Differences between a committed manifest file and the tests.

    Parameters
    ----------
    path : Path
        The committed manifest (JSON).
    tests_dir : Path, optional

    Returns
    -------
    list of str
        One line per difference; empty when the file is up to date.
    """
    fresh = build(tests_dir=tests_dir)
    try:
        saved = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return [f"{path} does not exist; write it with --write"]
    return _diff(saved, fresh, "")


def _diff(saved, fresh, where: str) -> list[str]:
    if isinstance(saved, dict) and isinstance(fresh, dict):
        out = []
        for key in sorted(set(saved) | set(fresh)):
            here = f"{where}.{key}" if where else key
            if key not in fresh:
                out.append(f"{here}: in the file, not in the tests")
            elif key not in saved:
                out.append(f"{here}: in the tests, not in the file")
            else:
                out += _diff(saved[key], fresh[key], here)
        return out
    if saved != fresh:
        return [f"{where}: file says {saved!r}, tests say {fresh!r}"]
    return []


def format_table(manifest: dict) -> str:
    """A plain-text table: chapter, exercise, points, hidden points."""
    lines = [f"{'chapter':8} {'exercise':28} {'points':>7} {'hidden':>7} {'tests':>6}"]
    for ch, chapter in manifest["chapters"].items():
        for name, ex in chapter["exercises"].items():
            lines.append(f"{ch:8} {name:28} {ex['points']:>7} "
                         f"{ex['hidden_points']:>7} {ex['tests']:>6}")
        lines.append(f"{ch:8} {'(chapter total)':28} {chapter['points']:>7} "
                     f"{chapter['hidden_points']:>7} {chapter['tests']:>6}")
    lines.append(f"{'total':8} {'':28} {manifest['points']:>7} "
                 f"{manifest['hidden_points']:>7} {manifest['tests']:>6}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``course manifest``."""
    parser.add_argument("--tests", type=Path, default=None,
                        help="graded tests directory (default tests/exercises)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE",
                       help="write the manifest as JSON to FILE")
    group.add_argument("--check", type=Path, metavar="FILE",
                       help="fail if FILE differs from the tests' markers")
    group.add_argument("--json", action="store_true",
                       help="print JSON instead of a table")


def main(args: argparse.Namespace) -> int:
    """Run ``course manifest``; returns the exit code."""
    try:
        if args.check:
            problems = check(args.check, args.tests)
            for line in problems:
                print(f"manifest out of date: {line}", file=sys.stderr)
            if problems:
                print(f"regenerate: course manifest --write {args.check}",
                      file=sys.stderr)
            return 1 if problems else 0
        manifest = build(tests_dir=args.tests)
    except RuntimeError as exc:
        print(f"course manifest: {exc}", file=sys.stderr)
        return 2
    if args.write:
        args.write.write_text(dumps(manifest))
        print(f"wrote {args.write}")
    elif args.json:
        print(dumps(manifest), end="")
    else:
        print(format_table(manifest))
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading.checking.manifest")
    add_arguments(_parser)
    sys.exit(main(_parser.parse_args()))
