"""The exercise generator: blocks become NotImplementedError stubs, bad markers fail
loudly with file and line, and no solution line ever reaches a generated file."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from course_lib.cli import main as course_main
from course_lib.grading.assign.stubs import (
    StubError,
    check_dir,
    generate_dir,
    make_stub,
    parse_blocks,
    solution_lines,
)

REPO = Path(__file__).resolve().parents[2]

GOOD = '''\
"""Chapter 3 exercises."""

import numpy as np


def double(x):
    """Twice x.

    Parameters
    ----------
    x : ndarray of shape (N,)
    """
    x = np.asarray(x, dtype=float)
    # BEGIN SOLUTION: multiply by two
    secret_result = x * 2.0
    return secret_result
    # END SOLUTION


class Layer:
    def backward(self, dA):
        if dA is None:
            return None
        else:
            # BEGIN SOLUTION: it's the "deep" one: return dA times 3
            hidden_answer = dA * 3
            return hidden_answer
            # END SOLUTION
'''


def _dedent(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


def test_blocks_become_numbered_not_implemented_errors():
    stub = make_stub(GOOD, "ch03_chain_rule.py")
    assert "    raise NotImplementedError('Exercise 3.1: multiply by two')\n" in stub
    assert "            raise NotImplementedError(" in stub  # the deep block's indent
    # the hint survives quoting: evaluate the raise's argument
    raises = [n for n in ast.walk(ast.parse(stub)) if isinstance(n, ast.Raise)]
    msgs = [ast.literal_eval(r.exc.args[0]) for r in raises]
    assert msgs == ["Exercise 3.1: multiply by two",
                    "Exercise 3.2: it's the \"deep\" one: return dA times 3"]


def test_everything_outside_blocks_is_kept_and_a_header_is_added():
    stub = make_stub(GOOD, "ch03_chain_rule.py")
    assert stub.splitlines()[0].startswith("# ====")
    assert "GENERATED" in stub and "solutions/ch03_chain_rule.py" in stub
    assert "yours to complete" in stub and "course grade ch03" in stub
    for kept in ['"""Chapter 3 exercises."""', "import numpy as np", "def double(x):",
                 "    x : ndarray of shape (N,)", "    x = np.asarray(x, dtype=float)",
                 "class Layer:", "        if dA is None:"]:
        assert kept in stub.splitlines()
    tree = ast.parse(stub)
    assert ast.get_docstring(tree) == "Chapter 3 exercises."


def test_no_solution_line_leaks_into_the_stub():
    stub = make_stub(GOOD, "ch03_chain_rule.py")
    leaked = [s for s in solution_lines(GOOD) if s in stub]
    assert solution_lines(GOOD) and not leaked
    assert "secret_result" not in stub and "hidden_answer" not in stub
    assert "SOLUTION" not in stub


def _error(source: str, filename: str = "ch02_loss.py") -> str:
    with pytest.raises(StubError) as info:
        make_stub(_dedent(source), filename)
    return str(info.value)


@pytest.mark.parametrize("source, line, words", [
    ("""
     def f():
         # BEGIN SOLUTION: a
         return 1
     """, 2, "never closed"),
    ("""
     def f():
         return 1
         # END SOLUTION
     """, 3, "without a BEGIN"),
    ("""
     def f():
         # BEGIN SOLUTION: a
         # BEGIN SOLUTION: b
         return 1
         # END SOLUTION
         # END SOLUTION
     """, 3, "cannot nest"),
    ("""
     def f():
         # BEGIN SOLUTION: a
         # only a comment
         # END SOLUTION
         return 1
     """, 4, "empty solution block"),
    ("""
     def f():
         # BEGIN SOLUTION
         return 1
         # END SOLUTION
     """, 2, "needs a hint"),
    ("""
     def f():
         # BEGIN SOLUTION:
         return 1
         # END SOLUTION
     """, 2, "needs a hint"),
    ("""
     def f():
         #BEGIN SOLUTION: a
         return 1
         # END SOLUTION
     """, 2, "malformed solution marker"),
    ("""
     def f():
         # begin solution: a
         return 1
         # end solution
     """, 2, "malformed solution marker"),
    ("""
     def f():
         # BEGIN SOLUTION: a
         return 1
         #  END  SOLUTION
     """, 4, "malformed solution marker"),
    ("""
     # BEGIN SOLUTION: a constant
     RATE = 0.1
     # END SOLUTION
     """, 1, "inside a function"),
    ("""
     def f():
         if True:
             # BEGIN SOLUTION: a
             return 1
         # END SOLUTION
     """, 5, "indentation"),
    ("""
     def f():
         # BEGIN SOLUTION: a
         x = 1
     y = 2
         # END SOLUTION
     """, 4, "less indented"),
    ("""
     def f():
         return 1
     """, None, "no '# BEGIN SOLUTION"),
])
def test_malformed_markers_fail_with_file_and_line(source, line, words):
    message = _error(source)
    assert words in message
    if line is not None:
        assert f"ch02_loss.py:{line}:" in message


def test_solution_file_names_must_give_the_chapter():
    with pytest.raises(StubError, match="chNN_"):
        make_stub(GOOD, "chain_rule.py")


def test_parse_blocks_reports_positions_and_indentation():
    blocks = parse_blocks(GOOD)
    assert [(b.begin, b.end, b.indent) for b in blocks] == [
        (14, 17, "    "), (25, 28, "            ")]


def _course(tmp_path: Path) -> tuple[Path, Path]:
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    (sol / "ch03_chain_rule.py").write_text(GOOD)
    (sol / "ch01_forward_pass.py").write_text(_dedent("""
        def relu(z):
            # BEGIN SOLUTION: keep the positive part
            return z * (z > 0)
            # END SOLUTION
        """))
    (sol / "notes.py").write_text("# not a chapter file\n")
    return sol, ex


def test_generate_then_check_mode(tmp_path, capsys):
    sol, ex = _course(tmp_path)
    assert sorted(p.name for p in generate_dir(sol, ex)) == [
        "ch01_forward_pass.py", "ch03_chain_rule.py"]
    assert check_dir(sol, ex) == []
    args = ["exercises", "--solutions", str(sol), "--out", str(ex)]
    assert course_main(args + ["--check"]) == 0

    (ex / "ch01_forward_pass.py").write_text("edited by hand\n")
    (ex / "ch03_chain_rule.py").unlink()
    (ex / "ch09_extra.py").write_text("")
    problems = check_dir(sol, ex)
    assert any(p.startswith("differs:") and "ch01" in p for p in problems)
    assert any(p.startswith("missing:") and "ch03" in p for p in problems)
    assert any(p.startswith("extra:") and "ch09" in p for p in problems)
    capsys.readouterr()
    assert course_main(args + ["--check"]) == 1
    err = capsys.readouterr().err
    assert "ch01_forward_pass.py" in err and "ch03_chain_rule.py" in err
    assert course_main(args) == 0  # regenerate
    assert check_dir(sol, ex) == [(f"extra: {ex / 'ch09_extra.py'} "
                                   "(no solutions/ch09_extra.py)")]


def test_a_bad_solution_file_writes_nothing(tmp_path, capsys):
    sol, ex = _course(tmp_path)
    (sol / "ch02_loss.py").write_text("def f():\n    # BEGIN SOLUTION: x\n    pass\n")
    assert course_main(["exercises", "--solutions", str(sol), "--out", str(ex)]) == 2
    assert "ch02_loss.py:2" in capsys.readouterr().err
    assert not ex.exists()


def test_the_course_exercises_are_in_sync_and_leak_no_solution_line():
    sol, ex = REPO / "solutions", REPO / "exercises"
    files = sorted(sol.glob("ch*.py"))
    if not files:
        pytest.skip("no solution files yet")
    assert check_dir(sol, ex) == [], "run `course exercises`"
    for path in files:
        text = path.read_text()
        stub = (ex / path.name).read_text()
        outside = set()
        lines = text.splitlines()
        inside = set()
        for blk in parse_blocks(text, path.name):
            inside.update(range(blk.begin, blk.end + 1))
        outside = {s.strip() for i, s in enumerate(lines, 1) if i not in inside}
        stub_lines = {s.strip() for s in stub.splitlines()}
        leaked = [s for s in solution_lines(text, path.name)
                  if s in stub_lines and s not in outside and len(s) > 3]
        assert not leaked, f"{path.name}: solution lines in the exercise: {leaked}"
