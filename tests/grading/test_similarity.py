"""Similarity report of ``grade-batch``: planted copies are found, honest work is not.

The batch: three students who answered chapter 3 honestly, each in their own
way (alice, bob, grace); carol handed in alice's file with every variable
renamed and the comments re-worded; dave handed in bob's functions in reverse
order; erin handed in ``solutions/`` with renamed variables; frank answered
only ``numerical_gradient``, with the body of ``course_lib.gradcheck``'s.
"""

from __future__ import annotations

import inspect
import io
import re
import tokenize
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("copydetect")

import course_lib.gradcheck as gradcheck  # noqa: E402
from course_lib.grading.batch import grade_batch as batch  # noqa: E402
from course_lib.grading.batch import names  # noqa: E402
from course_lib.grading.batch import similarity as sim  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODULE = "ch03_chain_rule"
# A chapter-3 exercise file as students get it (fixed here, so that the test
# does not follow the course's own stubs as they change).
STUB = '''"""Chapter 3 exercises: the chain rule."""

import numpy as np


def _sigmoid(z):
    """Stable logistic sigmoid (given)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_backward(dA, Z):
    """dZ = dA * sigma(Z) * (1 - sigma(Z)), shapes (N, H)."""
    raise NotImplementedError("Exercise 3.1: the sigmoid's derivative")


def relu_backward(dA, Z):
    """dZ = dA where Z > 0, else 0."""
    raise NotImplementedError("Exercise 3.2: the ReLU's derivative")


def dense_backward(dZ, X, W):
    """(dX, dW, db) of Z = X W + b."""
    raise NotImplementedError("Exercise 3.3: three products and a sum")


def numerical_gradient(f, x, h=1e-5):
    """Centred finite differences of f at every entry of x."""
    raise NotImplementedError("Exercise 3.4: nudge each entry, restore it")


def backprop_two_layer(X, y, params):
    """Gradients of the two-layer sigmoid network under the MSE."""
    raise NotImplementedError("Exercise 3.5: forward, then backwards")
'''


ALICE = [
    # sigmoid_backward
    """    sig = _sigmoid(Z)
    local = sig * (1.0 - sig)          # derivative of the sigmoid
    return dA * local""",
    # relu_backward
    """    mask = np.zeros_like(Z, dtype=float)
    mask[Z > 0] = 1.0
    return mask * dA""",
    # dense_backward
    """    grad_W = np.dot(X.T, dZ)
    grad_b = np.sum(dZ, axis=0)
    grad_X = np.dot(dZ, W.T)
    return grad_X, grad_W, grad_b""",
    # numerical_gradient
    """    out = np.empty_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        keep = float(x[i])
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        out[i] = (up - down) / (2 * h)
        it.iternext()
    return out""",
    # backprop_two_layer
    """    hidden_pre = np.dot(X, params["W1"]) + params["b1"]
    hidden = _sigmoid(hidden_pre)
    out_pre = np.dot(hidden, params["W2"]) + params["b2"]
    out = _sigmoid(out_pre)
    g_out = 2 * (out - y) / y.size
    g_out_pre = sigmoid_backward(g_out, out_pre)
    g_hidden, gW2, gb2 = dense_backward(g_out_pre, hidden, params["W2"])
    g_hidden_pre = sigmoid_backward(g_hidden, hidden_pre)
    _, gW1, gb1 = dense_backward(g_hidden_pre, X, params["W1"])
    return {"dW1": gW1, "db1": gb1, "dW2": gW2, "db2": gb2}""",
]

BOB = [
    """    return dA * _sigmoid(Z) * (1 - _sigmoid(Z))""",
    """    return np.where(Z > 0, dA, 0.0)""",
    """    n_out = dZ.shape[1]
    db = np.array([dZ[:, j].sum() for j in range(n_out)])
    return dZ @ np.transpose(W), np.transpose(X) @ dZ, db""",
    """    flat = x.reshape(-1)              # a view: writes reach x
    grads = []
    for j in range(flat.size):
        saved = flat[j]
        flat[j] = saved + h
        fp = f(x)
        flat[j] = saved - h
        fm = f(x)
        flat[j] = saved
        grads.append((fp - fm) / (2 * h))
    return np.array(grads).reshape(x.shape)""",
    """    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    a1 = _sigmoid(X @ W1 + b1)
    yh = _sigmoid(a1 @ W2 + b2)
    n_entries = y.shape[0] * y.shape[1]
    delta2 = (2.0 / n_entries) * (yh - y) * yh * (1 - yh)
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    grads = {}
    grads["dW2"] = a1.T @ delta2
    grads["db2"] = delta2.sum(axis=0)
    grads["dW1"] = X.T @ delta1
    grads["db1"] = delta1.sum(axis=0)
    return grads""",
]

