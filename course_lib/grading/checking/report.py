"""Scorecards: the result of a grading run, for a terminal, a notebook and Gradescope.

A :class:`Report` holds one :class:`TestResult` per graded test that was selected
(passed, failed, errored, or not run because the run hit its time limit), plus the
points of hidden tests that were counted but not run. It renders as

- :meth:`Report.text` — an aligned scorecard for terminals (no tracebacks);
- :meth:`Report._repr_html_` — a table in Jupyter;
- :meth:`Report.to_gradescope` — Gradescope's ``results.json`` structure;
- :meth:`Report.to_json` — everything, for tools (``Report.from_json`` reads it back).
"""

from __future__ import annotations

import html
import json
import sys
import textwrap
from dataclasses import asdict, dataclass, field

from course_lib.grading.core.chapters import CHAPTERS

__all__ = ["ChapterScore", "ExerciseScore", "Report", "TestResult", "fmt_points"]


def fmt_points(x: float) -> str:
    """``3`` for whole numbers, ``2.5`` otherwise."""
    x = float(x)
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


@dataclass
class TestResult:
    """Outcome of one graded test.

    Attributes
    ----------
    nodeid : str
    chapter : str
        ``"ch03"``.
    exercise : str
        The exercise function, e.g. ``"dense_backward"``.
    what : str
        What the test checks, from its name (``"dW matches finite differences"``).
    points : float
        What the test is worth.
    hidden : bool
    outcome : str
        ``"passed"``, ``"failed"``, ``"error"`` (a problem in the grader or the test),
        ``"skipped"`` or ``"not_run"``.
    kind : str
        ``"passed"``, ``"assert"``, ``"not_attempted"``, ``"timeout"``, ``"crash"``,
        ``"import"``, ``"missing"``, ``"student_error"``, ``"test_error"``, ...
    reason : str
        Short student-facing explanation ("" when passed).
    score : float
        Points earned.
    duration : float
        Seconds.
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    chapter: str
    exercise: str
    what: str
    points: float
    hidden: bool = False
    outcome: str = "not_run"
    kind: str = "not_run"
    reason: str = ""
    score: float = 0.0
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def title(self) -> str:
        """``"ch03 dense_backward: dW matches finite differences"``."""
        return f"{self.chapter} {self.exercise}: {self.what}".rstrip(": ")


@dataclass
class ExerciseScore:
    """Points of one exercise function."""

    name: str
    earned: float = 0.0
    possible: float = 0.0
    tests: list = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(t.passed for t in self.tests)


@dataclass
class ChapterScore:
    """Points of one chapter, by exercise."""

    chapter: str
    title: str
    earned: float = 0.0
    possible: float = 0.0
    exercises: dict = field(default_factory=dict)

    @property
    def tests(self) -> list:
        return [t for ex in self.exercises.values() for t in ex.tests]


@dataclass
class Report:
    """Result of one grading run.

    Attributes
    ----------
    target : str
        The folder that was graded.
    tests : list of TestResult
    pending_hidden : list of dict
        Hidden tests counted but not run (``chapter``, ``exercise``, ``points``).
    hidden_note : str
        Shown under the total when hidden tests exist but were not run here.
    errors : list of str
        Problems of the run itself (a test file that cannot be collected, the run's
        time limit...). Shown to the student; never a traceback wall.
    duration : float
        Seconds the run took.
    include_hidden : bool
    """

    target: str = ""
    tests: list = field(default_factory=list)
    pending_hidden: list = field(default_factory=list)
    hidden_note: str = ""
    errors: list = field(default_factory=list)
    duration: float = 0.0
    include_hidden: bool = False

    # ------------------------------------------------------------------ numbers
    @property
    def earned(self) -> float:
        """Points earned in this run."""
        return float(sum(t.score for t in self.tests))

    @property
    def possible(self) -> float:
        """Points of the tests selected in this run (hidden ones if they ran)."""
        return float(sum(t.points for t in self.tests))

    @property
    def hidden_points(self) -> float:
        """Points of hidden tests that exist but were not run."""
        return float(sum(m.get("points") or 0 for m in self.pending_hidden))

    @property
    def all_passed(self) -> bool:
        """Every selected test passed (hidden tests may remain: see hidden_points)."""
        return bool(self.tests) and all(t.passed for t in self.tests)

    def chapters(self) -> dict[str, ChapterScore]:
        """Scores per chapter (in course order), each with its exercises."""
        out: dict[str, ChapterScore] = {}
        for t in sorted(self.tests, key=lambda t: t.chapter):
            ch = out.setdefault(t.chapter, ChapterScore(
                t.chapter, CHAPTERS.get(t.chapter, ("", ""))[1]))
            ex = ch.exercises.setdefault(t.exercise, ExerciseScore(t.exercise))
            ex.tests.append(t)
            ex.earned += t.score
            ex.possible += t.points
            ch.earned += t.score
            ch.possible += t.points
        return out

    def chapter_scores(self) -> dict[str, tuple[float, float]]:
        """``{"ch03": (earned, possible), ...}``."""
        return {c: (s.earned, s.possible) for c, s in self.chapters().items()}

    # ------------------------------------------------------------------ text
    def text(self, ascii_only: bool | None = None, width: int = 88) -> str:
        """The scorecard for a terminal.

        Parameters
        ----------
        ascii_only : bool, optional
            Use ``+``/``x`` instead of ``✓``/``✗``; by default chosen from
            ``sys.stdout``'s encoding.
        width : int
            Line width for wrapping reasons.
        """
        marks = _marks(ascii_only)
        chapters = self.chapters()
        names = [ex for ch in chapters.values() for ex in ch.exercises]
        heads = [f"{c.chapter}  {c.title}" for c in chapters.values()]
        name_w = max([len(n) for n in names] + [len(h) - 4 for h in heads] + [24])
        lines = [f"Scorecard for {self.target}" if self.target else "Scorecard"]
        rule = marks["rule"] * min(width, name_w + 6 + _SCORE_W + 7)
        lines.append(rule)
        for ch in chapters.values():
            lines += _chapter_lines(ch, marks, name_w, width)
        lines.append(rule)
        pct = f"  ({100 * self.earned / self.possible:.0f}%)" if self.possible else ""
        score = _pts(self.earned, self.possible)
        lines.append(f"{'Total':<{name_w + 6}}{score:>{_SCORE_W}}{pct}")
        lines += self._closing_lines(width)
        return "\n".join(lines)

    def _closing_lines(self, width: int) -> list[str]:
        """What follows the total: the verdict, hidden points, run errors."""
        lines = []
        if not self.tests:
            lines.append("No graded tests were run.")
        elif self.all_passed and not self.pending_hidden and not self.hidden_note:
            lines.append("All tests passed.")
        elif self.all_passed:
            lines.append("All visible tests passed.")
        if self.pending_hidden:
            lines.append(
                f"Hidden tests: {fmt_points(self.hidden_points)} more points "
                f"({len(self.pending_hidden)} tests) are graded later by your "
                "instructor.")
        elif self.hidden_note:
            lines.append(self.hidden_note)
        for err in self.errors:
            lines += _wrap(f"! {err}", "", width, "  ")
        return lines

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    # ------------------------------------------------------------------ html
    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for ch in self.chapters().values():
            rows.append(
                f'<tr style="background:#eef2f7;font-weight:600"><td colspan="2">'
                f"{esc(ch.chapter)} &nbsp;{esc(ch.title)}</td>"
                f'<td style="text-align:right">{_pts(ch.earned, ch.possible)}'
                "</td></tr>")
            for ex in ch.exercises.values():
                color = "#1a7f37" if ex.complete else (
                    "#9a6700" if ex.earned > 0 else "#cf222e")
                mark = "✓" if ex.complete else ("◐" if ex.earned > 0 else "✗")
                reasons = []
                for t in ex.tests:
                    if not t.passed:
                        reasons.append(
                            f"<li><b>{esc(t.what or t.exercise)}</b> "
                            f"({fmt_points(t.points)} pt{'s' if t.points != 1 else ''}"
                            f"{', hidden' if t.hidden else ''}): "
                            f'<span style="white-space:pre-wrap">{esc(t.reason)}</span>'
                            "</li>")
                detail = (f'<ul style="margin:2px 0 4px 0">{"".join(reasons)}</ul>'
                          if reasons else "")
                rows.append(
                    f'<tr><td style="color:{color};width:1.5em">{mark}</td>'
                    f"<td><code>{esc(ex.name)}</code>{detail}</td>"
                    f'<td style="text-align:right;vertical-align:top">'
                    f"{_pts(ex.earned, ex.possible)}</td></tr>")
        pct = f" ({100 * self.earned / self.possible:.0f}%)" if self.possible else ""
        rows.append(f'<tr style="font-weight:700;border-top:2px solid #888">'
                    f'<td colspan="2">Total</td><td style="text-align:right">'
                    f"{_pts(self.earned, self.possible)}{pct}</td></tr>")
        notes = []
        if self.pending_hidden:
            notes.append(f"Hidden tests: {fmt_points(self.hidden_points)} more points "
                         "are graded later by your instructor.")
        elif self.hidden_note:
            notes.append(self.hidden_note)
        notes += [f"⚠ {e}" for e in self.errors]
        foot = "".join(f'<p style="margin:4px 0">{esc(n)}</p>' for n in notes)
        return ('<div class="course-scorecard"><table style="border-collapse:collapse;'
                'min-width:28em"><thead><tr><th></th><th style="text-align:left">'
                'Exercise</th><th style="text-align:right">Points</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>{foot}</div>")

    # ------------------------------------------------------------------ machines
    def to_gradescope(self) -> dict:
        """Gradescope's ``results.json``: ``score``, ``tests`` (name, score, max_score,
        output, visibility, status), ``execution_time``, ``output``,
        ``stdout_visibility``."""
        tests = []
        for t in self.tests:
            tests.append({
                "name": t.title,
                "number": t.chapter,
                "score": float(t.score),
                "max_score": float(t.points),
                "status": "passed" if t.passed else "failed",
                "output": "passed" if t.passed else (t.reason or t.outcome),
                "visibility": "after_published" if t.hidden else "visible",
            })
        out = {
            "score": float(self.earned),
            "execution_time": round(float(self.duration), 2),
            "output": self.summary_line(),
            "stdout_visibility": "hidden",
            "tests": tests,
        }
        return out

    def summary_line(self) -> str:
        """One line: total and what remains."""
        s = f"{fmt_points(self.earned)} / {fmt_points(self.possible)} points"
        if self.pending_hidden:
            s += f"; {fmt_points(self.hidden_points)} hidden points not run here"
        if self.errors:
            s += "; " + "; ".join(self.errors)
        return s

    def to_dict(self) -> dict:
        """Everything in the report as plain data."""
        return {"target": self.target, "earned": self.earned,
                "possible": self.possible, "hidden_points": self.hidden_points,
                "tests": [asdict(t) for t in self.tests],
                "pending_hidden": list(self.pending_hidden),
                "hidden_note": self.hidden_note, "errors": list(self.errors),
                "duration": self.duration, "include_hidden": self.include_hidden,
                "chapters": {c: {"earned": e, "possible": p}
                             for c, (e, p) in self.chapter_scores().items()}}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        """Inverse of :meth:`to_dict`."""
        return cls(target=data.get("target", ""),
                   tests=[TestResult(**t) for t in data.get("tests", [])],
                   pending_hidden=list(data.get("pending_hidden", [])),
                   hidden_note=data.get("hidden_note", ""),
                   errors=list(data.get("errors", [])),
                   duration=float(data.get("duration", 0.0)),
                   include_hidden=bool(data.get("include_hidden", False)))

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


def _pts(earned: float, possible: float) -> str:
    return f"{fmt_points(earned)} / {fmt_points(possible)}"


def _shared_reason(tests: list) -> str | None:
    """The reason when every test failed for the same reason of a whole-file kind."""
    failed = [t for t in tests if not t.passed]
    if not failed or len(failed) != len(tests):
        return None
    reasons = {t.reason for t in failed}
    if len(reasons) == 1 and failed[0].kind in (
            "import", "not_attempted", "missing", "crash", "timeout", "not_run"):
        return failed[0].reason
    return None


def _wrap(text: str, indent: str, width: int, cont: str | None = None) -> list[str]:
    cont = indent if cont is None else cont
    out = []
    for i, para in enumerate(text.splitlines() or [""]):
        first = indent if i == 0 else cont
        out += textwrap.wrap(para, width=width, initial_indent=first,
                             subsequent_indent=cont, break_long_words=True,
                             replace_whitespace=False) or [first.rstrip()]
    return out


_SCORE_W = 9


def _marks(ascii_only: bool | None) -> dict:
    """The scorecard's symbols; ASCII when asked or when stdout cannot encode them."""
    if ascii_only is None:
        enc = getattr(sys.stdout, "encoding", None) or "ascii"
        try:
            "✓✗·─".encode(enc)
            ascii_only = False
        except (UnicodeEncodeError, LookupError):
            ascii_only = True
    ok, bad, part, rule = ("+", "x", "~", "-") if ascii_only else ("✓", "✗", "◐", "─")
    return {"ok": ok, "bad": bad, "part": part, "rule": rule}


