"""Every chapter can be released alone, and all of them together; no bundle
holds an answer, a hidden test or an oracle (``make test`` fails otherwise).

Each bundle is built from the course as it is (chapter texts, stubs, public
tests and their data, ``course_lib``) and read in full by the leak scan; the
release of all chapters also grades a copy of itself (stubs, and the
reference answers for every visible point) before it is accepted.
"""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from course_lib import cli
from course_lib.grading.assign import checks, leaks, release
from course_lib.grading.core import markers
from course_lib.grading.core.chapters import parse_chapters

CHAPTERS = parse_chapters("all")
FIRST_SEVEN = parse_chapters("1-7")  # the multilayer-perceptron part, one term


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_is_releasable_alone(chapter, tmp_path):
    assert parse_chapters(str(int(chapter[2:]))) == [chapter]  # by its number
    result = release.build_release(chapter, tmp_path / chapter, gradescope=False,
                                   smoke_test=False)
    assert result.ok, "\n".join(map(str, result.leaks))
    root = result.bundle
    assert leaks.scan_for_leaks(root) == []
    stubs = sorted(p.name for p in (root / "exercises").glob("*.py"))
    assert len(stubs) == 1 and stubs[0].startswith(chapter)
    data = json.loads((root / "tests" / "exercises" / "expected.json").read_text())
    for key, entry in data.items():  # this chapter's values only
        assert not key.startswith("unreplayable/"), key
        if key.startswith("oracles/"):
            assert entry["inputs"] == "constant" or chapter in entry["chapters"]
        else:
            assert key.split("/")[0] == chapter, key
    oracles = (root / "tests" / "exercises" / "oracles.py").read_text()
    assert "def " not in oracles and "lambda" not in oracles  # values, no code


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    out = tmp_path_factory.mktemp("all") / "term"
    result = release.build_release("1-7", out)  # with its smoke test
    assert result.ok, "\n".join(map(str, result.leaks))
    return result


def test_all_chapters_together(everything):
    root = everything.bundle
    assert leaks.scan_for_leaks(root) == []
    assert len(list((root / "exercises").glob("ch*.py"))) == len(FIRST_SEVEN)
    assert len(list((root / "book").glob("*.ipynb"))) == len(FIRST_SEVEN)
    with zipfile.ZipFile(everything.gradescope) as zf:
        hidden = {n for n in zf.namelist() if n.startswith("tests/exercises/hidden/")}
    assert {n.split("/")[-1][5:9] for n in hidden if "test_ch" in n} == set(
        FIRST_SEVEN)


def test_a_chapter_text_showing_an_answer_is_refused(tmp_path):
    line = max(leaks.solution_blocks(release.repo_root() / "solutions",
                                     leaks.public_lines())[0].lines, key=len)

    def show_answer(stage):
        nb_path = next((stage / "book").glob("*.ipynb"))
        nb = json.loads(nb_path.read_text())
        nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                            "execution_count": None, "source": line})
        nb_path.write_text(json.dumps(nb))

    result = release.build_release("1", tmp_path / "w", gradescope=False,
                                   smoke_test=False, _tamper=show_answer)
    assert not result.ok
    assert [x.kind for x in result.leaks] == ["solution-line"]


#: A submission that copies chapter 9's answers from an engine's source: the
#: four rules of its Value into the learner's Value, and its order.
FROM_THE_ENGINE = '''
import ast as _ast
import textwrap as _textwrap
from pathlib import Path as _Path

_ENGINE = _Path(@ENGINE@) / "autodiff"
_text = (_ENGINE / "value.py").read_text()
for _node in _ast.parse(_text).body:
    if isinstance(_node, _ast.ClassDef) and _node.name == "Value":
        for _fn in _node.body:
            if getattr(_fn, "name", "") in ("__pow__", "tanh", "log", "relu"):
                _ns = {"Value": Value, "math": math}
                exec(_textwrap.dedent(_ast.get_source_segment(_text, _fn)), _ns)
                setattr(Value, _fn.name, _ns[_fn.name])
_ns = {"__name__": "copied_graph"}
exec((_ENGINE / "graph.py").read_text().replace("from __future__ import annotations",
                                                 ""), _ns)
topological_order = _ns["topological_order"]
'''
#: chapter 9's exercises that the engine could answer
ENGINE_SHAPED = {"Value_pow", "Value_tanh", "Value_log", "Value_relu",
                 "topological_order"}


