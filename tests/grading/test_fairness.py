"""The graded tests are fair: they pass the reference solutions, fail the stubs,
and catch common mistakes in the places where those mistakes are.

(a) ``solutions/`` gets full marks in every chapter, hidden tests included.
(b) The stubs generated from the solutions get 0 points, every test saying the
    exercise is not attempted yet.
(c) Every mutant in ``tests/mutants/chNN_<mistake>.py`` (only the wrong
    function or functions; for a method, a subclass of the same name that
    overrides it, ``class Dense(Dense): def backward(...)``) is appended to a
    copy of the chapter's solution (later definitions override earlier ones).
    The chapter must then lose points in each mutated exercise (``Dense_backward``
    for a method), and only there (or in an exercise whose reference solution
    calls the mutated function); every failing test must give the student a
    reason, never a grader error.
(d) Trivial answers earn nothing: every solution block replaced by
    ``return <its first argument>`` (the input unchanged), or by an array of
    zeros of that argument's shape, gets 0 points in every chapter of the
    engine track.

Each grading run covers one chapter only. The mutants are graded two at a time
(the machine has two cores) by one module-wide fixture.
"""

from __future__ import annotations

import ast
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.assign.stubs import generate_dir

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
MUTANTS = sorted((ROOT / "tests" / "mutants").glob("ch[0-9][0-9]_*.py"))
PARALLEL = 2

#: exercise -> exercises whose reference solution calls it (they may fail too)
CALLERS = {
    "ch01": {"LeakyReLU_forward": {"forward"}, "Dense_forward": {"forward"},
             "Dense_init": {"Dense_forward", "forward"}},
    "ch02": {"softmax": {"SoftmaxCrossEntropy_grad"}},
    "ch03": {"Tanh_backward": {"backward"}, "Dense_backward": {"backward"}},
    "ch04": {f"NeuralNetwork_{name}": {"train_xor"} for name in (
        "init", "feedforward", "backpropagate", "train", "predict")},
    "ch06": {"clip_by_global_norm": {"train"}, "Dropout_forward": {"evaluate"}},
    "ch11": {"rnn_step_backward": {"rnn_backward"}},
    "ch08": {"batch_norm": {"BatchNorm_forward"},
             "batch_norm_backward": {"BatchNorm_backward"}},
    "ch09": {"Value_tanh": {"MLP_call", "train_xor"},
             "Value_pow": {"train_xor"},
             "topological_order": {"MLP_call", "train_xor"},
             "MLP_call": {"train_xor"}},
    "ch12": {"reconstruction_loss_grad": {"train_autoencoder"}},
}
# the tests of Sequential._flat and SGD.step step a learner's model with both
CALLERS["ch05"] = {"Sequential_flat": {"SGD_step", "train"},
                   "SGD_step": {"Sequential_flat", "train"},
                   "iterate_minibatches": {"train"}}
CALLERS["ch04"]["NeuralNetwork_feedforward"] |= {
    "NeuralNetwork_backpropagate", "NeuralNetwork_train", "NeuralNetwork_predict"}
CALLERS["ch04"]["NeuralNetwork_backpropagate"] |= {"NeuralNetwork_train"}
CALLERS["ch04"]["NeuralNetwork_init"] |= {
    "NeuralNetwork_feedforward", "NeuralNetwork_backpropagate", "NeuralNetwork_train",
    "NeuralNetwork_predict"}
#: chapters whose exercises are the learner's engine (proof (d))
ENGINE_TRACK = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07",
                "ch08", "ch09", "ch10", "ch11", "ch12")  # 8-12 extend the same engine


def _mutated_functions(path: Path) -> set[str]:
    """Exercise names a mutant changes: its functions, and ``Class_method`` for the
    methods of a class it redefines (``class BatchNorm(BatchNorm): def forward``
    is exercise ``BatchNorm_forward``; ``__call__`` gives ``MLP_call``)."""
    tree = ast.parse(path.read_text())
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}_{m.name.strip('_')}" for m in node.body
                         if isinstance(m, ast.FunctionDef))
    return names


def _chapter_of(path: Path) -> str:
    return path.name[:4]


def _failures(report) -> list:
    return [t for t in report.tests if not t.passed]


def _describe(tests) -> str:
    return "\n".join(f"  {t.chapter} {t.exercise} :: {t.what} [{t.kind}] {t.reason}"
                     for t in tests)


def _grade_mutant(mutant: Path, tmp: Path):
    chapter = _chapter_of(mutant)
    module = CHAPTERS[chapter][0]
    target = tmp / mutant.stem
    target.mkdir()
    shutil.copy(SOLUTIONS / f"{module}.py", target / f"{module}.py")
    with (target / f"{module}.py").open("a") as f:
        f.write(f"\n\n# ---- mutant {mutant.name} ----\n")
        f.write(mutant.read_text())
    return grade(target, chapters=[chapter], include_hidden=True)


