"""Grades from ``grade-batch`` into the CSV file that an LMS imports.

``course gradebook --grades grades.csv --lms canvas --export export.csv
--out import.csv`` reads the gradebook that the LMS exported (Canvas:
*Grades > Export*; Moodle: *Export > Plain text file*) and writes a file of
the same format holding the identity columns, and one grade column for the
course, ready for the LMS's own import:

Canvas
    ``Student, ID, SIS User ID, SIS Login ID, [Integration ID,] Section`` then
    the assignment column ``<name> (<id>)`` when the export has it (a new
    column ``<name>`` otherwise: Canvas creates the assignment on import),
    with the ``Points Possible`` row (and ``Manual Posting`` when exported).
Moodle
    ``First name, Last name`` and the identifier columns (``ID number``,
    ``Username``, ``Email address``) then the grade column; on import map
    ``Email address`` to the user's e-mail (or ``Username`` to the username)
    and the grade column to a grade item.

Students are matched by the submission name of ``grades.csv`` (the name of
the student's folder or zip): against the LMS's login (SIS Login ID,
Username), e-mail, SIS User ID or ID number, case-insensitively, and then
against the part of an e-mail before the ``@`` when that is unique. A
student without a submission gets an empty cell (the LMS leaves the grade
alone) unless ``--missing zero``; a submission without a student, or one
whose name fits several students, is left out and reported.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Canvas columns that identify a student (kept in the import file).
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID",
                   "Integration ID", "Section")
#: Canvas columns whose value a submission may be named after.
CANVAS_KEYS = ("SIS Login ID", "SIS User ID", "Integration ID")
#: Moodle columns kept in the import file, and those a submission may match.
MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Username",
                   "Email address")
MOODLE_KEYS = ("Username", "Email address", "ID number")
#: Rows of a Canvas export that are not students.
CANVAS_META = ("Points Possible", "Manual Posting")


@dataclass
class Table:
    """A CSV file as read: its header, its rows, whether it had a BOM."""

    header: list
    rows: list
    bom: bool = False


@dataclass
class Report:
    """How the submissions of ``grades.csv`` met the students of the export.

    Attributes
    ----------
    matched : list of (submission, student)
    no_submission : list of str
        Students of the export (their display name) without a submission.
    no_student : list of str
        Submissions that match no student.
    ambiguous : list of (submission, list of str)
        Submissions that match several students (left out).
    duplicates : list of (student, list of str)
        Students matched by several submissions (left out).
    """

    matched: list = field(default_factory=list)
    no_submission: list = field(default_factory=list)
    no_student: list = field(default_factory=list)
    ambiguous: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as lines of text for the terminal."""
        out = [f"matched {len(self.matched)} submission(s) to students"]
        if self.no_student:
            out.append(f"{len(self.no_student)} submission(s) match no student "
                       f"(left out): {', '.join(self.no_student)}")
        for sub, names in self.ambiguous:
            out.append(f"submission {sub!r} fits several students (left out): "
                       f"{'; '.join(names)}")
        for name, subs in self.duplicates:
            out.append(f"student {name!r} has several submissions (left out): "
                       f"{', '.join(subs)}")
        if self.no_submission:
            out.append(f"{len(self.no_submission)} student(s) without a "
                       f"submission: {'; '.join(self.no_submission)}")
        return out


# ------------------------------------------------------------------ reading
def read_table(path: Path) -> Table:
    """Read a CSV file written by a spreadsheet or an LMS.

    A byte-order mark is accepted (and remembered, so that the file written
    back has one too); fields may be quoted and hold commas or newlines.
    """
    raw = Path(path).read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(
        cell.strip() for cell in r)]
    if not rows:
        raise ValueError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return Table(header, body, bom)


def read_grades(path: Path, score: str = "total") -> dict[str, float | None]:
    """``{submission: score}`` from ``grade-batch``'s ``grades.csv``.

    Parameters
    ----------
    path : Path
    score : str
        Column to take: ``total`` or a chapter (``ch03``).

    Returns
    -------
    dict
        An empty cell (a chapter not graded in that run) gives ``None``.
    """
    table = read_table(path)
    if "submission" not in table.header or score not in table.header:
        raise ValueError(f"{path} has no columns 'submission' and {score!r} "
                         "(is it the grades.csv of course grade-batch?)")
    i, j = table.header.index("submission"), table.header.index(score)
    out: dict[str, float | None] = {}
    for row in table.rows:
        cell = row[j].strip()
        out[row[i].strip()] = float(cell) if cell else None
    return out


