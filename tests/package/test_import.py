"""The package surface: what `import course_lib` gives, and what it must not load."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import course_lib as cl

HEAVY = ["matplotlib", "tqdm", "ipywidgets", "sklearn", "scipy", "pandas"]


def test_import_loads_numpy_only():
    code = ("import sys, course_lib\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_import_is_fast():
    code = ("import time; t = time.perf_counter(); import course_lib; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                         capture_output=True, text=True, check=True)
    own = [line for line in out.stderr.splitlines() if "course_lib" in line]
    self_us = sum(int(line.split(":")[1].split("|")[0]) for line in own)
    assert own and self_us < 100_000, own       # our modules' own time, numpy aside


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
