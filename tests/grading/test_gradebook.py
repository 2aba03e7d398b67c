"""``course gradebook``: grades.csv into Canvas's and Moodle's gradebook CSV.

The example exports below are written in the formats the two LMSs export
(Canvas: *Grades > Export*, with its ``Points Possible`` row and a byte-order
mark; Moodle: *Export > Plain text file*), with the cases that go wrong in
practice: names holding commas (quoted fields), e-mails in mixed case, a
student without a submission, a submission without a student, and a
submission whose name fits two students.
"""

from __future__ import annotations

import csv
import io

import pytest

from course_lib import cli
from course_lib.grading.batch import lms as gb

GRADES = """submission,ch01,ch02,ch03,ch04,ch05,ch06,ch07,total
ada,12,21,24,,,,,57
grace.hopper@uni.example,12,20.5,10,,,,,42.5
alan,3,0,0,,,,,3
nobody,1,1,1,,,,,3
j.smith,5,5,5,,,,,15
"""

CANVAS = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,"
    "Week 1 (4101),Backprop from Scratch (4102),Current Score,Final Score\n"
    "    Points Possible,,,,,10.00,75.00,(read only),(read only)\n"
    '"Lovelace, Ada",1001,S-17,ada,"Section A, Monday",8.00,,88.5,80.0\n'
    '"Hopper, Grace",1002,S-18,GRACE.HOPPER@uni.example,Section B,9.00,,90.0,90.0\n'
    '"Turing, Alan",1003,S-19,alan,Section A,7.00,,70.0,70.0\n'
    '"Noether, Emmy",1004,S-20,emmy,Section B,10.00,,100.0,100.0\n'
    '"Smith, Jane",1005,S-21,j.smith@uni.example,Section A,,,0.0,0.0\n'
    '"Smith, John",1006,S-22,j.smith@other.example,Section A,,,0.0,0.0\n'
)

MOODLE = (
    '"First name","Last name","ID number","Institution","Department",'
    '"Email address","Assignment: Week 1 (Real)","Course total (Real)",'
    '"Last downloaded from this course"\n'
    'Ada,Lovelace,17,"Uni, Main campus",CS,ada@uni.example,8.00,80.00,1733097600\n'
    'Grace,Hopper,18,Uni,CS,Grace.Hopper@uni.example,9.00,90.00,1733097600\n'
    'Alan,Turing,19,Uni,CS,alan@uni.example,-,70.00,1733097600\n'
    'Emmy,Noether,20,Uni,Maths,emmy@uni.example,10.00,100.00,1733097600\n'
)


def _write(tmp_path, name, text, bom=False):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    return path


def _rows(path):
    raw = path.read_bytes()
    return raw.startswith(b"\xef\xbb\xbf"), list(csv.reader(io.StringIO(
        raw.decode("utf-8-sig"), newline="")))


@pytest.fixture
def grades(tmp_path):
    return _write(tmp_path, "grades.csv", GRADES)


def test_canvas_fills_the_existing_assignment_column(tmp_path, grades):
    export = _write(tmp_path, "export.csv", CANVAS)
    out = tmp_path / "import.csv"
    report = gb.export_grades(grades, "canvas", export, out,
                              "Backprop from Scratch")
    bom, rows = _rows(out)
    assert bom  # Canvas's export had one; the import file keeps it
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Backprop from Scratch (4102)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "75.00"]
    body = {r[0]: r for r in rows[2:]}
    assert body["Lovelace, Ada"][4:] == ["Section A, Monday", "57"]
    assert body["Hopper, Grace"][5] == "42.5"  # login is an e-mail, other case
    assert body["Turing, Alan"][5] == "3"
    assert body["Noether, Emmy"][5] == ""      # no submission: grade left alone
    # "j.smith" is the local part of two students' logins: nobody gets it
    assert body["Smith, Jane"][5] == "" and body["Smith, John"][5] == ""
    assert report.no_student == ["nobody"]
    assert report.ambiguous == [("j.smith", ["Smith, Jane", "Smith, John"])]
    assert sorted(report.no_submission) == ["Noether, Emmy", "Smith, Jane",
                                            "Smith, John"]
    assert len(report.matched) == 3


