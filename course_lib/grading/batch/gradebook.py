"""The batch's outputs for the instructor: ``grades.csv`` and ``summary.md``.

Every piece of text that comes from an upload (an error message, a path inside
a zip, a note) goes through :func:`md_text` before it reaches ``summary.md``:
one line, no Markdown or HTML that could draw a table row, a heading or a fake
line about another student. Ids are already safe (:mod:`.names`).
"""

from __future__ import annotations

import csv
import re
import statistics
from pathlib import Path

from .outcome import CSV_HEADER, Outcome

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e"
                      r"\u2066-\u2069\ufeff]+")
#: What can make structure inside one line of Markdown (MyST): code, emphasis,
#: links and images, HTML, table cells, strike-through, roles and math.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>|~$])")


def md_text(text, limit: int = 300) -> str:
    """``text`` as one line of inert Markdown (at most ``limit`` characters)."""
    text = _CONTROL.sub(" ", str(text)).strip()
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", text)


def fmt(x: float) -> str:
    """A score: ``3`` or ``2.50``."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def write_csv(path: Path, outcomes: list[Outcome], chapters, all_chapters) -> None:
    """``submission,ch01,…,ch07,total``; chapters not graded are left empty."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        for o in outcomes:
            row = [o.submission]
            for ch in all_chapters:
                row.append(fmt(o.scores.get(ch, 0.0)) if ch in chapters else "")
            row.append(fmt(o.total))
            writer.writerow(row)


def _statistics(outcomes: list[Outcome], chapters) -> list[str]:
    max_scores: dict = {}
    for o in outcomes:
        for ch, v in o.max_scores.items():
            max_scores[ch] = max(max_scores.get(ch, 0.0), v)
    lines = ["| chapter | max | mean | std | min | median | max scored | zeros |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for ch in list(chapters) + ["total"]:
        vals = [o.total if ch == "total" else o.scores.get(ch, 0.0)
                for o in outcomes]
        if not vals:
            continue
        possible = (sum(max_scores.get(c, 0.0) for c in chapters)
                    if ch == "total" else max_scores.get(ch, 0.0))
        std = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        lines.append(
            f"| {ch} | {fmt(possible)} | {statistics.fmean(vals):.2f} | "
            f"{std:.2f} | {fmt(min(vals))} | {fmt(statistics.median(vals))} | "
            f"{fmt(max(vals))} | {sum(v == 0 for v in vals)} |")
    return lines + [""]


def _slowest(outcomes: list[Outcome]) -> list[str]:
    if not outcomes:
        return []
    times = [o.seconds for o in outcomes]
    lines = [(f"Time per submission: mean {statistics.fmean(times):.1f} s, "
              f"max {max(times):.1f} s."), "", "Slowest submissions:", ""]
    lines += [f"- `{o.submission}`: {o.seconds:.1f} s"
              for o in sorted(outcomes, key=lambda o: -o.seconds)[:5]]
    return lines + [""]


def problem_lines(o: Outcome) -> list[str]:
    """One line per fact about a submission: escaped, never more than one."""
    lines = []
    if o.problem:
        lines.append(f"- `{o.submission}`: **{md_text(o.problem)}**")
    for ch, why in sorted(o.chapter_problems.items()):
        lines.append(f"- `{o.submission}` {md_text(ch, 20)}: {md_text(why)}")
    for note in o.notes:
        lines.append(f"- `{o.submission}` (copy): {md_text(note)}")
    return lines


def summary(outcomes: list[Outcome], header: list[str], chapters) -> str:
    """The batch summary as Markdown (``header``: sandbox and limit lines)."""
    ok = [o for o in outcomes if not o.problem]
    lines = ["# Batch grading summary", "", *header,
             (f"Submissions: **{len(outcomes)}** ({len(ok)} graded, "
              f"{len(outcomes) - len(ok)} scored 0 because grading could not run)."),
             ""]
    lines += _statistics(outcomes, chapters) + _slowest(outcomes)
    stopped = [o for o in outcomes if o.stopped]
    lines += ["## Stopped by the sandbox", ""]
    lines += [f"- `{o.submission}`: " + md_text("; ".join(o.stopped), limit=500)
              for o in stopped] or ["None."]
    lines += ["", "## Crashes and problems", ""]
    crashed = [o for o in outcomes if o.problem or o.chapter_problems or o.notes]
    lines += [line for o in crashed for line in problem_lines(o)] or ["None."]
    lines.append("")
    return "\n".join(lines)