def _passed_when_copied(bundle, engine, folder):
    """Per exercise, whether the FROM_THE_ENGINE submission copying from
    ``engine`` (a course_lib folder) passes every test of it."""
    from course_lib.grading import grade

    folder.mkdir()
    stub = (bundle / "exercises" / "ch09_autodiff.py").read_text()
    copied = FROM_THE_ENGINE.replace("@ENGINE@", repr(str(engine)))
    (folder / "ch09_autodiff.py").write_text(stub + copied)
    out = {}
    for t in grade(folder, chapters=["ch09"]).tests:
        out[t.exercise] = out.get(t.exercise, True) and t.passed
    return out


def test_chapter_9_bundle_engine_answers_none_of_its_exercises(tmp_path):
    """The leak scan excuses lines the engine shares with an answer (they are
    public); chapter 9's engine must therefore hold none of its answers at
    all. In a student bundle the parts of ``Value`` the learner writes are
    stripped (engine_parts), and its order is not the exercise's algorithm
    (it sorts by creation stamps, which the learner's Value does not have):
    a submission that copies them from the bundle's engine passes none of
    those exercises, while copying from the repository's full engine passes
    the four rules (so this check can tell the two apart)."""
    result = release.build_release("9", tmp_path / "ch09", gradescope=False,
                                   smoke_test=False)
    assert result.ok, "\n".join(map(str, result.leaks))
    engine = result.bundle / "course_lib"
    # the scan's rule (a distinctive line, or half a block) on the bundle's
    # engine, with no line excused as public
    blocks = [b for b in leaks.solution_blocks(release.repo_root() / "solutions")
              if "/ch09_" in b.where]
    shipped = {leaks.normalise(x) for p in engine.rglob("*.py")
               for x in p.read_text().splitlines()}
    found = {}
    for b in blocks:
        hits = [x for x in b.lines if x in shipped]
        if any(len(x) >= leaks.DISTINCTIVE_CHARS for x in hits) or len(hits) >= max(
                2, (b.size + 1) // 2):
            found[b.where] = hits
    assert len(blocks) == 7 and found == {}
    in_bundle = _passed_when_copied(result.bundle, engine, tmp_path / "b")
    assert {e for e in ENGINE_SHAPED if in_bundle[e]} == set(), in_bundle
    in_repo = _passed_when_copied(result.bundle, release.repo_root() / "course_lib",
                                  tmp_path / "r")
    assert {e for e in ENGINE_SHAPED if in_repo[e]} == ENGINE_SHAPED - {
        "topological_order"}, in_repo
    # and the chapter's page still runs on the bundle's engine
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env.update(PYTHONPATH=str(result.bundle), PYTHONDONTWRITEBYTECODE="1")
    page = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "book/09_autodiff.ipynb"], cwd=result.bundle, env=env, capture_output=True,
        text=True, timeout=300, check=False)
    assert page.returncode == 0, page.stdout[-3000:]


# ------------------------------------------------------------------ no oracle code
PASSES_A_FUNCTION = '''
import numpy as np
import pytest
from oracles import fd


@pytest.mark.points(1)
def test_MSE_grad__asks_fd_with_a_function():
    grad = fd(lambda x: float(np.sum(x * x)), np.array([1.0, -2.0]))
    assert np.allclose(grad, [2.0, -4.0])
'''