def graded_chapters(path: Path) -> list[str]:
    """Chapters with at least one score in ``grades.csv``."""
    table = read_table(path)
    chapters = [h for h in table.header if re.fullmatch(r"ch\d\d", h)]
    return [ch for ch in chapters
            if any(r[table.header.index(ch)].strip() for r in table.rows)]


# ------------------------------------------------------------------ matching
def _norm(value: str) -> str:
    return value.strip().lower()


def _keys(values: list[str]) -> tuple[set[str], set[str]]:
    """(full keys, e-mail local parts) of a student's identifying values."""
    full = {_norm(v) for v in values if v.strip()}
    local = {v.split("@", 1)[0] for v in full if "@" in v}
    return full, local


def match(submissions: list[str], students: list[tuple[str, list[str]]],
          report: Report) -> dict[int, str]:
    """Pair submissions with students.

    Parameters
    ----------
    submissions : list of str
        Submission names (folder or zip names of the batch).
    students : list of (display name, identifying values)
    report : Report
        Filled in.

    Returns
    -------
    dict
        ``{student index: submission}``.
    """
    keys = [_keys(values) for _, values in students]
    chosen: dict[int, list[str]] = {}
    for sub in submissions:
        s = _norm(sub)
        hits = [k for k, (full, _) in enumerate(keys) if s in full]
        if not hits:
            s_local = s.split("@", 1)[0]
            hits = [k for k, (full, local) in enumerate(keys)
                    if s_local in local or s_local in full]
        if not hits:
            report.no_student.append(sub)
        elif len(hits) > 1:
            report.ambiguous.append((sub, [students[k][0] for k in hits]))
        else:
            chosen.setdefault(hits[0], []).append(sub)
    pairs: dict[int, str] = {}
    for k, subs in sorted(chosen.items()):
        if len(subs) > 1:
            report.duplicates.append((students[k][0], subs))
        else:
            pairs[k] = subs[0]
            report.matched.append((subs[0], students[k][0]))
    report.no_submission.extend(
        students[k][0] for k in range(len(students))
        if k not in chosen)
    return pairs


# ------------------------------------------------------------------ writing
def fmt_points(x: float | None) -> str:
    """``12``, ``12.5``, ``''`` for None (no grade)."""
    if x is None:
        return ""
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _find_column(header: list[str], name: str) -> int | None:
    """The column of assignment ``name``: ``name`` itself or ``name (123)``."""
    pattern = re.compile(re.escape(name) + r"( \(\d+\))?")
    for i, h in enumerate(header):
        if pattern.fullmatch(h):
            return i
    return None


def _write(path: Path, header: list, rows: list, bom: bool) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _grade_cell(k: int, pairs: dict, grades: dict, missing: str) -> str:
    if k in pairs:
        return fmt_points(grades[pairs[k]])
    return "0" if missing == "zero" else ""


def canvas(export: Table, grades: dict, assignment: str, points,
           missing: str = "blank") -> tuple[list, list, Report]:
    """The Canvas import file (header, rows) and the matching report.

    ``points`` (a number, or a function giving it) fills the ``Points
    Possible`` row of a new column.
    """
    for need in ("Student", "ID"):
        if need not in export.header:
            raise ValueError(f"not a Canvas gradebook export: no {need!r} column")
    keep = [export.header.index(h) for h in CANVAS_IDENTITY if h in export.header]
    target = _find_column(export.header, assignment)
    header = [export.header[i] for i in keep]
    header.append(export.header[target] if target is not None else assignment)
    meta, people = [], []
    for row in export.rows:
        (meta if row[0].strip() in CANVAS_META or any(
            c.strip() == "Manual Posting" for c in row) else people).append(row)
    if target is None and callable(points):
        points = points()  # only a new column needs it (reading the tests)
    rows = []
    for row in meta:
        cell = row[target] if target is not None else ""
        if row[0].strip() == "Points Possible" and target is None:
            cell = fmt_points(points)
        rows.append([row[i] for i in keep] + [cell])
    key_cols = [export.header.index(h) for h in CANVAS_KEYS if h in export.header]
    name_col = export.header.index("Student")
    students = [(row[name_col], [row[i] for i in key_cols]) for row in people]
    report = Report()
    pairs = match(list(grades), students, report)
    for k, row in enumerate(people):
        rows.append([row[i] for i in keep] + [_grade_cell(k, pairs, grades, missing)])
    return header, rows, report