GRACE = [
    """    p = _sigmoid(Z)
    return np.multiply(dA, np.multiply(p, 1.0 - p))""",
    """    positive = (Z > 0).astype(dA.dtype)
    return np.multiply(positive, dA)""",
    """    dW = np.einsum("ni,nj->ij", X, dZ)
    dX = np.einsum("nj,ij->ni", dZ, W)
    db = np.einsum("nj->j", dZ)
    return dX, dW, db""",
    """    result = np.zeros(x.shape)
    for index, value in np.ndenumerate(x.copy()):
        x[index] = value + h
        higher = f(x)
        x[index] = value - h
        lower = f(x)
        result[index] = (higher - lower) / h / 2
        x[index] = value
    return result""",
    """    layers = [(params["W1"], params["b1"]), (params["W2"], params["b2"])]
    inputs, pres = [X], []
    for W, b in layers:
        pres.append(inputs[-1] @ W + b)
        inputs.append(_sigmoid(pres[-1]))
    upstream = 2.0 * (inputs[-1] - y) / np.prod(y.shape)
    names = ["1", "2"]
    result = {}
    for k in (1, 0):
        dpre = sigmoid_backward(upstream, pres[k])
        upstream, result["dW" + names[k]], result["db" + names[k]] = \\
            dense_backward(dpre, inputs[k], layers[k][0])
    return result""",
]


REFERENCE = [
    """    s = _sigmoid(Z)
    return dA * s * (1.0 - s)""",
    """    return dA * (Z > 0)""",
    """    dX = dZ @ W.T
    dW = X.T @ dZ
    db = dZ.sum(axis=0)
    return dX, dW, db""",
    """    grad = np.zeros(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * h)
    return grad""",
    """    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = X @ W1 + b1
    A1 = _sigmoid(Z1)
    Z2 = A1 @ W2 + b2
    y_hat = _sigmoid(Z2)
    dY = 2.0 * (y_hat - y) / y.size
    dZ2 = sigmoid_backward(dY, Z2)
    dA1, dW2, db2 = dense_backward(dZ2, A1, W2)
    dZ1 = sigmoid_backward(dA1, Z1)
    _, dW1, db1 = dense_backward(dZ1, X, W1)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}""",
]


def fill(answers):
    """The stub with its five ``raise NotImplementedError`` replaced, in order."""
    out, k = [], 0
    for line in STUB.splitlines():
        if line.strip().startswith("raise NotImplementedError("):
            out.append(answers[k])
            k += 1
        else:
            out.append(line)
    assert k == len(answers) == 5
    return "\n".join(out) + "\n"