def test_a_public_test_passing_a_function_to_an_oracle_is_refused(
        tmp_path, monkeypatch, capsys):
    """A public test that passes ``fd`` a function cannot be replayed from
    data; the release refuses rather than ship ``oracles.py``'s code."""
    real = release.repo_root()
    fake = tmp_path / "course"  # the course with one such public test
    tests = fake / "tests" / "exercises"
    tests.mkdir(parents=True)
    for name in ("conftest.py", "expected.py", "oracles.py", "engine_io.py"):
        shutil.copy(real / "tests" / "exercises" / name, tests / name)
    (tests / "test_ch02_loss.py").write_text(PASSES_A_FUNCTION)
    (fake / "solutions").symlink_to(real / "solutions")
    # the release records the expected values from these tests
    monkeypatch.setattr(checks, "repo_root", lambda: fake)
    out = tmp_path / "w"
    code = cli.main(["release", "--chapters", "2", "--out", str(out),
                     "--no-gradescope", "--no-smoke-test"])
    err = capsys.readouterr().err
    assert code == 1 and "REFUSED" in err
    assert "ch02" in err and "oracle fd" in err and "expected(" in err
    assert not out.exists() and not (tmp_path / "w.zip").exists()
    rejected = tmp_path / "w.rejected"
    assert "oracle fd" in (rejected / "LEAKS.txt").read_text()
    # and the oracles' code was not copied into the refused folder either
    replay = (rejected / "tests" / "exercises" / "oracles.py").read_text()
    assert "def " not in replay and "lambda" not in replay


# ------------------------------------------------------------------ across chapters
def _stable_sigmoid_helper() -> str:
    """Chapter 1's answer (the stable sigmoid, exercise 1.1) as a given helper
    of another chapter: its block's body under a ``def`` of its own."""
    text = (release.repo_root() / "solutions" / "ch01_forward_pass.py").read_text()
    block = markers.parse_blocks(text)[0]  # exercise 1.1
    body = [line[len(block.indent):] for line in markers.block_lines(text, block)]
    assert any("np.exp(-np.abs(z))" in x for x in body), body
    return "\n\ndef _stable_sigmoid(z):\n" + "".join(f"    {x}\n" for x in body)


def test_another_chapters_answer_given_in_a_stub_is_a_leak(tmp_path):
    """Chapter 3's solution file gives chapter 1's answer as a helper outside
    its blocks: the generated chapter 3 stub ships it, and the scan, which
    excuses a line only in its own chapter's stub, reports chapter 1's block."""
    sols = tmp_path / "solutions"
    shutil.copytree(release.repo_root() / "solutions", sols)
    ch03 = sols / "ch03_chain_rule.py"
    ch03.write_text(ch03.read_text() + _stable_sigmoid_helper())
    bundle = tmp_path / "bundle" / "exercises"
    bundle.mkdir(parents=True)
    (bundle / ch03.name).write_text(release.generate_stub(ch03))
    assert "np.exp(-np.abs(z))" in (bundle / ch03.name).read_text()
    found = leaks.scan_for_leaks(bundle.parent, solutions_dir=sols)
    assert {(x.path, x.kind) for x in found} == {("exercises/ch03_chain_rule.py",
                                                  "solution-line")}
    assert any("solutions/ch01_forward_pass.py:" in x.detail for x in found)


def test_a_ch01_answer_planted_in_the_ch03_stub_is_refused(tmp_path):
    def plant(stage):
        stub = stage / "exercises" / "ch03_chain_rule.py"
        stub.write_text(stub.read_text() + _stable_sigmoid_helper())

    result = release.build_release("3", tmp_path / "w", gradescope=False,
                                   smoke_test=False, _tamper=plant)
    assert not result.ok and result.zip is None
    assert {(x.path, x.kind) for x in result.leaks} == {
        ("exercises/ch03_chain_rule.py", "solution-line")}
    assert any("solutions/ch01_forward_pass.py:" in x.detail for x in result.leaks)
    assert result.bundle.name == "w.rejected"


