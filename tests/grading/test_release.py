"""``course release``: the student bundle, its leak scan, Gradescope, Classroom."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.grading.assign import leaks, notebooks, release
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
            ".github/workflows/classroom.yml"} <= names
    assert {n for n in names if n.startswith("exercises/")} == {
        "exercises/ch01_forward_pass.py", "exercises/ch02_loss.py",
        "exercises/ch03_chain_rule.py"}
    assert {n for n in names if n.startswith("book/")} == {
        "book/01_forward_pass.ipynb", "book/02_loss.ipynb",
        "book/03_chain_rule.ipynb"}
    shipped_tests = {n for n in names if n.startswith("tests/")}
    assert {"tests/exercises/conftest.py", "tests/exercises/expected.py",
            "tests/exercises/expected.json",
            "tests/exercises/test_ch01_forward_pass.py",
            "tests/exercises/test_ch02_loss.py",
            "tests/exercises/test_ch03_chain_rule.py"} <= shipped_tests
    assert {n for n in shipped_tests if "/test_ch" in n} == {
        "tests/exercises/test_ch01_forward_pass.py",
        "tests/exercises/test_ch02_loss.py",
        "tests/exercises/test_ch03_chain_rule.py"}
    data = json.loads((root / "tests/exercises/expected.json").read_text())
    assert {k.split("/")[0] for k in data} <= {"ch01", "ch02", "ch03", "oracles"}
    # the oracles' names replay values: none of their code is in the bundle
    replay = (root / "tests/exercises/oracles.py").read_text()
    assert "def " not in replay and "lambda" not in replay
    assert not re.search(r"^fd\b", replay, re.M)  # exercise 3.4's answer
    assert "course_lib/grading/checking/runner.py" in names
    assert not any(n.startswith(("course_lib/grading/assign/",
                                 "course_lib/grading/batch/")) for n in names)
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
    assert leaks.scan_for_leaks(bundle.bundle) == []


GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


def _visible_points(manifest, chapters):
    return sum(manifest["chapters"][ch]["points"]
               - manifest["chapters"][ch]["hidden_points"] for ch in chapters)


@pytest.fixture(scope="module")
def workflow(bundle):
    yaml = pytest.importorskip("yaml")
    path = bundle.bundle / ".github" / "workflows" / "classroom.yml"
    return yaml.safe_load(path.read_text())


def test_classroom_workflow_is_in_todays_form(workflow, manifest):
    assert workflow["on"] == ["push", "repository_dispatch"]
    assert workflow["permissions"] == {"checks": "write", "actions": "read",
                                       "contents": "read"}
    job = workflow["jobs"]["run-autograding-tests"]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    steps = job["steps"]
    graders = [s for s in steps if s.get("uses") == GRADER]
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER
    ids = [s["id"] for s in graders]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z][a-z0-9-]*", i)
                                            for i in ids)
    for step in graders:
        w = step["with"]
        assert set(w) == {"test-name", "setup-command", "command", "timeout",
                          "max-score"}
        assert isinstance(w["timeout"], int) and 1 <= w["timeout"] <= 360  # minutes
        assert isinstance(w["max-score"], int) and w["max-score"] > 0
        assert re.fullmatch(r"python -m course_lib grade ch0[123]\.\w+ "
                            r"--fail-under 100", w["command"])
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {
        f"{i.upper()}_RESULTS": "${{steps." + i + ".outputs.result}}" for i in ids}
    # every exercise with visible points is a step, and the points add up
    want = {f"{ch} {ex}" for ch in ("ch01", "ch02", "ch03")
            for ex, e in manifest["chapters"][ch]["exercises"].items()
            if e["points"] > e["hidden_points"]}
    assert {s["with"]["test-name"] for s in graders} == want
    total = sum(s["with"]["max-score"] for s in graders)
    assert total == _visible_points(manifest, ("ch01", "ch02", "ch03"))


def _run_step(step, folder, env):
    """Run a step's command as the command grader does: no shell, a small
    environment, its timeout in minutes."""
    w = step["with"]
    proc = subprocess.run(shlex.split(w["command"]), cwd=folder, env=env,
                          capture_output=True, text=True, check=False,
                          timeout=60 * w["timeout"])
    return step["id"], proc


def test_classroom_commands_pass_on_answers_and_fail_on_stubs(workflow, bundle,
                                                             tmp_path):
    graders = [s for s in workflow["jobs"]["run-autograding-tests"]["steps"]
               if s.get("uses") == GRADER]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path), "FORCE_COLOR": "true"}
    outcome = {}
    for which in ("answers", "stubs"):
        folder = tmp_path / which  # a fresh copy of the student's repository
        shutil.copytree(bundle.bundle, folder)
        if which == "answers":
            for path in (folder / "exercises").glob("*.py"):
                shutil.copy(SOLUTIONS / path.name, path)
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcome[which] = dict(pool.map(_run_step, graders,
                                           [folder] * len(graders),
                                           [env] * len(graders)))
    failed = {i: p.stdout[-400:] + p.stderr[-400:]
              for i, p in outcome["answers"].items() if p.returncode != 0}
    assert not failed
    # an older command grader failed a step on any output to stderr
    assert not [i for i, p in outcome["answers"].items() if p.stderr.strip()]
    assert [i for i, p in outcome["stubs"].items() if p.returncode == 0] == []


# ------------------------------------------------------------------ leaks
def _copy(bundle, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle.bundle, target)
    return target


def _most_revealing_block() -> tuple[str, list[str]]:
    """(solution file, raw body lines) of the block with most revealing lines.

    Lines also in the public engine or the public tests do not reveal
    anything (see ``leaks.public_lines``), so a block made only of them
    cannot be "leaked"; the test plants the block that reveals the most.
    """
    blocks = leaks.solution_blocks(SOLUTIONS, leaks.public_lines())
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


def _scan(root):
    return leaks.scan_for_leaks(root)


def _kinds(found) -> set[str]:
    return {leak.kind for leak in found}


def test_planted_solution_block_in_notebook_is_caught(bundle, tmp_path):
    root = _copy(bundle, tmp_path)
    nb_path = root / "book" / "01_forward_pass.ipynb"
    nb = json.loads(nb_path.read_text())
    name, lines = _most_revealing_block()
    body = "\n".join(x.strip() for x in lines)
    nb["cells"].append({"cell_type": "markdown", "metadata": {},
                        "source": f"Hint:\n```\n{body}\n```\n"})
    nb_path.write_text(json.dumps(nb))
    found = _scan(root)
    # (a block may share lines with another one, which is then reported too)
    assert {(x.path, x.kind) for x in found} == {
        ("book/01_forward_pass.ipynb", "solution-line")}
    assert any(name in x.detail for x in found)


def test_one_distinctive_line_in_a_comment_is_caught(bundle, tmp_path):
    root = _copy(bundle, tmp_path)
    line = max(_solution_block_lines("ch02_loss.py"), key=len).strip()
    stub = root / "exercises" / "ch02_loss.py"
    stub.write_text(stub.read_text() + f"\n# {line}\n")
    found = _scan(root)
    assert [(x.path, x.kind) for x in found] == [("exercises/ch02_loss.py",
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
    found = _scan(root)
    assert _kinds(found) == {"bytecode", "notebook-output", "solutions-dir",
                             "hidden-test"}
    paths = {x.path for x in found if x.kind == "hidden-test"}
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
    out, removed = notebooks.strip_notebook(nb)
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
#: Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/
#: latest/specs/): the fields it documents, and the values of the visibilities.
GS_TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
          "test_name_format", "visibility", "stdout_visibility", "extra_data",
          "tests", "leaderboard"}
GS_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
           "output_format", "tags", "visibility", "extra_data"}
GS_VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_gradescope_results(data: dict) -> None:
    """Fail unless ``data`` is a results.json that Gradescope accepts."""
    assert isinstance(data, dict) and set(data) <= GS_TOP, set(data) - GS_TOP
    assert "score" in data or all("score" in t for t in data.get("tests", []))
    if "score" in data:
        assert _is_number(data["score"])
    if "execution_time" in data:
        assert _is_number(data["execution_time"])
    for key in ("visibility", "stdout_visibility"):
        if key in data:
            assert data[key] in GS_VISIBILITY, data[key]
    if "output" in data:
        assert isinstance(data["output"], str)
    assert isinstance(data.get("tests", []), list)
    for test in data.get("tests", []):
        assert set(test) <= GS_TEST, set(test) - GS_TEST
        for key in ("score", "max_score"):
            if key in test:
                assert _is_number(test[key]), (key, test[key])
        assert isinstance(test.get("name", ""), str)
        assert isinstance(test.get("output", ""), str)
        assert test.get("visibility", "visible") in GS_VISIBILITY
        assert test.get("status", "passed") in ("passed", "failed")
        if "score" in test and "max_score" in test:
            assert 0 <= test["score"] <= test["max_score"]


def python310():
    """A Python 3.10 interpreter on this machine (Gradescope's default), or None."""
    candidates = [os.environ.get("COURSE_TEST_PYTHON310", "")]
    candidates += sorted(str(p) for p in Path.home().glob(
        ".pyenv/versions/3.10*/bin/python3.10"))
    candidates.append(shutil.which("python3.10") or "")
    for exe in filter(None, candidates):
        try:
            out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30,
                                 env={**os.environ, "PYENV_VERSION": "3.10.13"})
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "(3, 10)":
            return exe
    return None


