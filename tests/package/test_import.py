"""The package surface: what `import course_lib` gives, and what it must not load."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import course_lib as cl

HEAVY = ["matplotlib", "tqdm", "ipywidgets", "sklearn", "scipy", "pandas"]


def test_import_loads_numpy_only():
    code = ("import sys, course_lib\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _own_import_time():
    """Microseconds ``import course_lib`` spends in our own modules (numpy aside)."""
    cmd = [sys.executable, "-X", "importtime", "-c", "import course_lib"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    own = [line for line in out.stderr.splitlines() if "course_lib" in line]
    assert own, out.stderr[-2000:]
    return sum(int(line.split(":")[1].split("|")[0]) for line in own), own


def test_import_is_fast():
    # the best of three fresh interpreters: a busy machine slows single runs
    self_us, own = min(_own_import_time() for _ in range(3))
    assert self_us < 100_000, own


def test_public_names_exist():
    for name in ["Dense", "Dropout", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity",
                 "Softmax", "Sequential", "MLP", "MSE", "BinaryCrossEntropy",
                 "SoftmaxCrossEntropy", "SGD", "RMSProp", "Adam", "History",
                 "numerical_gradient", "relative_error", "gradient_check", "datasets",
                 "ShapeError", "DivergenceError", "sigmoid", "relu_prime",
                 "get_activation"]:
        assert hasattr(cl, name), name
    for name in cl.__all__:
        if name not in ("plotting", "widgets", "grading"):
            assert getattr(cl, name) is not None
    assert issubclass(cl.ShapeError, ValueError)
    assert issubclass(cl.DivergenceError, FloatingPointError)
    assert cl.errors.ShapeError is cl.ShapeError


def test_lazy_submodules_and_unknown_attribute():
    code = ("import sys, course_lib as cl\n"
            "assert 'course_lib.plotting' not in sys.modules\n"
            "m = cl.plotting\n"
            "assert m is sys.modules['course_lib.plotting']\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
    try:
        cl.no_such_thing  # noqa: B018
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_quickstart_from_the_design():
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 4, 1], activation="tanh", output="sigmoid", init="xavier",
                   seed=0)
    history = model.fit(X, y, loss=cl.BinaryCrossEntropy(), optimizer=cl.SGD(1.0),
                        epochs=2000, progress=False)
    assert isinstance(history, cl.History)
    np.testing.assert_array_equal(model.predict(X), y)


def test_all_names_each_public_name_once():
    assert len(cl.__all__) == len(set(cl.__all__))
    for module in (cl.activations, cl.layers, cl.models, cl.losses, cl.optimizers,
                   cl.training, cl.gradcheck):
        for name in module.__all__:
            if name.isupper() and name != "ACTIVATIONS":       # registries
                continue
            assert name in cl.__all__, f"{module.__name__}.{name}"


# ---------------------------------------------------------------- the import graph

ENGINE = sorted(p.stem for p in Path(cl.__file__).parent.glob("*.py")
                if p.stem not in ("__init__", "__main__", "cli"))


def _engine_imports(module):
    """Engine modules that ``course_lib.<module>`` imports, at any depth of its code
    (imports inside functions count too: they are dependencies all the same)."""
    tree = ast.parse((Path(cl.__file__).parent / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "course_lib":
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "course_lib."):
            names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names
                     if a.name.startswith("course_lib.")]
        else:
            continue
        found.update(n for n in names if n in ENGINE)
    return found


def test_engine_import_graph_is_acyclic():
    """No two engine modules depend on each other, directly or around a loop
    (models imports training for ``fit``; training must not import models)."""
    graph = {m: _engine_imports(m) for m in ENGINE}
    assert "training" in graph["models"]
    done, path = set(), []

    def visit(m):
        assert m not in path, "import cycle: " + " -> ".join(
            path[path.index(m):] + [m])
        if m in done:
            return
        path.append(m)
        for dep in sorted(graph[m]):
            visit(dep)
        path.pop()
        done.add(m)

    for m in ENGINE:
        visit(m)


@pytest.mark.parametrize("module", ENGINE)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    """Importing any one module first works (a cycle would show up as an
    ImportError for a partly initialised module)."""
    code = f"import course_lib.{module}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
