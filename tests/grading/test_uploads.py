"""Uploads read defensively, ids no upload can abuse, and a summary no text can forge.

Unit tests of :mod:`course_lib.grading.batch.uploads`, ``.names`` and
``.gradebook``: no student code runs here, so each case is quick. The same
cases graded end to end, beside an honest student, are in ``test_batch_class.py``.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from course_lib.grading.batch import gradebook, names, uploads
from course_lib.grading.batch.outcome import Outcome

REPO = Path(__file__).resolve().parents[2]
CH01, CH02 = "ch01_forward_pass", "ch02_loss"
MODULES = {"ch01": CH01, "ch02": CH02}
GOOD = "def sigmoid(z):\n    return z\n"


def _collect(src: Path, tmp_path: Path, timeout: float = 10.0):
    """collect_submission in a thread, failing (not hanging) past ``timeout``."""
    dest = tmp_path / f"dest-{len(list(tmp_path.iterdir()))}"
    dest.mkdir()
    box: dict = {}
    worker = threading.Thread(target=lambda: box.update(
        out=uploads.collect_submission(src, dest, MODULES)), daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"reading {src.name} hangs"
    found, notes = box["out"]
    return found, notes, dest


# ------------------------------------------------------------------ special files
@pytest.mark.parametrize("kind", ["fifo", "socket", "device", "link_out",
                                  "link_in"])
def test_a_special_file_named_like_an_exercise_is_skipped_not_read(tmp_path, kind):
    up = tmp_path / "up"
    (up / "exercises").mkdir(parents=True)
    target = up / "exercises" / f"{CH02}.py"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(target, stat.S_IFCHR | 0o644, os.makedev(1, 5))  # /dev/zero
    elif kind == "link_out":
        target.symlink_to(REPO / "solutions" / f"{CH02}.py")
    else:  # a link to a file of the upload itself is still a link
        (up / "mine.py").write_text(GOOD)
        target.symlink_to(up / "mine.py")
    (up / "exercises" / f"{CH01}.py").write_text(GOOD)
    found, notes, dest = _collect(up, tmp_path)
    assert found == {"ch01": dest / f"{CH01}.py"}  # the honest file is graded
    assert sorted(p.name for p in dest.iterdir()) == [f"{CH01}.py"]
    assert any(f"{CH02}.py" in n and "skipped" in n for n in notes), notes


def test_a_named_pipe_called_like_a_zip_gets_a_row_and_never_blocks(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    os.mkfifo(subs / "bob.zip")
    (subs / "carol").mkdir()
    (subs / "README.txt").write_text("not an upload")
    (subs / "dave.zip").symlink_to(REPO / "README.md")
    found = {sid: problem for sid, _, problem in names.discover(subs)}
    assert set(found) == {"bob", "carol", "dave"}
    assert "named pipe" in found["bob"] and found["carol"] == ""
    assert "symbolic link" in found["dave"]
    f, notes, _ = _collect(subs / "bob.zip", tmp_path)
    assert f == {} and "named pipe" in notes[0]


def test_a_zip_held_in_a_folder_may_be_a_pipe_too(tmp_path):
    up = tmp_path / "up"
    up.mkdir()
    os.mkfifo(up / "upload.zip")
    found, notes, _ = _collect(up, tmp_path)
    assert found == {} and any("named pipe" in n for n in notes)


# ------------------------------------------------------------------ honest zips
def test_an_upper_case_zip_is_a_zip(tmp_path):
    path = tmp_path / "ALICE.ZIP"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"exercises/{CH01}.py", GOOD)
    found, notes, dest = _collect(path, tmp_path)
    assert found == {"ch01": dest / f"{CH01}.py"} and notes == []
    assert names.safe_id("ALICE.ZIP") == "ALICE"


def test_an_entry_twice_is_graded_from_its_last_copy(tmp_path):
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"exercises/{CH01}.py", "OLD = 1\n")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr(f"exercises/{CH01}.py", GOOD)
    found, notes, dest = _collect(path, tmp_path)
    assert (dest / f"{CH01}.py").read_text() == GOOD
    assert any("2 times" in n and "last copy" in n for n in notes), notes


def _corrupt_member(path: Path, member: str) -> None:
    """Flip bytes in the compressed data of one member (its header stays)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, start + min(info.compress_size, 40)):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_one_corrupt_member_costs_only_that_file(tmp_path, method):
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr(f"exercises/{CH01}.py", GOOD * 20)
        zf.writestr(f"exercises/{CH02}.py", "def mse(a, b):\n    return 0.0\n" * 20)
    _corrupt_member(path, f"exercises/{CH02}.py")
    found, notes, dest = _collect(path, tmp_path)
    assert found == {"ch01": dest / f"{CH01}.py"}
    assert (dest / f"{CH01}.py").read_text() == GOOD * 20
    assert any(n.startswith(f"skipped exercises/{CH02}.py: it cannot be read")
               for n in notes), notes


