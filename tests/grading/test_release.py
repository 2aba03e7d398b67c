"""``course release``: the student bundle, its leak scan, Gradescope, Classroom."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.grading.assign import release
from course_lib.grading.assign.stubs import make_stub
from course_lib.grading.checking.manifest import build

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
HIDDEN = REPO / "tests" / "exercises" / "hidden"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A real release of chapters 1-3 (smoke test of `course grade` included)."""
    out = tmp_path_factory.mktemp("release") / "week1"
    result = release.build_release("1-3", out)
    assert result.ok, "\n".join(map(str, result.leaks))
    return result


@pytest.fixture(scope="module")
def manifest():
    return build()


def test_bundle_layout(bundle):
    root = bundle.bundle
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {"README.md", "pyproject.toml", "requirements.txt", "manifest.json",
            ".github/classroom/autograding.json",
            ".github/workflows/classroom.yml"} <= names
    assert {n for n in names if n.startswith("exercises/")} == {
        "exercises/ch01_forward_pass.py", "exercises/ch02_loss.py",
        "exercises/ch03_chain_rule.py"}
    assert {n for n in names if n.startswith("book/")} == {
        "book/01_forward_pass.ipynb", "book/02_loss.ipynb",
        "book/03_chain_rule.ipynb"}
    assert {n for n in names if n.startswith("tests/")} == {
        "tests/exercises/conftest.py", "tests/exercises/oracles.py",
        "tests/exercises/engine_io.py", "tests/exercises/test_ch01_forward_pass.py",
        "tests/exercises/test_ch02_loss.py", "tests/exercises/test_ch03_chain_rule.py"}
    # the shared oracles ship byte for byte (the public tests import them)
    assert (root / "tests/exercises/oracles.py").read_bytes() == (
        REPO / "tests/exercises/oracles.py").read_bytes()
    assert "course_lib/grading/checking/runner.py" in names
    for tool in ("assign/release.py", "batch/grade_batch.py", "batch/sandbox.py"):
        assert f"course_lib/grading/{tool}" not in names
    assert not any("solution" in n.lower() or "hidden" in n for n in names)
    assert "-e ." in (root / "requirements.txt").read_text().splitlines()


def test_stubs_are_generated_not_copied(bundle):
    for path in (bundle.bundle / "exercises").glob("*.py"):
        solution = SOLUTIONS / path.name
        assert path.read_text() == make_stub(solution.read_text(), path.name)
        assert path.read_text() != solution.read_text()
        assert "NotImplementedError" in path.read_text()


def test_notebooks_have_no_outputs(bundle):
    for path in (bundle.bundle / "book").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_readme_tells_students_how_to_grade(bundle):
    text = (bundle.bundle / "README.md").read_text()
    for ch in ("ch01", "ch02", "ch03"):
        assert re.search(rf"^course grade {ch}\b", text, re.M)
    assert "check('ch01')" in text
    assert "pip install -r requirements.txt" in text


def test_manifest_counts_hidden_points_without_names(bundle, manifest):
    shipped = json.loads((bundle.bundle / "manifest.json").read_text())
    assert set(shipped["chapters"]) == {"ch01", "ch02", "ch03"}
    for ch in ("ch01", "ch02", "ch03"):
        assert shipped["chapters"][ch] == manifest["chapters"][ch]
    text = (bundle.bundle / "manifest.json").read_text()
    for path in HIDDEN.glob("test_ch0[123]*.py"):
        for name in re.findall(r"def (test_\w+)", path.read_text()):
            assert name not in text


def test_zip_matches_folder(bundle):
    with zipfile.ZipFile(bundle.zip) as zf:
        zipped = {i.filename: zf.read(i) for i in zf.infolist()}
    on_disk = {p.relative_to(bundle.bundle).as_posix(): p.read_bytes()
               for p in bundle.bundle.rglob("*") if p.is_file()}
    assert zipped == on_disk


def test_released_bundle_scans_clean(bundle):
    assert release.scan_for_leaks(bundle.bundle) == []


def test_classroom_points_match_visible_points(bundle, manifest):
    config = json.loads(
        (bundle.bundle / ".github" / "classroom" / "autograding.json").read_text())
    runs = [t["run"] for t in config["tests"]]
    assert all(re.fullmatch(
        r"(python -m course_lib|course) grade ch0[123]\.\w+ --fail-under 100", r)
        for r in runs)
    visible = sum(manifest["chapters"][ch]["points"]
                  - manifest["chapters"][ch]["hidden_points"]
                  for ch in ("ch01", "ch02", "ch03"))
    assert sum(t["points"] for t in config["tests"]) == visible
    workflow = (bundle.bundle / ".github" / "workflows" / "classroom.yml").read_text()
    assert "pip install -r requirements.txt" in workflow


