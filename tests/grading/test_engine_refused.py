"""Graded code that imports course_lib's engine is refused (issue 12).

Exercise code uses numpy only. In the worker, every way of reaching the engine
(every part of ``course_lib`` but ``course_lib.grading``) fails with one
student-facing message saying what is refused and why, while
``course_lib.grading`` (``check``) and the learner's own chapter files stay
importable; the worker never loads the engine itself. The refusal is on by
default (``remote.REFUSE_ENGINE``).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.checking import remote
from course_lib.grading.checking.remote import ImportFailed, StudentError, StudentModule

REPO = Path(__file__).resolve().parents[2]
WORDS = "graded code must not import course_lib's engine"

USES_ENGINE = '''
import importlib
import importlib.util
import sys


def plain_import():
    import course_lib
    return course_lib.Dense


def from_import():
    from course_lib import Dense
    return Dense


def submodule():
    import course_lib.layers
    return 1


def through_importlib():
    return importlib.import_module("course_lib.layers").Dense


def through_sys_modules():
    return sys.modules["course_lib"].Sequential


def datasets_helper():
    from course_lib.datasets import one_hot  # noqa: F401  (chapter 7 asks for it)
    return 1


def engine_file_by_path():
    root = importlib.util.find_spec("course_lib.grading").submodule_search_locations[0]
    path = root.rsplit("grading", 1)[0] + "layers.py"
    spec = importlib.util.spec_from_file_location("course_lib.layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return 1


def grading_helpers():
    from course_lib.grading import CHAPTERS, check
    import course_lib.grading
    from course_lib import grading
    return [callable(check), sorted(CHAPTERS) == sorted(grading.CHAPTERS),
            course_lib.grading is grading]


def engine_in_memory():
    return sorted(m for m in sys.modules if m.startswith("course_lib")
                  and not m.startswith("course_lib.grading") and m != "course_lib")


def numpy_works(x):
    import numpy as np
    return float(np.tanh(x))
'''


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engine")
    (folder / "uses_engine.py").write_text(USES_ENGINE)
    mod = StudentModule(folder, "uses_engine", timeout=10, refuse_engine=True)
    yield mod
    mod.close()


@pytest.mark.parametrize("fn", ["plain_import", "from_import", "submodule",
                                "through_importlib", "through_sys_modules",
                                "engine_file_by_path", "datasets_helper"])
def test_every_way_to_the_engine_is_refused_with_one_message(student, fn):
    with pytest.raises(StudentError) as info:
        getattr(student, fn)()
    assert info.value.is_a("ImportError"), info.value.reason
    assert WORDS in info.value.reason
    # what is refused, and what the learner may use instead
    assert "course_lib." in info.value.reason or "course_lib is refused" in \
        info.value.reason
    assert "your own chapter files" in info.value.reason


def test_the_refusal_is_on_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_REFUSE_ENGINE", raising=False)
    assert remote.REFUSE_ENGINE is True
    (tmp_path / "uses_engine.py").write_text(USES_ENGINE)
    with StudentModule(tmp_path, "uses_engine", timeout=10) as mod:
        with pytest.raises(StudentError) as info:
            mod.submodule()
        assert WORDS in info.value.reason
        assert "course_lib.layers is refused" in info.value.reason


def test_the_learners_own_chapter_files_stay_importable(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_REFUSE_ENGINE", raising=False)
    for ch in ("ch01", "ch02", "ch03"):
        name = f"{CHAPTERS[ch][0]}.py"
        shutil.copy(REPO / "solutions" / name, tmp_path / name)
    with StudentModule(tmp_path, CHAPTERS["ch03"][0], timeout=10) as mod:
        layer = mod.Dense(2, 3, seed=0)  # chapter 3's Dense subclasses chapter 1's
        assert layer.call("forward", [[1.0, 2.0]]).value.shape == (1, 3)


def test_the_grading_helpers_stay_importable_and_numpy_works(student):
    assert student.grading_helpers() == [True, True, True]
    assert student.numpy_works(0.0) == 0.0
    assert student.engine_in_memory() == []


def test_an_engine_import_at_the_top_of_the_file_fails_the_import(tmp_path):
    (tmp_path / "top.py").write_text("from course_lib import Dense\n\n"
                                     "def f():\n    return 1\n")
    with StudentModule(tmp_path, "top", timeout=10, refuse_engine=True) as mod:
        with pytest.raises(ImportFailed) as info:
            mod.f()
    assert WORDS in info.value.reason and "line 1" in info.value.reason


def test_without_the_guard_the_engine_is_there(tmp_path):
    (tmp_path / "free.py").write_text(USES_ENGINE)
    with StudentModule(tmp_path, "free", timeout=10, refuse_engine=False) as mod:
        mod.from_import()  # the class Dense, as a remote handle
        assert "course_lib.layers" in mod.engine_in_memory()


def test_the_scorecard_says_why_a_function_using_the_engine_earns_nothing(tmp_path):
    target = tmp_path / "submission"
    target.mkdir()
    name = f"{CHAPTERS['ch01'][0]}.py"
    shutil.copy(REPO / "solutions" / name, target / name)
    path = target / name
    path.write_text(path.read_text() + textwrap.dedent('''

        def forward(layers, X):
            import course_lib
            return course_lib.Sequential(list(layers)).forward(X)
        '''))
    report = grade(target, chapters=["ch01"], call_timeout=5, timeout=300)
    refused = report.chapters()["ch01"].exercises["forward"]
    assert refused.earned == 0 < refused.possible
    assert all(WORDS in t.reason for t in refused.tests)
    exercises = report.chapters()["ch01"].exercises
    others = [ex for n, ex in exercises.items() if n != "forward"]
    assert all(ex.earned == ex.possible for ex in others)
