"""Parts of the engine that are a chapter's exercise: left out of student bundles.

A student bundle ships ``course_lib`` because the chapters run on it. Where
an exercise asks the learner to write the very code the engine holds, in the
same shape, the bundle's copy of the engine keeps the method's signature and
docstring and replaces its body by an error naming the exercise file. Today
that is chapter 9's scalar :class:`~course_lib.autodiff.Value`: the learner
writes the backward rules of ``**``, ``tanh``, ``log`` and ``relu`` as closures
on the same class. The chapter's page uses only the rules it teaches (``+``,
``*``, ``exp``) and ``backward()``, whose order (``autodiff/graph.py``) sorts
nodes by creation stamps, not the depth-first search the exercise asks for.
The array engine ``Tensor`` stays whole (the page trains with it).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..core.chapters import CHAPTERS

#: ``{file under course_lib: {(class, method): chapter}}``
ANSWERS = {
    "autodiff/value.py": {("Value", "__pow__"): "ch09", ("Value", "tanh"): "ch09",
                          ("Value", "log"): "ch09", ("Value", "relu"): "ch09"},
}


def _message(cls: str, name: str, chapter: str) -> str:
    module = CHAPTERS[chapter][0]
    return (f"{cls}.{name} is one of chapter {int(chapter[2:])}'s exercises, so a "
            "student bundle's engine leaves it out: write it in your own "
            f"exercises/{module}.py")


def strip_file(text: str, parts: dict) -> tuple[str, list[str]]:
    """``text`` with the bodies of ``parts`` replaced by a ``raise``.

    Parameters
    ----------
    text : str
        A module's source.
    parts : dict
        ``{(class, method): chapter}``.

    Returns
    -------
    text : str
    stripped : list of str
        ``"Class.method"`` of every part found (a missing one is not listed).
    """
    lines = text.splitlines(keepends=True)
    cuts = []
    for node in ast.parse(text).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for fn in node.body:
            chapter = parts.get((node.name, getattr(fn, "name", None)))
            if chapter is None or not isinstance(fn, ast.FunctionDef):
                continue
            first = fn.body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant) and isinstance(
                first.value.value, str)
            keep_to = first.end_lineno if has_doc else fn.body[0].lineno - 1
            indent = " " * first.col_offset
            why = _message(node.name, fn.name, chapter)
            stub = f"{indent}raise NotImplementedError({why!r})\n"
            cuts.append((keep_to, fn.end_lineno, stub, f"{node.name}.{fn.name}"))
    for keep_to, end, stub, _ in sorted(cuts, reverse=True):
        lines[keep_to:end] = [stub]
    return "".join(lines), [name for *_, name in cuts]


def strip_answers(course_lib_dir: Path) -> list[str]:
    """Strip :data:`ANSWERS` from a copy of ``course_lib``; returns what was
    stripped (``"autodiff/value.py:Value.tanh"``). A listed part that is not
    found is an error: the engine moved and this list must follow it."""
    done = []
    for rel, parts in ANSWERS.items():
        path = Path(course_lib_dir) / rel
        text, stripped = strip_file(path.read_text(), parts)
        missing = {f"{c}.{m}" for c, m in parts} - set(stripped)
        if missing:
            raise RuntimeError(f"course_lib/{rel} has no {', '.join(sorted(missing))}: "
                               "update engine_parts.ANSWERS")
        path.write_text(text)
        done += [f"{rel}:{name}" for name in stripped]
    return done