def test_canvas_new_column_gets_points_possible(tmp_path, grades):
    export = _write(tmp_path, "export.csv", CANVAS)
    out = tmp_path / "import.csv"
    gb.export_grades(grades, "canvas", export, out, "Backprop week 2",
                     score="ch02", points=21, missing="zero")
    _, rows = _rows(out)
    assert rows[0][-1] == "Backprop week 2"  # no id: Canvas creates it
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "21"
    body = {r[0]: r[-1] for r in rows[2:]}
    assert body["Hopper, Grace"] == "20.5" and body["Noether, Emmy"] == "0"


def test_canvas_points_default_to_the_graded_chapters(tmp_path, grades):
    from course_lib.grading.checking.manifest import build

    chapters = build()["chapters"]
    export = _write(tmp_path, "export.csv", CANVAS)
    out = tmp_path / "import.csv"
    gb.export_grades(grades, "canvas", export, out, "New column")
    _, rows = _rows(out)
    want = sum(chapters[c]["points"] for c in ("ch01", "ch02", "ch03"))
    assert float(rows[1][-1]) == want


def test_moodle_writes_identifiers_and_a_grade_column(tmp_path, grades):
    export = _write(tmp_path, "moodle.csv", MOODLE)
    out = tmp_path / "moodle_import.csv"
    report = gb.export_grades(grades, "moodle", export, out, "Backprop ch1-3")
    bom, rows = _rows(out)
    assert not bom
    assert rows[0] == ["First name", "Last name", "ID number", "Email address",
                       "Backprop ch1-3"]
    body = {r[3]: r[4] for r in rows[1:]}
    # Moodle matches e-mails case-sensitively: the export's spelling is kept
    assert body == {"ada@uni.example": "57", "Grace.Hopper@uni.example": "42.5",
                    "alan@uni.example": "3", "emmy@uni.example": ""}
    assert sorted(report.no_student) == ["j.smith", "nobody"]
    assert report.no_submission == ["Emmy Noether"]


def test_two_submissions_for_one_student_are_left_out(tmp_path):
    grades = _write(tmp_path, "g.csv", "submission,ch01,total\nada,5,5\n"
                    "ADA@uni.example,6,6\n")
    export = _write(tmp_path, "moodle.csv", MOODLE)
    out = tmp_path / "o.csv"
    report = gb.export_grades(grades, "moodle", export, out, "x")
    assert report.duplicates == [("Ada Lovelace", ["ada", "ADA@uni.example"])]
    assert {r[3]: r[4] for r in _rows(out)[1][1:]}["ada@uni.example"] == ""


def test_command_line_reports_unmatched_rows(tmp_path, grades, capsys):
    export = _write(tmp_path, "export.csv", CANVAS)
    out = tmp_path / "import.csv"
    code = cli.main(["gradebook", "--grades", str(grades), "--lms", "canvas",
                     "--export", str(export), "--out", str(out),
                     "--assignment", "Backprop from Scratch"])
    text = capsys.readouterr().out
    assert code == 1  # a submission could not be placed
    assert "1 submission(s) match no student (left out): nobody" in text
    assert "fits several students" in text and "j.smith" in text
    assert "3 student(s) without a submission" in text
    assert out.is_file()


def test_a_file_that_is_not_an_export_is_refused(tmp_path, grades, capsys):
    export = _write(tmp_path, "export.csv", "name,grade\nada,1\n")
    code = cli.main(["gradebook", "--grades", str(grades), "--lms", "canvas",
                     "--export", str(export), "--out", str(tmp_path / "o.csv")])
    assert code == 2
    assert "not a Canvas gradebook export" in capsys.readouterr().err