# ------------------------------------------------------------------ leaks
def _copy(bundle, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle.bundle, target)
    return target


def _most_revealing_block() -> tuple[str, list[str]]:
    """(solution file, raw body lines) of the block with most revealing lines.

    Lines also in the public engine or the public tests do not reveal
    anything (see ``release.public_lines``), so a block made only of them
    cannot be "leaked"; the test plants the block that reveals the most.
    """
    blocks = release.solution_blocks(SOLUTIONS, release.public_lines())
    best = max(blocks, key=lambda b: len(b.lines))
    name, line = best.where.split("/")[-1].split(":")
    text = (SOLUTIONS / name).read_text().splitlines()
    start = int(line)
    end = next(i for i in range(start, len(text)) if "END SOLUTION" in text[i])
    return name, text[start:end]


def _solution_block_lines(name: str) -> list[str]:
    text = (SOLUTIONS / name).read_text().splitlines()
    start = next(i for i, x in enumerate(text) if "BEGIN SOLUTION" in x)
    end = next(i for i, x in enumerate(text) if "END SOLUTION" in x)
    return text[start + 1:end]


def _kinds(leaks) -> set[str]:
    return {leak.kind for leak in leaks}


def test_planted_solution_block_in_notebook_is_caught(bundle, tmp_path):
    root = _copy(bundle, tmp_path)
    nb_path = root / "book" / "01_forward_pass.ipynb"
    nb = json.loads(nb_path.read_text())
    name, lines = _most_revealing_block()
    body = "\n".join(x.strip() for x in lines)
    nb["cells"].append({"cell_type": "markdown", "metadata": {},
                        "source": f"Hint:\n```\n{body}\n```\n"})
    nb_path.write_text(json.dumps(nb))
    leaks = release.scan_for_leaks(root)
    # (a block may share lines with another one, which is then reported too)
    assert {(x.path, x.kind) for x in leaks} == {
        ("book/01_forward_pass.ipynb", "solution-line")}
    assert any(name in x.detail for x in leaks)


def test_one_distinctive_line_in_a_comment_is_caught(bundle, tmp_path):
    root = _copy(bundle, tmp_path)
    line = max(_solution_block_lines("ch02_loss.py"), key=len).strip()
    stub = root / "exercises" / "ch02_loss.py"
    stub.write_text(stub.read_text() + f"\n# {line}\n")
    leaks = release.scan_for_leaks(root)
    assert [(x.path, x.kind) for x in leaks] == [("exercises/ch02_loss.py",
                                                  "solution-line")]


def test_bytecode_outputs_solutions_and_hidden_tests_are_caught(bundle, tmp_path):
    root = _copy(bundle, tmp_path)
    (root / "course_lib" / "__pycache__").mkdir()
    (root / "course_lib" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"x")
    nb_path = root / "book" / "02_loss.ipynb"
    nb = json.loads(nb_path.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "0.5\n"}]
    nb_path.write_text(json.dumps(nb))
    (root / "solutions").mkdir()
    (root / "solutions" / "notes.md").write_text("nothing to see")
    hidden = sorted(HIDDEN.glob("test_ch01*.py"))[0]
    name = re.findall(r"def (test_\w+)", hidden.read_text())[0]
    readme = root / "README.md"
    readme.write_text(readme.read_text() + f"\nAlso graded: {name}\n")
    shutil.copy(hidden, root / "tests" / "exercises" / hidden.name)
    leaks = release.scan_for_leaks(root)
    assert _kinds(leaks) == {"bytecode", "notebook-output", "solutions-dir",
                             "hidden-test"}
    paths = {x.path for x in leaks if x.kind == "hidden-test"}
    assert {"README.md", f"tests/exercises/{hidden.name}"} <= paths


def test_release_refuses_when_the_stub_generator_leaks(tmp_path, monkeypatch,
                                                       capsys):
    # a broken generator that copies the solution instead of stubbing it
    monkeypatch.setattr(release, "generate_stub", lambda path: path.read_text())
    out = tmp_path / "leaky"
    code = cli.main(["release", "--chapters", "2", "--out", str(out),
                     "--no-gradescope", "--no-smoke-test"])
    assert code == 1
    assert "REFUSED" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "leaky.zip").exists()
    rejected = tmp_path / "leaky.rejected"
    assert "exercises/ch02_loss.py" in (rejected / "LEAKS.txt").read_text()


