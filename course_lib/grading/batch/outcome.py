"""What grading one submission produced, and the options of a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.chapters import CHAPTERS
from . import sandbox

CSV_HEADER = ["submission", *CHAPTERS, "total"]


@dataclass
class Outcome:
    """What grading one submission produced.

    Attributes
    ----------
    submission : str
        The student's id.
    scores : dict
        ``{"ch01": points, ...}`` for the graded chapters.
    max_scores : dict
        Points possible per graded chapter.
    seconds : float
        Wall time, copy included.
    problem : str
        Empty when grading ran; otherwise why the submission scored 0
        (no files found, time limit, grader failure).
    chapter_problems : dict
        ``{"ch03": "could not be imported: SyntaxError ..."}`` — chapters that
        crashed, timed out or failed to import.
    notes : list of str
        Things noticed while copying (skipped files, duplicate entries).
    stopped : list of str
        What the sandbox stopped (a memory, process or temporary-space budget).
    """

    submission: str
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    seconds: float = 0.0
    problem: str = ""
    chapter_problems: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    stopped: list = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


@dataclass(frozen=True)
class Settings:
    """Options shared by every submission of a batch."""

    chapters: tuple
    timeout_per_test: float = 10.0
    timeout_per_submission: float = 300.0
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    tests_dir: Path | None = None
    mode: sandbox.Mode | None = None
    max_points: dict = field(default_factory=dict)