@pytest.fixture(scope="module")
def mutant_reports(request, tmp_path_factory):
    """Reports of the mutants selected in this session, graded two at a time."""
    selected = [
        item.callspec.params["mutant"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_mutant_loses_points_where_the_"
        "mistake_is"
    ]
    # longest chapters first, so that the two workers finish together
    selected.sort(key=lambda m: m.name[:4], reverse=True)
    tmp = tmp_path_factory.mktemp("mutants")
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {m.name: pool.submit(_grade_mutant, m, tmp) for m in selected}
        return {name: fut.result() for name, fut in futures.items()}


def test_solutions_get_full_marks():
    report = grade(SOLUTIONS, include_hidden=True)
    assert not report.errors, report.errors
    assert {t.chapter for t in report.tests} == set(CHAPTERS)
    assert report.possible > 0
    failing = _failures(report)
    assert not failing, "reference solutions fail graded tests:\n" + _describe(failing)
    for chapter, (earned, possible) in report.chapter_scores().items():
        assert earned == possible > 0, chapter
    assert any(t.hidden for t in report.tests), "no hidden test was run"


def test_stubs_get_zero_and_say_not_attempted(tmp_path):
    generate_dir(SOLUTIONS, tmp_path)
    report = grade(tmp_path, include_hidden=True)
    assert not report.errors, report.errors
    assert report.possible > 0
    assert report.earned == 0, "stubs earn points:\n" + _describe(
        [t for t in report.tests if t.passed])
    wrong = [t for t in report.tests if t.kind != "not_attempted"
             or "not attempted" not in t.reason]
    assert not wrong, "stub failures not reported as not attempted:\n" + _describe(
        wrong)


def _trivial_solution(text: str, kind: str) -> str:
    """The solution with every block answering its first argument, or zeros."""
    from course_lib.grading.assign.stubs import parse_blocks

    tree = ast.parse(text)
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    lines = text.splitlines()
    out, pos = [], 0
    for blk in parse_blocks(text):
        fn = max((f for f in funcs if f.lineno < blk.begin <= f.end_lineno),
                 key=lambda f: f.lineno)
        args = [a.arg for a in fn.args.args if a.arg != "self"]
        first = args[0] if args else "None"
        value = first if kind == "input" else (
            f"np.zeros(np.shape({first}))")
        out += lines[pos:blk.begin - 1]
        out.append(f"{blk.indent}return {value}")
        pos = blk.end
    return "\n".join(out + lines[pos:]) + "\n"


@pytest.mark.parametrize("kind", ["input", "zeros"])
def test_trivial_answers_earn_nothing(kind, tmp_path):
    for path in SOLUTIONS.glob("ch*.py"):
        text = path.read_text()
        if path.name[:4] in ENGINE_TRACK:
            text = _trivial_solution(text, kind)
        (tmp_path / path.name).write_text(text)
    report = grade(tmp_path, chapters=list(ENGINE_TRACK), include_hidden=True)
    assert not report.errors, report.errors
    earned = [t for t in report.tests if t.passed]
    assert not earned, f"answers returning {kind} earn points:\n" + _describe(earned)


def test_every_chapter_has_at_least_four_mutants():
    counts = {ch: 0 for ch in CHAPTERS}
    for m in MUTANTS:
        counts[_chapter_of(m)] += 1
    assert all(n >= 4 for n in counts.values()), counts


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.stem for m in MUTANTS])
def test_mutant_loses_points_where_the_mistake_is(mutant, mutant_reports):
    report = mutant_reports[mutant.name]
    chapter = _chapter_of(mutant)
    assert not report.errors, report.errors
    mutated = _mutated_functions(mutant)
    assert mutated, f"{mutant.name} defines no function"
    failing = _failures(report)
    lost = {t.exercise for t in failing}
    missed = mutated - lost
    assert not missed, (
        f"{mutant.name}: no graded test caught the mistake in {sorted(missed)} "
        f"(score {report.earned:g}/{report.possible:g})")
    allowed = set(mutated)
    for name in mutated:
        allowed |= CALLERS.get(chapter, {}).get(name, set())
    elsewhere = [t for t in failing if t.exercise not in allowed]
    assert not elsewhere, (f"{mutant.name} made tests of other exercises fail:\n"
                           + _describe(elsewhere))
    unexplained = [t for t in failing if t.kind in ("test_error", "failed", "error")
                   or not t.reason.strip()]
    assert not unexplained, (f"{mutant.name}: failures without a student-facing "
                             "reason:\n" + _describe(unexplained))
