"""The shape every chapter promises: objectives, summary, hidden answers, exercises.

These checks read the notebooks' sources, so they run without building the book. The
executed content (figures, asserts) is checked by nbval and by the browser test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
TOC = (ROOT / "_toc.yml").read_text()


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def markdown(path: Path) -> str:
    return "\n".join(
        "".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown"
    )


def headings(path: Path) -> list[str]:
    return [
        m.group(1).strip().lower()
        for m in re.finditer(r"^#+\s+(.*)$", markdown(path), re.M)
    ]


def test_chapters_in_the_toc_in_order():
    names = [p.stem for p in CHAPTERS]
    assert names[:9] == [
        "01_forward_pass",
        "02_loss",
        "03_chain_rule",
        "04_xor",
        "05_hyperparameters",
        "06_pitfalls",
        "07_digits",
        "08_batch_norm",
        "09_autodiff",
    ]
    assert {"10_convolution", "11_recurrent", "12_autoencoders"} <= set(names)
    positions = []
    for name in names:
        assert f"book/{name}" in TOC, f"{name} is not listed in _toc.yml"
        positions.append(TOC.index(f"book/{name}"))
    assert positions == sorted(positions), "chapters out of order in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} ran"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_objectives_summary_quiz_exercises_in_order(path):
    heads = headings(path)
    text = markdown(path).lower()
    assert "objectives" in text, f"{path.name}: no learning objectives"
    order = []
    for key in ("summary", "quiz", "exercises"):
        found = [i for i, h in enumerate(heads) if key in h]
        assert found, f"{path.name}: no '{key}' section heading"
        order.append(found[-1])
    assert order == sorted(order), (
        f"{path.name}: summary -> quiz -> exercises out of order"
    )
    assert text.index("objectives") < text.index("summary")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_quiz_answers_hidden(path):
    text = markdown(path)
    quiz = text[text.lower().rindex("quiz") :]
    hidden = len(
        re.findall(r":class:\s*dropdown|```\{dropdown\}|:::\{dropdown\}", quiz)
    )
    assert 3 <= hidden, f"{path.name}: quiz needs 3-5 questions with hidden answers"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_point_at_module_and_grader(path):
    number = path.stem[:2]
    text = markdown(path)
    exercises = text[text.lower().rindex("exercises") :]
    assert re.search(r"\{exercise\}", exercises), (
        f"{path.name}: no sphinx-exercise block"
    )
    assert f"exercises/ch{number}_" in exercises
    assert f"course grade ch{number}" in exercises
    assert f"check('ch{number}')" in exercises or f'check("ch{number}")' in exercises


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_pinned_with_asserts(path):
    asserts = sum(
        "".join(c["source"]).count("assert ")
        for c in cells(path)
        if c["cell_type"] == "code"
    )
    assert asserts >= 3, f"{path.name}: only {asserts} asserts pin the text's claims"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_plotting_boilerplate_hidden(path):
    """A cell with three or more lines of matplotlib calls hides its input."""
    shown = []
    for c in cells(path):
        if c["cell_type"] != "code":
            continue
        source = "".join(c["source"])
        lines = [
            ln for ln in source.splitlines() if re.search(r"\b(plt|axes?|fig)\.", ln)
        ]
        tags = set(c["metadata"].get("tags", []))
        if len(lines) >= 3 and not {"hide-input", "remove-input", "hide-cell"} & tags:
            shown.append(source[:60])
    assert not shown, f"{path.name}: plotting boilerplate shown: {shown[:3]}"


def test_intro_covers_every_reader():
    text = (BOOK / "intro.md").read_text().lower()
    for word in (
        "student",
        "self-learner",
        "instructor",
        "make book",
        "make test",
        "course grade",
    ):
        assert word in text, f"intro.md does not mention {word!r}"


#: chapters whose exercises follow the N.k numbering (the engine track; chapters 8-12
#: join by being listed here)
NUMBERED = [p for p in CHAPTERS if int(p.stem[:2]) <= 7]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_exercises_numbered_like_the_files(path):
    """Exercise N.k of the book is the k-th solution block of chapter N's file.

    sphinx-exercise numbers exercises across the whole course, so every block is
    ``:nonumber:`` and its title starts with ``N.k`` (or ``N.k and N.k+1`` for one
    exercise over two blocks); written exercises say "not graded".
    """
    from course_lib.grading.assign.stubs import parse_blocks

    n = int(path.stem[:2])
    solution = next((ROOT / "solutions").glob(f"ch{n:02d}_*.py"))
    blocks = len(parse_blocks(solution.read_text(), solution.name))
    lines = markdown(path).splitlines()
    titles, options = [], []
    for j, line in enumerate(lines):
        m = re.match(r"^(?::{3,}|`{3,})\{exercise\}\s*(.*)$", line)
        if m:
            titles.append(m.group(1))
            opts = []
            for nxt in lines[j + 1:]:
                if not nxt.startswith(":"):
                    break
                opts.append(nxt.strip())
            options.append(opts)
    assert titles, f"{path.name}: no exercises"
    lead = r"(\d+\.\d+)(?: and (\d+\.\d+))?\s"
    numbers = [re.match(lead, t + " ") for t in titles]
    assert all(numbers), f"{path.name}: exercise titles must start with N.k: {titles}"
    graded = [m.groups() for t, m in zip(titles, numbers) if "not graded" not in t]
    listed = [x for pair in graded for x in pair if x]
    assert listed == [f"{n}.{k}" for k in range(1, blocks + 1)], (
        f"{path.name}: exercises {listed} vs {blocks} blocks in {solution.name}")
    for title, opts in zip(titles, options):
        assert ":nonumber:" in opts, f"{path.name}: {title} needs :nonumber:"
