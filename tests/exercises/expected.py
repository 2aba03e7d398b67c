"""Reference outputs of the public graded tests, kept as data in a release.

A public test asks ``expected(chapter, name, case, *inputs)`` for what a
correct ``name`` returns on ``inputs`` (or for a value computed from them,
such as a finite-difference gradient)::

    X, W, b, dZ = _dense_case(seed=0)
    eX, eW, eb = expected("ch03", "dense_backward", "seed 0", X, W, b, dZ)

In the course repository the value comes from the independent oracle
registered for ``(chapter, name)`` in ``oracles.py`` (finite differences,
closed forms, loops over the formula; see its ``@reference``). A release
runs the public tests once against ``solutions/`` with
``COURSE_RECORD_EXPECTED`` set, which records every value asked for, and
ships this module with ``expected.json`` and a generated ``oracles.py``
that replays the values (:func:`replay_module`): a student bundle holds the
numbers, never the code that computes them (``fd`` is exercise 3.4's
answer). Inputs must therefore be data (arrays, numbers, strings, lists,
tuples and dicts of them), never functions; a release whose public tests
pass an oracle a function is refused. The inputs are fingerprinted, so a
test whose inputs changed after the data was written fails loudly instead
of comparing with a stale value: build them from a generator seeded in the
test itself, so that a test run alone (``course grade ch02.MSE_grad``) asks
for the same inputs as the whole file.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("expected.json")
#: Environment variable naming a JSON-lines file that records every value.
RECORD = "COURSE_RECORD_EXPECTED"
_loaded = None


def digest(obj) -> str:
    """A fingerprint of inputs: arrays by dtype, shape and bytes."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()[:20]


def _feed(h, obj) -> None:
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        h.update(f"a{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    elif isinstance(obj, np.generic):
        _feed(h, obj.item())
    elif isinstance(obj, dict):
        h.update(b"d")
        for key in sorted(obj, key=str):
            _feed(h, str(key))
            _feed(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"l{len(obj)}".encode())
        for item in obj:
            _feed(h, item)
    elif obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r}".encode())
    else:
        raise TypeError(f"{type(obj).__name__} is not data: it cannot be recorded. "
                        "Oracles asked by the public tests take arrays, numbers, "
                        "strings and lists, tuples or dicts of them (a bundle "
                        "replays their values and never holds their code)")


def encode(value):
    """JSON-ready form of arrays, tuples, dicts and scalars (exact floats)."""
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v) for k, v in value.items()}}
    return value


def decode(value):
    """Inverse of :func:`encode`."""
    if isinstance(value, dict):
        if "__array__" in value:
            return np.array(value["__array__"], dtype=np.dtype(value["dtype"]))
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _stored():
    global _loaded
    if _loaded is None:
        _loaded = json.loads(DATA.read_text())
    return _loaded


def expected(chapter, name, case, *inputs):
    """The reference output of exercise ``name`` of ``chapter`` on ``inputs``.

    Parameters
    ----------
    chapter : str
        ``"ch03"``.
    name : str
        The exercise (the key of its oracle in ``oracles.REFERENCES``).
    case : str
        A label for this call, unique within the exercise.
    *inputs
        Passed to the oracle (arrays, numbers, strings, dicts of arrays).

    Returns
    -------
    object
        Whatever the oracle returns (an array, a float, a tuple of arrays).
    """
    key = f"{chapter}/{name}/{case}"
    fingerprint = digest(inputs)
    if DATA.exists():
        entry = _stored().get(key)
        if entry is None:
            raise LookupError(f"{DATA.name} has no value for {key!r}: the release "
                              "was built from other tests")
        if entry["inputs"] != fingerprint:
            raise LookupError(f"{DATA.name} was written for other inputs of "
                              f"{key!r}: rebuild the release")
        return decode(entry["value"])
    import oracles

    value = oracles.REFERENCES[(chapter, name)](*inputs)
    _record(key, fingerprint, value)
    return value


def _record(key, fingerprint, value, chapter=None):
    record = os.environ.get(RECORD)
    if record:
        line = {"key": key, "inputs": fingerprint, "value": encode(value)}
        if chapter:
            line["chapter"] = chapter
        with open(record, "a") as f:
            f.write(json.dumps(line) + "\n")