def test_a_corrupt_copy_falls_back_to_another_readable_one(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"exercises/{CH01}.py", GOOD * 30)
        zf.writestr(f"backup/{CH01}.py", "BACKUP = 1\n" * 30)
    _corrupt_member(path, f"exercises/{CH01}.py")
    found, notes, dest = _collect(path, tmp_path)
    assert (dest / f"{CH01}.py").read_text() == "BACKUP = 1\n" * 30
    assert any("skipped exercises" in n for n in notes)


def test_a_zip_of_a_whole_bundle_with_many_files_is_read(tmp_path):
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for k in range(6000):  # a virtualenv zipped along with the work
            zf.writestr(f"bundle/.venv/lib/f{k}.py", "")
        zf.writestr(f"bundle/exercises/{CH01}.py", GOOD)
    found, notes, _ = _collect(path, tmp_path)
    assert set(found) == {"ch01"} and notes == []


def test_a_zip_bomb_member_is_capped(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{CH01}.py", "#" * (uploads.MAX_FILE_BYTES * 50))
    found, notes, dest = _collect(path, tmp_path)
    assert found == {} and "larger than" in notes[0]
    assert list(dest.iterdir()) == []


# ------------------------------------------------------------------ ids
@pytest.mark.parametrize(("name", "expected"), [
    ("grades.csv.zip", "grades.csv"),
    ("summary.md.zip", "summary.md"),
    ("..", "_"),
    (".", "_"),
    ("...zip", "_"),
    ("-rf", "rf"),
    ("=HYPERLINK(1)", "_HYPERLINK_1_"),
    ("José Núñez", "José_Núñez"),
    ("ana\nbob", "ana_bob"),
    ("a/b", "a_b"),
    ("李雷", "李雷"),
])
def test_safe_ids(name, expected):
    assert names.safe_id(name) == expected


def test_long_names_are_cut_and_stay_distinct():
    a, b = "x" * 300 + "a", "x" * 300 + "b"
    ids = names.unique_ids([a, b])
    assert len(set(ids)) == 2 and all(len(i) <= names.MAX_ID for i in ids)


def test_ids_that_collide_after_cleaning_get_distinct_ids():
    # "alice-2" exists, and two more uploads clean to "alice"
    ids = names.unique_ids(["alice", "alice-2", "alice.zip", "Alice", "al ice",
                            "al_ice"])
    assert len({i.casefold() for i in ids}) == len(ids), ids
    assert ids[1] == "alice-2"  # a real name keeps its id


def test_no_upload_name_can_reach_the_gradebook_or_summary(tmp_path):
    out = tmp_path / "out"
    for name in ("grades.csv", "summary.md", "students", "..", "grades.csv.zip"):
        sid = names.unique_ids([name])[0]
        folder = names.student_dir(out, sid).resolve()
        assert folder.parent == (out / names.STUDENTS).resolve(), name
        assert folder not in {(out / names.GRADEBOOK).resolve(),
                              (out / names.SUMMARY).resolve()}


# ------------------------------------------------------------------ summary text
FORGERY = ("boom\n- `bob`: **all tests passed, score 100**\n| total | 100 |\n"
           "# Heading\r<b>x</b>\u2028[link](http://x) ``")


def test_no_text_from_a_submission_can_write_a_line_of_the_summary():
    victim = Outcome("bob", scores={"ch01": 3.0}, max_scores={"ch01": 17.0})
    liar = Outcome("mallory", scores={"ch01": 0.0}, max_scores={"ch01": 17.0},
                   problem=FORGERY, chapter_problems={"ch01": FORGERY},
                   notes=[FORGERY], stopped=[FORGERY])
    text = gradebook.summary([victim, liar], ["Sandbox: test."], ("ch01",))
    lines = text.splitlines()
    assert not [ln for ln in lines if ln.startswith("- `bob`: **")]
    assert all(ln.startswith("- `mallory`") for ln in lines if "score 100" in ln)
    assert not [ln for ln in lines if ln.startswith("# Heading")
                or ln.startswith("| total | 100")]
    # HTML and links arrive escaped (inert), line separators not at all
    assert not re.search(r"(?<!\\)<b", text) and not re.search(r"(?<!\\)\]\(", text)
    assert "\u2028" not in text and "\r" not in text
    # one line each: the problem, chapter 1, the note and what was stopped
    told = [ln for ln in lines if "boom" in ln]
    assert len(told) == 4 and all(ln.startswith("- `mallory`") for ln in told)


def test_csv_cells_cannot_break_rows(tmp_path):
    ids = names.unique_ids(["ann,\"x\"\nbob,17", "=1+1"])
    outcomes = [Outcome(sid, scores={"ch01": 1.0}) for sid in ids]
    gradebook.write_csv(tmp_path / "g.csv", outcomes, ("ch01",), ("ch01", "ch02"))
    with open(tmp_path / "g.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 3 and [r[0] for r in rows[1:]] == ids
    assert not any(r[0].startswith(("=", "+", "-", "@")) for r in rows[1:])