def _failed_test_lines(ex, bad: str, width: int) -> list[str]:
    lines = []
    for t in ex.tests:
        if t.passed:
            continue
        label = t.what or t.exercise
        pts = fmt_points(t.points)
        unit = "pt" if pts == "1" else "pts"
        tag = f"{bad} {label} ({pts} {unit}" + (", hidden)" if t.hidden else ")")
        lines += _wrap(f"{tag}: {t.reason or t.outcome}", "      ", width, "        ")
    return lines


def _chapter_lines(ch, marks: dict, name_w: int, width: int) -> list[str]:
    """A chapter's line, then one per exercise and the reasons of its failures
    (one shared reason, when every failure of the chapter or exercise has it)."""
    head = f"{ch.chapter}  {ch.title}"
    lines = [f"{head:<{name_w + 6}}{_pts(ch.earned, ch.possible):>{_SCORE_W}}"]
    shared = _shared_reason(ch.tests)
    if shared:
        lines += _wrap(shared, "      ", width)
    for ex in ch.exercises.values():
        mark = marks["ok"] if ex.complete else (
            marks["part"] if ex.earned > 0 else marks["bad"])
        score = _pts(ex.earned, ex.possible)
        lines.append(f"  {mark} {ex.name:<{name_w + 2}}{score:>{_SCORE_W}}")
        if shared:
            continue
        ex_shared = _shared_reason(ex.tests)
        if ex_shared and len(ex.tests) > 1:
            lines += _wrap(ex_shared, "      ", width)
        else:
            lines += _failed_test_lines(ex, marks["bad"], width)
    return lines