def rename(text, mapping):
    """Rename identifiers token by token (what a copier's editor does)."""
    toks = [t._replace(string=mapping.get(t.string, t.string))
            if t.type == tokenize.NAME else t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    return tokenize.untokenize(toks)


def reverse_functions(text):
    head, *defs = re.split(r"(?m)^(?=def )", text)
    return head + "".join(d.rstrip("\n") + "\n\n\n" for d in reversed(defs))


def engine_body():
    source = inspect.getsource(gradcheck.numerical_gradient)
    return "\n".join(source.split('"""', 2)[2].splitlines()[1:])


SOLUTION = fill(REFERENCE)  # the reference answers, as solutions/ holds them
STUDENTS = {
    "alice": fill(ALICE),
    "bob": fill(BOB),
    "grace": fill(GRACE),
    "carol": rename(fill(ALICE), {
        "sig": "s_val", "local": "deriv", "mask": "keep", "grad_W": "gw",
        "grad_b": "gb", "grad_X": "gx", "out": "res", "it": "walker",
        "keep": "orig", "up": "hi", "down": "lo", "hidden_pre": "z1",
        "hidden": "a1", "out_pre": "z2", "g_out": "d_out"}).replace(
            "# derivative of the sigmoid", "# slope"),
    "dave": reverse_functions(fill(BOB)),
    "erin": rename(SOLUTION, {
        "s": "sg", "dX": "gx", "dW": "gw", "db": "gb", "grad": "acc",
        "idx": "pos", "old": "orig", "f_plus": "a", "f_minus": "c",
        "Z1": "pre1", "A1": "act1", "Z2": "pre2", "y_hat": "pred"}),
    "frank": fill(["    raise NotImplementedError"] * 3 + [engine_body()]
                  + ["    raise NotImplementedError"]),
}
HONEST = {"alice", "bob", "grace"}


@pytest.fixture(scope="module")
def findings():
    files = {sid: {MODULE: text} for sid, text in STUDENTS.items()}
    for sid, text in STUDENTS.items():
        compile(text, sid, "exec")  # every planted file is valid Python
    return sim.find_copies(files, {MODULE: SOLUTION},
                           sim.engine_sources(REPO), {MODULE: STUB})


def _pairs(findings):
    return {(f.kind, f.submission, f.other) for f in findings}


def test_planted_copies_are_flagged(findings):
    found = _pairs(findings)
    assert ("submission", "alice", "carol") in found      # renamed variables
    assert ("submission", "bob", "dave") in found         # reordered functions
    assert ("solutions", "erin", f"solutions/{MODULE}.py") in found
    assert ("engine", "frank", "course_lib/gradcheck.py") in found


def test_honest_distinct_submissions_are_not_flagged(findings):
    for f in findings:
        pair = {f.submission, f.other}
        assert not (pair <= HONEST or (f.kind != "submission" and pair & HONEST)), f


def test_exactly_the_planted_copies(findings):
    assert len(findings) == 4, [(f.submission, f.other) for f in findings]
    by = {(f.submission, f.other): f for f in findings}
    assert by[("alice", "carol")].similarity > 0.95
    assert by[("erin", f"solutions/{MODULE}.py")].similarity > 0.95


def test_matching_lines_are_the_answers_not_the_stub(findings):
    carol = next(f for f in findings if f.other == "carol")
    shown = [line for _, line in carol.lines]
    assert "    sig = _sigmoid(Z)" in shown
    stub_lines = {" ".join(x.split()) for x in STUB.splitlines()}
    assert not [x for x in shown if " ".join(x.split()) in stub_lines]
    assert carol.other_lines  # and where they are in carol's file


def test_summary_section_escapes_what_students_wrote():
    evil = STUDENTS["alice"].replace(
        "    return dA * local",
        "    return dA * local  # ``` </pre><script>x</script> \x1b[31m | **b**")
    files = {"alice": {MODULE: evil}, "carol": {MODULE: evil}}
    text = sim.markdown(sim.find_copies(files, {}, {}, {MODULE: STUB}), 2)
    fences = re.findall(r"^ *(`{3,})", text, re.M)
    assert fences and all(len(f) >= 4 for f in fences)  # longer than any run inside
    assert "\x1b" not in text
    block = text.split(fences[0], 2)[1]
    assert "<script>" in block  # shown verbatim inside the code block only
    assert "<script>" not in text.replace(block, "")


def test_batch_section_reads_zips_and_folders(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice" / "exercises").mkdir(parents=True)
    (subs / "alice" / "exercises" / f"{MODULE}.py").write_text(STUDENTS["alice"])
    with zipfile.ZipFile(subs / "carol.zip", "w") as zf:
        zf.writestr(f"work/exercises/{MODULE}.py", STUDENTS["carol"])
    (subs / "grace").mkdir()
    (subs / "grace" / f"{MODULE}.py").write_text(STUDENTS["grace"])
    modules = batch.exercise_modules()
    uploads = [(sid, path) for sid, path, problem in names.discover(subs)
               if not problem]
    text = sim.section(uploads, batch.collect_submission, modules)
    assert text.startswith("## Similarity")
    assert "3 submission(s) compared" in text
    assert "**alice**" in text and "**carol**" in text
    assert "grace" not in text