def test_release_of_chapters_1_and_4(tmp_path, capsys):
    out = tmp_path / "w"
    assert cli.main(["release", "--chapters", "1,4", "--out", str(out),
                     "--no-gradescope", "--no-smoke-test"]) == 0
    assert sorted(p.name for p in (out / "exercises").iterdir()) == [
        "ch01_forward_pass.py", "ch04_xor.py"]
    assert "student bundle" in capsys.readouterr().out
    assert (tmp_path / "w.zip").is_file()


def test_strip_notebook_removes_solutions_and_outputs():
    nb = {"metadata": {"widgets": {"state": 1}}, "nbformat": 4, "cells": [
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1",
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "print(2)",
         "outputs": [{"output_type": "stream", "text": "2"}], "execution_count": 3},
        {"cell_type": "markdown", "metadata": {}, "source":
            "Before\n```{solution} ex-1\n:class: dropdown\nsecret = 42\n```\nAfter\n"},
        {"cell_type": "markdown", "metadata": {}, "source":
            ":::{solution-start} ex-2\n:::\nhidden = 7\n:::{solution-end}\n:::\nEnd\n"},
    ]}
    out, removed = release.strip_notebook(nb)
    assert removed == 3
    assert [c["source"] for c in out["cells"]][0] == "print(2)"
    first = out["cells"][0]
    assert first["outputs"] == [] and first["execution_count"] is None
    text = json.dumps(out)
    assert "secret" not in text and "hidden = 7" not in text
    assert "Before" in text and "After" in text and "End" in text
    assert "widgets" not in out["metadata"]
    assert nb["cells"][1]["outputs"]  # the input is not modified


# ------------------------------------------------------------------ gradescope
def test_gradescope_bundle_grades_with_hidden_tests(bundle, manifest, tmp_path):
    with zipfile.ZipFile(bundle.gradescope) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        zf.extractall(tmp_path / "source")
    assert {"setup.sh", "run_autograder", "grade_submission.py",
            "tests/exercises/oracles.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(n.startswith("tests/exercises/hidden/test_ch01") for n in names)
    assert not any(n.startswith("tests/exercises/hidden/test_ch04") for n in names)
    assert not any("solutions" in n for n in names)
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(SOLUTIONS / "ch01_forward_pass.py", submission)
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env["PYTHONPATH"] = str(tmp_path / "source")
    proc = subprocess.run(
        [sys.executable, "grade_submission.py", str(submission), str(results)],
        cwd=tmp_path / "source", env=env, capture_output=True, text=True,
        timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(results.read_text())
    ch01 = [t for t in data["tests"] if t["number"] == "ch01"]
    assert sum(t["score"] for t in ch01) == manifest["chapters"]["ch01"]["points"]
    assert any(t["visibility"] == "after_published" for t in ch01)
    ch02 = [t for t in data["tests"] if t["number"] == "ch02"]
    assert ch02 and sum(t["score"] for t in ch02) == 0  # not submitted


# ------------------------------------------------------------------ manifest
def test_manifest_agrees_with_the_grading_plugin(manifest):
    from course_lib.grading.checking.runner import collect

    metas = collect()
    for ch, chapter in manifest["chapters"].items():
        mine = [m for m in metas if m["chapter"] == ch]
        assert chapter["points"] == sum(m["points"] for m in mine)
        assert chapter["hidden_points"] == sum(m["points"] for m in mine
                                               if m["hidden"])
        for name, ex in chapter["exercises"].items():
            assert ex["tests"] == sum(m["exercise"] == name for m in mine)
    assert manifest["hidden_points"] > 0


def test_manifest_check_detects_drift(tmp_path, capsys, manifest):
    saved = tmp_path / "points.json"
    assert cli.main(["manifest", "--write", str(saved)]) == 0
    assert json.loads(saved.read_text()) == manifest
    assert cli.main(["manifest", "--check", str(saved)]) == 0
    data = json.loads(saved.read_text())
    data["chapters"]["ch02"]["exercises"]["MSE_loss"]["points"] += 1
    saved.write_text(json.dumps(data))
    assert cli.main(["manifest", "--check", str(saved)]) == 1
    err = capsys.readouterr().err
    assert "chapters.ch02.exercises.MSE_loss.points" in err
