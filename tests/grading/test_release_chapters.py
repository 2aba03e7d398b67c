"""Every chapter can be released alone, and all of them together; no bundle
holds an answer, a hidden test or an oracle (``make test`` fails otherwise).

Each bundle is built from the course as it is (chapter texts, stubs, public
tests and their data, ``course_lib``) and read in full by the leak scan; the
release of all chapters also grades a copy of itself (stubs, and the
reference answers for every visible point) before it is accepted.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from course_lib.grading.assign import leaks, release
from course_lib.grading.core.chapters import parse_chapters

#: Oracle code rides along while a chapter's public tests pass it functions.
ORACLES = "tests/exercises/oracles.py"
CHAPTERS = parse_chapters("all")
FIRST_SEVEN = parse_chapters("1-7")  # the multilayer-perceptron part, one term


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_is_releasable_alone(chapter, tmp_path):
    assert parse_chapters(str(int(chapter[2:]))) == [chapter]  # by its number
    result = release.build_release(chapter, tmp_path / chapter, gradescope=False,
                                   smoke_test=False)
    assert result.ok, "\n".join(map(str, result.leaks))
    root = result.bundle
    assert [x for x in leaks.scan_for_leaks(root) if x.path != ORACLES] == []
    stubs = sorted(p.name for p in (root / "exercises").glob("*.py"))
    assert len(stubs) == 1 and stubs[0].startswith(chapter)
    data = json.loads((root / "tests" / "exercises" / "expected.json").read_text())
    for key, entry in data.items():  # this chapter's values only
        if key.startswith("unreplayable/"):
            assert key.split("/")[1] == chapter
        elif key.startswith("oracles/"):
            assert entry["inputs"] == "constant" or chapter in entry["chapters"]
        else:
            assert key.split("/")[0] == chapter, key
    oracles = (root / "tests" / "exercises" / "oracles.py").read_text()
    needs_code = [k for k in data if k.startswith("unreplayable/")]
    # values, no code, unless the chapter's tests still pass functions to oracles
    assert needs_code or ("def " not in oracles and "lambda" not in oracles)


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    out = tmp_path_factory.mktemp("all") / "term"
    result = release.build_release("1-7", out)  # with its smoke test
    assert result.ok, "\n".join(map(str, result.leaks))
    return result


def test_all_chapters_together(everything):
    root = everything.bundle
    assert [x for x in leaks.scan_for_leaks(root) if x.path != ORACLES] == []
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
