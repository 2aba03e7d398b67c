"""cl.autodiff: Value and Tensor against finite differences, the engine's
hand-written layer and loss gradients, and PyTorch's autograd where installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from oracles import fd, rel_err

import course_lib as cl
from course_lib.autodiff import Tensor, Value, topological_order


def _fd_scalar(f, xs, h=1e-6):
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((f(*up) - f(*down)) / (2 * h))
    return out


EXPRESSIONS = {
    "arithmetic": lambda a, b: (a * b + a / b - 3.0) ** 2 - b,
    "exp_log": lambda a, b: (a * a + 1.0).log() * (b * 0.3).exp(),
    "tanh_relu": lambda a, b: (a * b).tanh() + (a - b).relu() * a,
    "sigmoid": lambda a, b: (a * 2.0 - b).sigmoid() / (1.0 + b * b),
    "reflected": lambda a, b: 2.0 - a + 3.0 / b - 1.0 * (4.0 * a),
}
MATH = {"log": math.log, "exp": math.exp, "tanh": math.tanh,
        "relu": lambda x: max(x, 0.0), "sigmoid": lambda x: 1 / (1 + math.exp(-x))}


class _F:
    """A float with the Value methods, to evaluate EXPRESSIONS numerically."""

    def __init__(self, x):
        self.x = x

    def __getattr__(self, name):
        return lambda: _F(MATH[name](self.x))

    def _op(self, other, f):
        return _F(f(self.x, other.x if isinstance(other, _F) else other))

    __add__ = lambda s, o: s._op(o, lambda a, b: a + b)  # noqa: E731
    __radd__ = __add__
    __mul__ = lambda s, o: s._op(o, lambda a, b: a * b)  # noqa: E731
    __rmul__ = __mul__
    __sub__ = lambda s, o: s._op(o, lambda a, b: a - b)  # noqa: E731
    __rsub__ = lambda s, o: s._op(o, lambda a, b: b - a)  # noqa: E731
    __truediv__ = lambda s, o: s._op(o, lambda a, b: a / b)  # noqa: E731
    __rtruediv__ = lambda s, o: s._op(o, lambda a, b: b / a)  # noqa: E731
    __pow__ = lambda s, n: _F(s.x ** n)  # noqa: E731


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("point", [(0.7, -1.3), (1.9, 0.4)])
def test_value_gradients_match_finite_differences(name, point):
    expr = EXPRESSIONS[name]
    a, b = Value(point[0]), Value(point[1])
    out = expr(a, b)
    out.backward()
    num = _fd_scalar(lambda x, y: expr(_F(x), _F(y)).x, point)
    assert out.data == pytest.approx(expr(_F(point[0]), _F(point[1])).x)
    assert a.grad == pytest.approx(num[0], rel=1e-6, abs=1e-8)
    assert b.grad == pytest.approx(num[1], rel=1e-6, abs=1e-8)


def test_forks_accumulate_and_the_order_is_topological():
    x = Value(3.0)
    y = x * x + x                 # x used three times: 2x + 1 = 7
    y.backward()
    assert x.grad == 7.0
    order = topological_order(y)
    assert len(order) == len({id(n) for n in order}) == 3
    assert order[-1] is y and order[0] is x
    for i, node in enumerate(order):
        assert all(order.index(c) < i for c in node._prev)


def test_deep_graph_has_no_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_leaves_accumulate_over_backward_calls_interior_nodes_do_not():
    x = Value(2.0)
    y = x * 3.0
    y.backward()
    y.backward()
    assert x.grad == 6.0 and y.grad == 1.0


def test_value_errors():
    with pytest.raises(TypeError, match="exponent must be a constant"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="must be > 0"):
        Value(-1.0).log()


# ---------------------------------------------------------------- Tensor


@pytest.mark.parametrize("shapes", [((4, 3), (3,)), ((4, 3), (4, 1)),
                                    ((4, 3), ()), ((2, 4, 3), (4, 3)),
                                    ((1, 3), (5, 1))])
def test_broadcast_gradients_are_summed_back_to_the_shape(shapes):
    rng = np.random.default_rng(0)
    A0, B0 = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    G = rng.normal(size=np.broadcast_shapes(*shapes))

    def f(A_, B_):
        return float(np.sum(G * (A_ * B_ + A_ - B_ / (1.5 + B_ ** 2))))

    A, B = Tensor(A0), Tensor(B0)
    out = ((A * B + A - B / (1.5 + B ** 2)) * G).sum()
    out.backward()
    assert A.grad.shape == A0.shape and B.grad.shape == B0.shape
    assert rel_err(A.grad, fd(lambda a: f(a, B0), A0)) < 1e-8
    assert rel_err(B.grad, fd(lambda b: f(A0, b), B0)) < 1e-8


def test_reductions_and_unary_ops_match_finite_differences():
    rng = np.random.default_rng(1)
    X0 = rng.normal(size=(5, 4))

    def build(X):
        return ((X.tanh() * X.sigmoid()).sum(axis=0).exp().mean()
                + (X * X + 1.0).log().mean(axis=1, keepdims=True).sum()
                + X.relu().T.sum() + X.logsumexp(axis=1).sum())

    X = Tensor(X0)
    build(X).backward()

    def f(x):
        return float(build(Tensor(x)).data)

    assert rel_err(X.grad, fd(f, X0)) < 1e-7


def _two_layer(X0, W10, b10, W20, b20, y0, loss):
    X, W1, b1, W2, b2 = map(Tensor, (X0, W10, b10, W20, b20))
    H = (X @ W1 + b1).tanh()
    Z = H @ W2 + b2
    if loss == "mse":
        L = ((Z - y0) ** 2).mean()
    elif loss == "bce":
        P = Z.sigmoid()
        L = -(y0 * P.log() + (1.0 - y0) * (1.0 - P).log()).mean()
    else:
        onehot = np.eye(Z.shape[1])[y0]
        L = -((Z - Z.logsumexp(axis=1)) * onehot).sum(axis=1).mean()
    L.backward()
    return L, W1, b1, W2, b2


@pytest.mark.parametrize("loss", ["mse", "bce", "cross_entropy"])
def test_reproduces_the_engines_layer_and_loss_gradients(loss):
    rng = np.random.default_rng(2)
    n_out = 3 if loss == "cross_entropy" else 1
    X0 = rng.normal(size=(6, 4))
    y0 = (rng.integers(0, 3, 6) if loss == "cross_entropy"
          else rng.integers(0, 2, (6, 1)).astype(float))
    model = cl.MLP([4, 5, n_out], activation="tanh",
                   output="sigmoid" if loss == "bce" else None, seed=0)
    P = model.params
    engine_loss = {"mse": cl.MSE(), "bce": cl.BinaryCrossEntropy(),
                   "cross_entropy": cl.SoftmaxCrossEntropy()}[loss]
    out = model.forward(X0)
    value = engine_loss.loss(y0, out)
    model.backward(engine_loss.grad(y0, out))
    L, W1, b1, W2, b2 = _two_layer(X0, P["0.W"], P["0.b"], P["2.W"], P["2.b"], y0,
                                   loss)
    assert float(L.data) == pytest.approx(value, rel=1e-12)
    for key, t in zip(["0.W", "0.b", "2.W", "2.b"], [W1, b1, W2, b2]):
        np.testing.assert_allclose(t.grad, model.grads[key], rtol=1e-10, atol=1e-14)


def test_dense_backward_exactly():
    rng = np.random.default_rng(3)
    dense = cl.Dense(3, 2, seed=0)
    X0, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    dense.forward(X0)
    dX = dense.backward(G)
    X, W, b = Tensor(X0), Tensor(dense.params["W"]), Tensor(dense.params["b"])
    ((X @ W + b) * G).sum().backward()
    np.testing.assert_allclose(X.grad, dX, rtol=1e-13)
    np.testing.assert_allclose(W.grad, dense.grads["W"], rtol=1e-13)
    np.testing.assert_allclose(b.grad, dense.grads["b"], rtol=1e-13)


def test_tensor_backward_needs_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        Tensor(np.ones(3)).tanh().backward()


# ---------------------------------------------------------------- PyTorch


def test_value_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    a, b = Value(0.8), Value(-1.1)
    out = ((a * b).tanh() + (a - b).relu() * a.exp() - (b * b + 1.0).log()) ** 2
    out.backward()
    ta = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-1.1, dtype=torch.float64, requires_grad=True)
    tout = ((ta * tb).tanh() + (ta - tb).relu() * ta.exp()
            - (tb * tb + 1.0).log()) ** 2
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-14)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)


def test_tensor_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s) for s in [(6, 4), (4, 5), (5,), (5, 3), (3,)]]
    y = rng.integers(0, 3, 6)
    L, *ours = _two_layer(*arrays[:1], *arrays[1:], y, "cross_entropy")
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    X, W1, b1, W2, b2 = ts
    Z = torch.tanh(X @ W1 + b1) @ W2 + b2
    tl = torch.nn.functional.cross_entropy(Z, torch.tensor(y))
    tl.backward()
    assert float(L.data) == pytest.approx(tl.item(), rel=1e-12)
    for mine, t in zip(ours, ts[1:]):
        np.testing.assert_allclose(mine.grad, t.grad.numpy(), rtol=1e-10,
                                   atol=1e-14)


def test_draw_marks_a_node():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.autodiff import draw

    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    out = (a * b).tanh() + a
    out.backward()
    spec = draw.graph_spec(out)
    assert [n["op"] for n in spec][-1] == "+" and len(spec) == 5
    ax = draw.draw_graph(out, highlight=a, title="t")
    boxes = [t for t in ax.texts if t.get_text()]           # arrows have none
    assert len(boxes) == 5 and any("grad 1" in t.get_text() for t in boxes)
    assert sum(t.get_bbox_patch().get_edgecolor()[0] > 0.7 for t in boxes) == 1
