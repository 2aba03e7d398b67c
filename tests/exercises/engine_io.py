"""Helpers for tests of the learner's engine: layers that live in the worker.

A learner's layer (``ch01.Dense(3, 2, seed=0)``) is a remote object: its
methods run in the worker, and reading ``layer.params`` returns a copy of the
dict as plain data. These helpers read and set parameters through the engine
protocol (``params`` and ``grads`` dicts with the same keys), so a test can
put known, non-symmetric numbers into a layer and compute its own expected
values from them.
"""

import numpy as np

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import StudentError


def read_dict(layer, name, keys, owner="the layer"):
    """``layer.<name>`` as a dict of arrays with exactly ``keys``, or a Feedback."""
    try:
        value = getattr(layer, name)
    except StudentError as exc:
        if not exc.is_a("AttributeError"):
            raise
        value = None
    if not isinstance(value, dict):
        fb.fail(f"{owner} must keep a dict self.{name} (the engine protocol); "
                f"found {fb.describe_type(value)}.")
    missing = [k for k in keys if k not in value]
    if missing:
        fb.fail(f"{owner}'s self.{name} must have the keys {list(keys)}; "
                f"found {sorted(map(str, value))}.")
    return {k: fb.as_array(f"{name}['{k}']", value[k]) for k in keys}


def set_params(layer, **arrays):
    """Replace ``layer.params`` by a new dict of the given arrays (floats)."""
    layer.call("__setattr__", "params",
               {k: np.array(v, dtype=float) for k, v in arrays.items()})


def dense(module, n_in, n_out, seed, W=None, b=None):
    """A learner's ``Dense`` with known parameters (random, non-symmetric by default).

    Returns the remote layer and the ``(W, b)`` it holds.
    """
    rng = np.random.default_rng(1000 + seed)
    W = rng.normal(size=(n_in, n_out)) if W is None else np.asarray(W, dtype=float)
    b = rng.normal(size=n_out) if b is None else np.asarray(b, dtype=float)
    layer = module.Dense(n_in, n_out, seed=seed)
    set_params(layer, W=W, b=b)
    return layer, W, b


def cached(layer, name):
    """``layer.<name>``, or None when the learner's layer has no such attribute."""
    try:
        value = getattr(layer, name)
    except StudentError as exc:
        if not exc.is_a("AttributeError"):
            raise
        return None
    return value
