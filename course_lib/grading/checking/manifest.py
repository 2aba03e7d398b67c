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
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import course_lib
from course_lib import grading

CHAPTERS = tuple(grading.CHAPTERS)      # course order, one home: grading/__init__
_CHAPTER_FILE = re.compile(r"test_(ch\d\d)")


def parse_chapters(spec) -> list[str]:
    """Chapters named by a command-line spec, in course order.

    Parameters
    ----------
    spec : str or iterable of str
        ``"1-3"``, ``"1,4"``, ``"ch02,ch05-ch07"``, ``"all"``, or a list of
        such pieces.

    Returns
    -------
    list of str
        E.g. ``["ch01", "ch02", "ch03"]``.

    Raises
    ------
    ValueError
        For an unknown chapter or an empty spec.
    """
    pieces = [spec] if isinstance(spec, str) else list(spec)
    numbers = {int(ch[2:]): ch for ch in CHAPTERS}     # the list may have gaps
    last = max(numbers)
    chosen: set[int] = set()
    for piece in ",".join(pieces).split(","):
        piece = piece.strip().lower()
        if not piece:
            continue
        if piece == "all":
            chosen.update(numbers)
            continue
        lo, dash, hi = piece.partition("-")
        try:
            a = int(lo.removeprefix("ch"))
            b = int(hi.removeprefix("ch")) if dash else a
        except ValueError:
            raise ValueError(f"cannot read chapter {piece!r}: use 3, ch03, "
                             "1-3 or 1,4") from None
        picked = {n for n in numbers if a <= n <= b}
        if not (1 <= a <= b <= last) or not picked or (not dash and a not in
                                                       numbers):
            raise ValueError(f"chapters are {', '.join(map(str, sorted(numbers)))}"
                             f"; got {piece!r}")
        chosen.update(picked)
    if not chosen:
        raise ValueError("no chapter given")
    return [numbers[n] for n in sorted(chosen)]


@dataclass(frozen=True)
class GradedTest:
    """One collected graded test.

    Attributes
    ----------
    nodeid : str
        pytest node id, relative to the tests directory's parent.
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


def default_tests_dir() -> Path:
    """``tests/exercises`` beside the ``course_lib`` package in use."""
    return Path(course_lib.__file__).resolve().parents[1] / "tests" / "exercises"


def exercise_of(test_name: str) -> str:
    """Exercise function named by a test (``test_<exercise>__<what>``).

    Parameters
    ----------
    test_name : str

    Returns
    -------
    str
    """
    base = test_name.split("[", 1)[0]
    base = base.removeprefix("test_")
    return base.split("__", 1)[0]


# ---------------------------------------------------------------- collection
# The collector runs as a pytest plugin inside a separate pytest process so
# that the tests' conftest files and imports never touch the caller.

def pytest_collection_modifyitems(session, config, items):  # pragma: no cover
    """pytest hook (used with ``-p course_lib.grading.checking.manifest``)."""
    out = os.environ.get("COURSE_MANIFEST_OUT")
    if not out:
        return
    rows = []
    for item in items:
        mark = item.get_closest_marker("points")
        if mark is None:
            continue
        points = mark.args[0] if mark.args else mark.kwargs.get("n", 0)
        path = Path(str(item.fspath))
        chapter = ""
        found = _CHAPTER_FILE.search(path.name)
        if found:
            chapter = found.group(1)
        else:
            chapter = next((f for f in getattr(item, "fixturenames", ())
                            if f in CHAPTERS), "")
        hidden = (item.get_closest_marker("hidden") is not None
                  or "hidden" in path.parts)
        rows.append(asdict(GradedTest(
            nodeid=item.nodeid, name=item.name, chapter=chapter,
            exercise=exercise_of(item.name), points=float(points),
            hidden=hidden)))
    Path(out).write_text(json.dumps(rows))


def collect(tests_dir: Path | None = None, timeout: float = 120) -> list[GradedTest]:
    """Collect the graded tests (those with a ``points`` marker).

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
    tests_dir = Path(tests_dir or default_tests_dir()).resolve()
    if not tests_dir.is_dir():
        raise RuntimeError(f"no tests directory at {tests_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "items.json"
        env = dict(os.environ, COURSE_MANIFEST_OUT=str(out),
                   PYTHONDONTWRITEBYTECODE="1")
        cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q",
               "-p", "course_lib.grading.checking.manifest", "-p", "no:cacheprovider",
               "-o", "addopts=", "--rootdir", str(tests_dir.parent),
               str(tests_dir)]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env,
                              cwd=tests_dir.parent, timeout=timeout)
        if proc.returncode not in (0, 5) or not out.exists():
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
            raise RuntimeError(f"collecting {tests_dir} failed:\n{tail}")
        rows = json.loads(out.read_text())
    return [GradedTest(**row) for row in rows]


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