def moodle(export: Table, grades: dict, assignment: str,
           missing: str = "blank") -> tuple[list, list, Report]:
    """The Moodle import file (header, rows) and the matching report."""
    key_cols = [export.header.index(h) for h in MOODLE_KEYS if h in export.header]
    if not key_cols:
        raise ValueError("not a Moodle export: it needs an 'Email address', "
                         "'Username' or 'ID number' column")
    keep = [export.header.index(h) for h in MOODLE_IDENTITY if h in export.header]
    header = [export.header[i] for i in keep] + [assignment]
    names = [export.header.index(h) for h in ("First name", "Last name")
             if h in export.header]
    students = []
    for row in export.rows:
        shown = " ".join(row[i] for i in names).strip()
        students.append((shown or row[key_cols[0]], [row[i] for i in key_cols]))
    report = Report()
    pairs = match(list(grades), students, report)
    rows = [[row[i] for i in keep] + [_grade_cell(k, pairs, grades, missing)]
            for k, row in enumerate(export.rows)]
    return header, rows, report


def points_possible(grades_csv: Path, score: str) -> float | None:
    """Points of the graded chapters (or of one chapter), from the manifest."""
    from ..checking import manifest as mf

    try:
        chapters = mf.build()["chapters"]
    except RuntimeError:
        return None
    wanted = [score] if score != "total" else graded_chapters(grades_csv)
    return float(sum(chapters[c]["points"] for c in wanted if c in chapters))


def export_grades(grades_csv: Path, lms: str, export: Path, out: Path,
                  assignment: str, score: str = "total",
                  points: float | None = None, missing: str = "blank") -> Report:
    """Write ``out`` for the LMS from ``grades_csv`` and its ``export``.

    Returns
    -------
    Report
    """
    grades = read_grades(grades_csv, score)
    table = read_table(export)
    if lms == "canvas":
        if points is None:
            points = lambda: points_possible(grades_csv, score)  # noqa: E731
        header, rows, report = canvas(table, grades, assignment, points, missing)
    elif lms == "moodle":
        header, rows, report = moodle(table, grades, assignment, missing)
    else:
        raise ValueError(f"unknown LMS {lms!r} (canvas or moodle)")
    _write(out, header, rows, table.bom)
    return report


# ------------------------------------------------------------------ command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``course gradebook``."""
    parser.add_argument("--grades", type=Path, required=True,
                        help="grades.csv written by course grade-batch")
    parser.add_argument("--lms", choices=("canvas", "moodle"), required=True,
                        help="the LMS whose gradebook CSV --export is")
    parser.add_argument("--export", type=Path, required=True,
                        help="the gradebook CSV exported from the LMS")
    parser.add_argument("--out", type=Path, required=True,
                        help="the CSV file to import into the LMS")
    parser.add_argument("--assignment", default="Backprop from Scratch",
                        help="LMS column to fill (Canvas: its name without the "
                             "(id)); created when the export has none")
    parser.add_argument("--score", default="total",
                        help="grades.csv column to export: total or chNN")
    parser.add_argument("--points", type=float, default=None,
                        help="points possible of a new Canvas column "
                             "(default: from the graded tests)")
    parser.add_argument("--missing", choices=("blank", "zero"), default="blank",
                        help="grade of a student without a submission")


def main(args: argparse.Namespace) -> int:
    """Run ``course gradebook``; 1 when a submission could not be placed."""
    try:
        report = export_grades(args.grades, args.lms, args.export, args.out,
                               args.assignment, args.score, args.points,
                               args.missing)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"course gradebook: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    print(f"wrote {args.out}")
    return 1 if (report.no_student or report.ambiguous or report.duplicates) else 0