@pytest.fixture(scope="module")
def autograder(bundle, tmp_path_factory):
    """The Gradescope zip unpacked as Gradescope does, and set up with 3.10."""
    exe = python310()
    if exe is None:
        pytest.skip("no Python 3.10 on this machine (set COURSE_TEST_PYTHON310): "
                    "the Gradescope image test needs Gradescope's default python3")
    root = tmp_path_factory.mktemp("gs") / "autograder"
    for part in ("source", "submission", "results"):
        (root / part).mkdir(parents=True)
    with zipfile.ZipFile(bundle.gradescope) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile does not restore modes
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (root / "source" / info.filename).chmod(mode)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": exe,
           "PYENV_VERSION": "3.10.13"}
    env = {k: v for k, v in env.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root /
                          "source", env=env, capture_output=True, text=True,
                          timeout=1200, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, env


def _run_autograder(root, env, files):
    for old in (root / "submission").iterdir():
        old.unlink()
    (root / "results" / "results.json").unlink(missing_ok=True)
    for path in files:
        shutil.copy(path, root / "submission" / path.name)
    proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescope_zip_layout(bundle):
    with zipfile.ZipFile(bundle.gradescope) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "grade_submission.py", "config.json",
            "requirements.txt", "pyproject.toml", "tests/exercises/oracles.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(n.startswith("tests/exercises/hidden/test_ch01") for n in names)
    assert not any(n.startswith("tests/exercises/hidden/test_ch04") for n in names)
    assert not any("solutions" in n for n in names)


def test_gradescope_runs_as_on_gradescope_with_python310(autograder, manifest):
    root, env = autograder
    venv_python = root / "venv" / "bin" / "python"
    version = subprocess.run([str(venv_python), "-c", "import sys; "
                              "print(sys.version_info[:2])"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert version == "(3, 10)"
    chapters = ("ch01", "ch02", "ch03")
    total = sum(manifest["chapters"][ch]["points"] for ch in chapters)
    answers = _run_autograder(root, env, [SOLUTIONS / f"{m}.py" for m in (
        "ch01_forward_pass", "ch02_loss", "ch03_chain_rule")])
    check_gradescope_results(answers)
    assert answers["score"] == total, [(t["name"], t["output"]) for t in
                                       answers["tests"] if t["score"] < t["max_score"]]
    assert any(t["visibility"] == "after_published" for t in answers["tests"])
    stubs = _run_autograder(root, env,
                            sorted((REPO / "exercises").glob("ch0[123]*.py")))
    check_gradescope_results(stubs)
    assert stubs["score"] == 0 and len(stubs["tests"]) == len(answers["tests"])
    only_ch01 = _run_autograder(root, env, [SOLUTIONS / "ch01_forward_pass.py"])
    by_chapter = {}
    for t in only_ch01["tests"]:
        by_chapter[t["number"]] = by_chapter.get(t["number"], 0) + t["score"]
    lost = [(t["name"], t["output"]) for t in only_ch01["tests"]
            if t["number"] == "ch01" and t["score"] < t["max_score"]]
    assert by_chapter["ch01"] == manifest["chapters"]["ch01"]["points"], lost
    assert by_chapter["ch02"] == 0  # not submitted
    empty = _run_autograder(root, env, [])
    check_gradescope_results(empty)
    assert empty["score"] == 0 and "No exercise file" in empty["output"]


def test_student_bundle_grades_with_python310(autograder, bundle, manifest, tmp_path):
    """The bundle's own tests and data, run by the 3.10 interpreter."""
    root, env = autograder
    copy = tmp_path / "bundle"
    shutil.copytree(bundle.bundle, copy)
    for path in (copy / "exercises").glob("*.py"):
        shutil.copy(SOLUTIONS / path.name, path)
    out = tmp_path / "results.json"
    proc = subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "course_lib",
                           "grade", "--json", str(out)], cwd=copy, env={
                               "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["score"] == _visible_points(manifest, ("ch01", "ch02", "ch03"))


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
