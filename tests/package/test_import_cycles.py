"""No import cycles inside ``course_lib``.

The module graph is read from the source with ``ast`` (nothing is imported): an
edge ``a -> b`` for every ``import`` / ``from ... import`` statement in ``a`` that
names a module ``b`` of the package, relative imports resolved, and ``from pkg
import name`` pointing at ``pkg.name`` when that is a module, else at ``pkg``.

What it covers: every statement, at module level *and* inside functions (a
function-level import that closes a cycle only hides it until the function
runs), in every ``.py`` file under ``course_lib/``. What it does not: imports
spelled as strings (``importlib.import_module``, ``__import__``: the lazy
attributes of ``course_lib`` and ``course_lib.autodiff``, the worker loading the
student's module) and the implicit import of a parent package that Python does
before any submodule (a package's ``__init__`` importing its submodules is the
normal direction, not a cycle).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import course_lib

PACKAGE = Path(course_lib.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node, module: str, is_package: bool, modules) -> list[str]:
    """Modules of the package that one import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    else:
        base = node.module
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
            for a in node.names]


def import_graph(root: Path) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}`` for the package at ``root``."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(_targets(node, module, path.name == "__init__.py", files))
        graph[module] = {d for d in deps if d in files and d != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_the_detector_finds_a_cycle_closed_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    _write(pkg, {
        "__init__.py": "from . import a\n",
        "a.py": "from .sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "def f():\n    from ..a import g\n",
        "c.py": "from pkg import a\nimport pkg.sub.b\n",      # no cycle through c
    })
    graph = import_graph(pkg)
    assert graph["pkg.c"] == {"pkg.a", "pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]


def test_the_detector_sees_no_cycle_in_a_package_importing_its_submodules(tmp_path):
    pkg = tmp_path / "pkg"
    _write(pkg, {"__init__.py": "from .a import x\n", "a.py": "x = 1\n"})
    assert import_graph(pkg) == {"pkg": {"pkg.a"}, "pkg.a": set()}
    assert cycles(import_graph(pkg)) == []


def test_course_lib_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # it read them
    assert graph["course_lib.grading.batch.sandbox"] >= {
        "course_lib.grading.batch.probe", "course_lib.grading.batch.modes"}
    found = cycles(graph)
    assert not found, "import cycles inside course_lib: " + "; ".join(
        " <-> ".join(c) for c in found)