def test_the_reviewed_lines_are_answers_another_chapter_really_ships():
    """Each reviewed exception is an answer line of one chapter that another
    chapter's stub or page holds (so the list cannot excuse lines nobody
    ships), and no more than one line of any block is excused."""
    root = release.repo_root()
    parsed = {p.name: leaks._blocks_of(p) for p in (root / "solutions").glob("*.py")}
    pages = {p.name: {leaks.normalise(x) for x in
                      leaks._notebook_text(p, [], p.name).splitlines()}
             for p in (root / "book").glob("*.ipynb")}
    for line in leaks.REVIEWED:
        owners = {n for n, (raw, _) in parsed.items()
                  if any(line in lines for _, lines in raw)}
        givers = {n for n, (_, outside) in parsed.items() if line in outside}
        givers |= {n for n, text in pages.items() if line in text}
        assert owners and givers - owners, line
    for raw, _ in parsed.values():
        for where, lines in raw:
            assert len(set(lines) & set(leaks.REVIEWED)) <= 1, where


def test_a_chapter_on_the_learners_engine_is_checked_alone(tmp_path):
    """Chapter 12's stub imports the learner's chapter 5 file, which a bundle of
    chapter 12 alone does not hold: the smoke test grades the reference answers
    with the earlier chapters' references beside them (in its throw-away copy
    only), and the bundle itself still holds no other chapter's file."""
    result = release.build_release("12", tmp_path / "ch12", gradescope=False)
    assert result.ok, "\n".join(map(str, result.leaks))
    assert sorted(p.name for p in (result.bundle / "exercises").glob("*.py")) == [
        "ch12_autoencoders.py"]


def test_chapter_10_page_code_does_not_answer_its_exercises(tmp_path):
    """Chapter 10's page shows the convolution as loops (forward and backward,
    quoted from course_lib/conv_reference.py); its exercises ask for the next
    case, the dilated convolution. The quoted functions, submitted as the
    answers, fail every dilation test."""
    import ast

    from course_lib.grading import grade

    page = (release.repo_root() / "book" / "10_convolution.ipynb").read_text()
    quoted = {"conv2d_forward_loops": "conv2d_forward",
              "conv2d_backward_loops": "conv2d_backward"}
    for name in quoted:
        assert f"pyobject: {name}" in page, name
    src = (release.repo_root() / "course_lib" / "conv_reference.py").read_text()
    parts = [ast.get_source_segment(src, n) for n in ast.parse(src).body
             if isinstance(n, ast.FunctionDef) and n.name in {*quoted, "output_size"}]
    answer = (release.repo_root() / "solutions" / "ch10_convolution.py").read_text()
    copied = "\n\n" + "\n\n\n".join(parts) + "\n" + "".join(
        f"{ex} = {name}\n" for name, ex in quoted.items())
    (tmp_path / "ch10_convolution.py").write_text(answer + copied)
    tests = [t for t in grade(tmp_path, chapters=["ch10"], include_hidden=True).tests
             if "dilation" in t.nodeid]
    assert {t.exercise for t in tests} == set(quoted.values())
    assert not any(t.passed for t in tests), [t.nodeid for t in tests if t.passed]


def test_no_public_test_holds_an_answer():
    """The public tests ship, and the scan excuses their lines as public: so
    none may hold a line of an answer that the engine does not already have
    (by the scan's rule: one distinctive line, or half of a block)."""
    root = release.repo_root()
    engine = {leaks.normalise(x) for p in (root / "course_lib").rglob("*.py")
              if "grading" not in p.parts for x in p.read_text().splitlines()}
    blocks = leaks.solution_blocks(root / "solutions", engine)
    found = set()
    for path in sorted((root / "tests" / "exercises").glob("test_ch*.py")):
        found |= {(path.name, x.detail) for x in _block_hits(path, blocks)}
    assert found == set()


def _block_hits(path, blocks):
    out = []
    leaks._scan_text(path.read_text(), path.name, blocks, set(), {}, out)
    return out
