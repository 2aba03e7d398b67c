"""The GitHub Classroom workflow of a release (the one home of its format).

GitHub Classroom creates, for an assignment with autograding tests, a
workflow with one ``classroom-resources/autograding-command-grader@v1`` step
per test (inputs ``test-name``, ``setup-command``, ``command``, ``timeout``
in minutes and ``max-score``; a zero exit code earns the points) and one
``classroom-resources/autograding-grading-reporter@v1`` step that reads each
step's result from an environment variable ``<ID>_RESULTS`` (the step id in
capitals) and sums the points of the ids listed in its ``runners`` input.
:func:`workflow` writes that file for the chosen chapters: one step per
exercise, running ``python -m course_lib grade chNN.<exercise>
--fail-under 100``, worth the exercise's visible points, so Classroom's total
is the scorecard's visible total. (The archived ``education/autograding``
action and its ``.github/classroom/autograding.json`` are not used.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates") / "classroom"
#: Minutes Classroom gives each step before stopping it.
TIMEOUT_MINUTES = 5


@dataclass(frozen=True)
class Step:
    """One autograding step: an exercise, its command and its points."""

    id: str
    name: str
    command: str
    points: float
    timeout: int = TIMEOUT_MINUTES


def _number(x: float):
    return int(x) if float(x).is_integer() else float(x)


def steps(chapters=None, tests_dir: Path | None = None,
          timeout_minutes: int = TIMEOUT_MINUTES, manifest: dict | None = None
          ) -> list[Step]:
    """One :class:`Step` per exercise with visible points, in chapter order.

    Parameters
    ----------
    chapters : list of str, optional
        Default: every chapter with graded tests.
    tests_dir : Path, optional
        The graded tests (default: the course's ``tests/exercises``).
    timeout_minutes : int
    manifest : dict, optional
        The points manifest, when the caller has it (saves collecting the
        tests again).

    Returns
    -------
    list of Step
    """
    if manifest is None:
        from ..checking import manifest as mf

        manifest = mf.build(tests_dir=tests_dir)
    out = []
    for ch, chapter in sorted(manifest["chapters"].items()):
        if chapters is not None and ch not in chapters:
            continue
        for exercise, ex in chapter["exercises"].items():
            pts = ex["points"] - ex["hidden_points"]
            if pts <= 0:
                continue
            out.append(Step(
                id=re.sub(r"[^a-z0-9-]", "-", f"{ch}-{exercise}".lower()),
                name=f"{ch} {exercise}",
                command=f"python -m course_lib grade {ch}.{exercise} --fail-under 100",
                points=_number(pts), timeout=int(timeout_minutes)))
    return out


def _fill(template: str, **values) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    return template


def workflow(chapter_steps: list[Step], chapters: list[str]) -> str:
    """The text of ``.github/workflows/classroom.yml`` for these steps.

    Strings are written as JSON strings, which YAML reads as they are.
    """
    step_text = (TEMPLATES / "step.yml").read_text()
    blocks = [_fill(step_text, name=json.dumps(s.name), id=s.id,
                    command=json.dumps(s.command), timeout=s.timeout,
                    points=s.points).rstrip("\n") for s in chapter_steps]
    env = [f"        {s.id.upper()}_RESULTS: \"${{{{steps.{s.id}.outputs.result}}}}\""
           for s in chapter_steps]
    total = _number(sum(s.points for s in chapter_steps))
    return _fill((TEMPLATES / "workflow.yml").read_text(),
                 chapter_list=", ".join(chapters), total=total,
                 steps="\n".join(blocks), reporter_env="\n".join(env),
                 runners=",".join(s.id for s in chapter_steps))


def write(folder: Path, chapters: list[str], manifest: dict | None = None) -> Path:
    """Write ``<folder>/.github/workflows/classroom.yml``; returns its path."""
    path = Path(folder) / ".github" / "workflows" / "classroom.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(steps(chapters, manifest=manifest), list(chapters)))
    return path
