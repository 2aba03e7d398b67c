"""What a release runs before it hands a bundle out.

- :func:`record_expected` runs the public tests of the chosen chapters once
  against ``solutions/``, in the course repository, and keeps every
  reference value they ask ``expected(...)`` for: the bundle's
  ``tests/exercises/expected.json`` (see that module's docstring).
- :func:`smoke_test_bundle` grades, in a copy of the bundle and with the
  bundle's own ``course_lib`` and data, the stubs (grading must run) and the
  reference answers (every visible point must be earned): a bundle whose
  tests need something it does not hold is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from .leaks import repo_root

#: Recordings already made in this process, by the digest of the tests and
#: solutions they were made from (a test run releases many bundles).
_RECORDED: dict[str, dict] = {}


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COURSE_") and k != "PYTHONPATH"}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def tests_digest(root: Path) -> str:
    """A digest of the graded tests and the reference answers."""
    h = hashlib.sha256()
    for folder in ("tests/exercises", "solutions"):
        for path in sorted((root / folder).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return h.hexdigest()


def record_expected(chapters: list[str], timeout: float = 900) -> dict:
    """The ``expected.json`` data of the chosen chapters.

    Every chapter's public tests are run once per process (against
    ``solutions/``, with ``COURSE_RECORD_EXPECTED``); they must all pass.
    Kept: the values the chosen chapters' tests asked ``expected(...)`` for,
    their calls of oracles by name, and the oracles' constants.

    Returns
    -------
    dict
        ``{"chNN/exercise/case": {"inputs": digest, "value": ...}}``.
    """
    root = repo_root()
    key = tests_digest(root)
    if key not in _RECORDED:
        _RECORDED[key] = _record_all(root, timeout)
    data = _RECORDED[key]
    return {k: v for k, v in data.items() if k.split("/", 1)[0] in chapters
            or set(v.get("chapters", ())) & set(chapters)
            or (k.startswith("unreplayable/") and k.split("/")[1] in chapters)
            or (k.startswith("oracles/") and v["inputs"] == "constant")}


def _record_all(root: Path, timeout: float) -> dict:
    tests = root / "tests" / "exercises"
    files = sorted(str(p) for p in tests.glob("test_ch*.py"))
    with tempfile.TemporaryDirectory(prefix="course-expected-") as tmp:
        record = Path(tmp) / "expected.jsonl"
        record.touch()
        cmd = [sys.executable, "-m", "pytest", *files, "--target",
               str(root / "solutions"), "-q", "-p", "no:cacheprovider"]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                              timeout=timeout, check=False,
                              env=_clean_env(COURSE_RECORD_EXPECTED=str(record)))
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
            raise RuntimeError("the public tests fail on solutions/, so their "
                               f"expected values cannot be recorded:\n{tail}")
        sys.path.insert(0, str(tests))
        try:
            from expected import write_data
        finally:
            sys.path.remove(str(tests))
        out = Path(tmp) / "expected.json"
        write_data(record, out)
        return json.loads(out.read_text())


def replay_module(data: dict) -> str:
    """The bundle's ``oracles.py``: the names, replaying ``data`` (no code)."""
    tests = repo_root() / "tests" / "exercises"
    sys.path.insert(0, str(tests))
    try:
        from expected import replay_module as generate
    finally:
        sys.path.remove(str(tests))
    return generate(data)


def _course_grade(folder: Path, args: list[str], timeout: float) -> str:
    """Run ``course grade ARGS`` in ``folder`` with its own course_lib."""
    code = textwrap.dedent(f"""
        import course_lib, pathlib, sys
        here = pathlib.Path.cwd().resolve()
        assert pathlib.Path(course_lib.__file__).resolve().is_relative_to(here), \\
            course_lib.__file__
        from course_lib.cli import main
        sys.exit(main(["grade", *{args!r}]))
    """)
    try:
        proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=folder,
                              env=_clean_env(PYTHONPATH=str(folder)),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"`course grade {' '.join(args)}` did not finish in {timeout:g} s"
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
        return f"`course grade {' '.join(args)}` fails in the bundle:\n{tail}"
    return ""


def answer_files(modules: list[str]) -> list[str]:
    """``modules`` and the earlier chapters' files they import, transitively.

    A chapter on the learner's engine imports their earlier files
    (``from ch05_hyperparameters import ...``); a bundle without those
    chapters is graded, in the smoke test's throw-away copy only, with their
    reference answers beside its own (a student uses their own files).
    """
    solutions = repo_root() / "solutions"
    found, todo = [], list(modules)
    while todo:
        name = todo.pop()
        if name in found or not (solutions / f"{name}.py").exists():
            continue
        found.append(name)
        todo += re.findall(r"^(?:from|import)\s+(ch\d\d_\w+)",
                           (solutions / f"{name}.py").read_text(), re.M)
    return sorted(found)


def smoke_test_bundle(bundle: Path, chapters: list[str], modules: dict[str, str],
                      timeout: float = 600) -> str:
    """Grade a copy of the bundle: its stubs, then the reference answers.

    Parameters
    ----------
    bundle : Path
        The staged bundle (not modified).
    chapters : list of str
    modules : dict
        ``{chapter: module}`` of the exercise files.
    timeout : float
        Seconds for each of the two runs.

    Returns
    -------
    str
        Empty when the stubs grade and the answers earn every visible point;
        otherwise what went wrong.
    """
    with tempfile.TemporaryDirectory(prefix="course-smoke-") as tmp:
        copy = Path(tmp) / "bundle"
        shutil.copytree(bundle, copy)
        problem = _course_grade(copy, [*chapters, "--target", "exercises"], timeout)
        if problem:
            return problem
        answers = copy / "answers"
        answers.mkdir()
        for name in answer_files([modules[ch] for ch in chapters]):
            shutil.copy(repo_root() / "solutions" / f"{name}.py", answers)
        problem = _course_grade(copy, [*chapters, "--target", "answers",
                                       "--fail-under", "100"], timeout)
        if problem:
            return ("the reference answers do not earn every visible point with "
                    "the bundle's own tests and data: " + problem)
    return ""