def _calling_chapter():
    """The chapter of the test module calling an oracle (``test_ch10_...``),
    or None when the caller is not a test (an oracle calling another)."""
    import re
    import sys

    m = re.search(r"test_(ch\d\d)_", sys._getframe(2).f_code.co_filename)
    return m.group(1) if m else None


# ---------------------------------------------------------------- oracles.py
# A public test may also import an oracle by name (``from oracles import
# conv2d_loops``) and call it with data. While a release records, every such
# call is kept (``oracles/<name>/<inputs>``); the bundle's ``oracles.py`` is
# then generated by :func:`replay_module`: the same names, each replaying the
# recorded values, and no code of the oracles. A call whose inputs are not
# data (a function, as for ``fd``) cannot be recorded: it is kept as
# ``unreplayable/<chapter>/<name>`` and ``course release`` refuses the bundle.
# Register a data-only oracle with ``@reference`` and ask ``expected`` instead.


def record_calls(namespace):
    """Wrap the public functions of ``oracles`` so that calls are recorded."""
    if not os.environ.get(RECORD):
        return
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in ("reference", "record_calls"):
            continue
        if callable(value) and getattr(value, "__module__", None) == namespace[
                "__name__"]:
            namespace[name] = _recorder(name, value)
        elif isinstance(value, (np.ndarray, int, float)):
            _record(f"oracles/{name}", "constant", value)


def _recorder(name, fn):
    def call(*args):
        value = fn(*args)
        chapter = _calling_chapter()
        if chapter is None:
            return value  # a call inside the oracles: the test asked for the outer
        try:
            fingerprint = digest(args)
        except TypeError:  # not data: a bundle cannot replay this call
            _record(f"unreplayable/{chapter}/{name}", "code", None, chapter)
            return value
        _record(f"oracles/{name}/{fingerprint}", fingerprint, value, chapter)
        return value

    call.__name__ = call.__qualname__ = name
    call.__doc__ = fn.__doc__
    return call


def replayed(name):
    """The recorded values of oracle ``name``, as a function of its inputs."""

    def call(*args):
        entry = _stored().get(f"oracles/{name}/{digest(args)}")
        if entry is None:
            raise LookupError(f"{DATA.name} has no value of {name} for these "
                              "inputs: the release was built from other tests")
        return decode(entry["value"])

    call.__name__ = call.__qualname__ = name
    return call


def constant(name):
    """A recorded constant of ``oracles`` (an array or a number)."""
    return decode(_stored()[f"oracles/{name}"]["value"])


def replay_module(data: dict) -> str:
    """The text of a bundle's ``oracles.py``: recorded values, no oracle code."""
    names = sorted({key.split("/")[1] for key in data if key.startswith("oracles/")})
    consts = {n for n in names if f"oracles/{n}" in data}
    lines = ['"""The graded tests\' reference values, replayed from expected.json.',
             "",
             "Generated by course release: the oracles themselves stay with the",
             'course; this file holds none of their code."""', "",
             "from expected import constant, replayed", ""]
    lines += [f'{n} = constant("{n}")' if n in consts else f'{n} = replayed("{n}")'
              for n in names]
    return "\n".join(lines) + "\n"


def write_data(records: Path, out: Path) -> int:
    """Turn a recording (JSON lines) into ``expected.json``; returns the count.

    The same key recorded with two different inputs is an error (two calls
    of a test share a label).
    """
    data: dict = {}
    for line in Path(records).read_text().splitlines():
        item = json.loads(line)
        old = data.get(item["key"])
        if old is not None and old["inputs"] != item["inputs"]:
            raise ValueError(f"case {item['key']!r} is used for two different inputs")
        entry = data.setdefault(item["key"], {"inputs": item["inputs"],
                                              "value": item["value"]})
        if "chapter" in item:
            entry["chapters"] = sorted(set(entry.get("chapters", []))
                                       | {item["chapter"]})
    Path(out).write_text(json.dumps(data, sort_keys=True) + "\n")
    return len(data)
