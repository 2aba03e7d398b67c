"""Sequential and MLP: whole-model gradients, the flat parameter dicts, prediction
rules, snapshots and the helpers the book uses."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import GRAD_TOL, fd, rel_err

import course_lib as cl

# (activation, output, loss, targets) combinations that the course uses
MODEL_CASES = [
    ("tanh", "sigmoid", "bce", "binary"),
    ("sigmoid", "sigmoid", "mse", "binary"),
    ("relu", None, "cross_entropy", "labels"),
    ("leaky_relu", "identity", "mse", "real"),
    ("tanh", "softmax", "mse", "onehot"),
    ("relu", None, "cross_entropy", "onehot"),
]


def targets(kind, N, n_out, rng):
    if kind == "binary":
        return rng.integers(0, 2, size=(N, n_out)).astype(float)
    if kind == "labels":
        return rng.integers(0, n_out, size=N)
    if kind == "onehot":
        return cl.datasets.one_hot(rng.integers(0, n_out, size=N), n_out)
    return rng.normal(size=(N, n_out))


def model_loss_grads(model, loss, X, y):
    """Analytic gradients via forward/backward, copied out of the model."""
    loss = cl.get_loss(loss)
    model.backward(loss.grad(y, model.forward(X)))
    return {k: g.copy() for k, g in model.grads.items()}


def assert_gradients_match_finite_differences(model, loss_fn, X, y):
    """Backprop's gradient of every parameter agrees with ``fd`` to GRAD_TOL."""
    analytic = model_loss_grads(model, loss_fn, X, y)
    for name, p in model.params.items():
        original = p.copy()

        def f(value, p=p):
            p[...] = value
            return loss_fn.loss(y, model.forward(X))

        numeric = fd(f, original)
        p[...] = original
        assert rel_err(analytic[name], numeric) < GRAD_TOL, name


@pytest.mark.parametrize("activation, output, loss, kind", MODEL_CASES)
@pytest.mark.parametrize("sizes", [[3, 5, 2], [2, 4, 4, 3], [4, 2, 3]])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_model_gradients_match_finite_differences(activation, output, loss, kind,
                                                        sizes, seed):
    rng = np.random.default_rng(seed)
    n_out = sizes[-1] if kind != "binary" else 1
    sizes = [*sizes[:-1], n_out]
    model = cl.MLP(sizes, activation=activation, output=output, seed=seed)
    for p in model.params.values():                 # nonzero biases, too
        p += rng.normal(scale=0.3, size=p.shape)
    X = rng.normal(size=(6, sizes[0]))
    y = targets(kind, 6, n_out, rng)
    loss_fn = cl.get_loss(loss)
    assert_gradients_match_finite_differences(model, loss_fn, X, y)
    # and course_lib's own gradient_check agrees
    errors = cl.gradient_check(model, loss_fn, X, y)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < GRAD_TOL


def test_input_gradient_of_a_model():
    rng = np.random.default_rng(5)
    model = cl.MLP([3, 4, 2], activation="tanh", output="softmax", seed=0)
    X = rng.normal(size=(5, 3))
    G = rng.normal(size=(5, 2))
    model.forward(X)
    dX = model.backward(G)
    numeric = fd(lambda x: float(np.sum(G * model.forward(x))), X)
    assert rel_err(dX, numeric) < GRAD_TOL


# ---------------------------------------------------------------- structure

def test_mlp_layers_and_repr():
    model = cl.MLP([2, 4, 1])
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Tanh", "Dense", "Sigmoid"]
    assert isinstance(model, cl.Sequential)
    assert model.n_params == 2 * 4 + 4 + 4 * 1 + 1
    text = repr(model)
    assert "Dense(2→4)" in text and "W (2, 4)" in text and "Sigmoid" in text
    assert "17 parameters" in text
    assert [type(m).__name__ for m in cl.MLP([2, 3, 3], output=None).layers] == \
        ["Dense", "Tanh", "Dense"]
    drop = cl.MLP([2, 8, 8, 1], activation="relu", dropout=0.2)
    assert [type(m).__name__ for m in drop.layers].count("Dropout") == 2


def test_params_and_grads_are_the_layers_own_arrays():
    model = cl.MLP([2, 3, 1])
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert list(model.grads) == list(model.params)
    assert model.params["0.W"] is model.layers[0].params["W"]
    assert model.grads["2.b"] is model.layers[2].grads["b"]
    model.params["0.W"] += 1.0                       # what an optimizer does
    np.testing.assert_array_equal(model.layers[0].params["W"], model.params["0.W"])


def test_sequential_checks_its_layers():
    with pytest.raises(cl.ShapeError, match=r"expects 5 inputs.*Dense\(2→4\) gives 4"):
        cl.Sequential([cl.Dense(2, 4), cl.Tanh(), cl.Dense(5, 1)])
    with pytest.raises(TypeError, match="is not a layer"):
        cl.Sequential([cl.Dense(2, 4), "tanh"])


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least two"):
        cl.MLP([3])
    with pytest.raises(ValueError, match="unknown output 'relu'"):
        cl.MLP([2, 1], output="relu")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        cl.MLP([2, 2, 1], activation="swish")


def test_mlp_seed_is_deterministic_and_layers_differ():
    a, b, c = cl.MLP([4, 4, 4, 1], seed=7), cl.MLP([4, 4, 4, 1], seed=7), \
        cl.MLP([4, 4, 4, 1], seed=8)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["0.W"], c.params["0.W"])
    assert not np.array_equal(a.params["0.W"], a.params["2.W"])   # own seeds


def test_mlp_float32_everywhere():
    model = cl.MLP([3, 4, 2], output=None, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in model.grads.values())
    assert model.dtype == np.float32
    out = model.forward(np.ones((2, 3), np.float32))
    assert out.dtype == np.float32
    assert model.backward(np.ones_like(out)).dtype == np.float32


# ---------------------------------------------------------------- MLP options

SHARED_LEAKY = cl.LeakyReLU(0.1)          # one instance, passed to MLP as is


@pytest.mark.parametrize("activation, alpha", [
    (SHARED_LEAKY, 0.1),                  # an instance: copied per hidden layer
    (cl.LeakyReLU, 0.01),                 # a class
    (lambda: cl.LeakyReLU(0.1), 0.1),     # a factory
    ("leaky_relu", 0.01),                 # a name
], ids=["instance", "class", "factory", "name"])
def test_mlp_activation_forms_give_each_layer_its_own_object(activation, alpha):
    """Equal hidden widths, so that a shared activation (which keeps the Z of the
    last forward) would give wrong gradients rather than a shape error."""
    rng = np.random.default_rng(0)
    model = cl.MLP([3, 4, 4, 4, 2], activation=activation, output=None, seed=0)
    for p in model.params.values():                 # nonzero biases, too
        p += rng.normal(scale=0.3, size=p.shape)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    loss_fn = cl.SoftmaxCrossEntropy()
    assert_gradients_match_finite_differences(model, loss_fn, X, y)
    assert max(cl.gradient_check(model, loss_fn, X, y).values()) < GRAD_TOL
    hidden = [layer for layer in model.layers if not isinstance(layer, cl.Dense)]
    assert [type(layer) for layer in hidden] == [cl.LeakyReLU] * 3
    assert len({id(layer) for layer in hidden}) == 3
    assert all(layer is not SHARED_LEAKY and layer.alpha == alpha for layer in hidden)


def test_mlp_copies_a_layer_that_a_factory_hands_out_twice():
    shared = cl.Tanh()
    model = cl.MLP([2, 3, 3, 1], activation=lambda: shared)
    hidden = [model.layers[1], model.layers[3]]
    assert all(isinstance(layer, cl.Tanh) for layer in hidden)
    assert hidden[0] is not hidden[1]


def test_mlp_explains_an_activation_it_cannot_use():
    with pytest.raises(TypeError, match="cannot be called without arguments.*"
                                        "lambda: cl.LeakyReLU"):
        cl.MLP([2, 3, 1], activation=cl.relu)          # a plain function of z
    with pytest.raises(TypeError, match="returned 'tanh', which is not a layer"):
        cl.MLP([2, 3, 1], activation=lambda: "tanh")
    with pytest.raises(TypeError, match="activation must be a name"):
        cl.MLP([2, 3, 1], activation=3)


def test_mlp_init_scale_is_the_std_of_normal_init():
    """Dense i draws scale * randn from SeedSequence(seed).spawn(2 * n_dense)[i]."""
    sizes, seed = [6, 5, 4, 3], 3
    model = cl.MLP(sizes, init="normal", init_scale=0.5, seed=seed)
    seeds = np.random.SeedSequence(seed).spawn(2 * (len(sizes) - 1))
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        randn = np.random.default_rng(seeds[i]).standard_normal((n_in, n_out))
        np.testing.assert_array_equal(model.params[f"{2 * i}.W"], 0.5 * randn)
    assert model.init_scale == 0.5
    big = cl.MLP([300, 200, 1], init="normal", init_scale=0.2, seed=0)
    assert np.std(big.params["0.W"]) == pytest.approx(0.2, rel=0.02)
    default = cl.MLP([300, 200, 1], init="normal", seed=0)
    assert np.std(default.params["0.W"]) == pytest.approx(0.01, rel=0.02)


def test_mlp_output_init_sets_the_last_layer_only():
    model = cl.MLP([4, 6, 3], init="he", output_init="zeros", seed=0)
    assert np.all(model.params["2.W"] == 0) and np.all(model.params["0.W"] != 0)
    assert model.output_init == "zeros"
    same = cl.MLP([4, 6, 3], init="he", output_init="he", seed=0)
    default = cl.MLP([4, 6, 3], init="he", seed=0)
    for k in default.params:
        np.testing.assert_array_equal(same.params[k], default.params[k])
    # He normal hidden layer, Glorot uniform output layer
    big = cl.MLP([400, 300, 200], init="he", output_init="xavier", output=None,
                 seed=0)
    a = np.sqrt(6 / (300 + 200))
    W_out, W_hidden = big.params["2.W"], big.params["0.W"]
    assert np.abs(W_out).max() <= a
    assert np.std(W_out) == pytest.approx(a / np.sqrt(3), rel=0.02)
    assert np.std(W_hidden) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert np.abs(W_hidden).max() > 3 * np.sqrt(2 / 400)      # normal: unbounded
    # without hidden layers the only Dense layer is the output layer
    assert np.all(cl.MLP([3, 2], init="he", output_init="zeros").params["0.W"] == 0)


def test_backward_returns_dX_through_every_layer():
    """The first layer's backward runs too, whatever it is; dX is returned."""
    rng = np.random.default_rng(4)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    seq = cl.Sequential([cl.Tanh(), cl.Dense(3, 2, seed=0)])
    seq.forward(X)
    np.testing.assert_allclose(seq.backward(G), (G @ seq.layers[1].params["W"].T)
                               * (1 - np.tanh(X) ** 2))
    model = cl.MLP([3, 4, 2], output="softmax", seed=0)
    model.forward(X)
    assert model.backward(G).shape == X.shape


def test_backward_params_fills_the_same_gradients_without_dX():
    rng = np.random.default_rng(4)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    for model in (cl.MLP([3, 4, 2], output="softmax", seed=0),
                  cl.Sequential([cl.Tanh(), cl.Dense(3, 2, seed=0)])):
        model.forward(X)
        model.backward(G)
        full = {k: g.copy() for k, g in model.grads.items()}
        model.forward(X)
        assert model.backward_params(G) is None
        for k, g in model.grads.items():
            np.testing.assert_array_equal(g, full[k])


def test_fit_asks_the_first_layer_for_its_gradients_only():
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 3, 1], seed=0)
    calls = []
    for name in ("backward", "backward_params"):
        original = getattr(model.layers[0], name)
        setattr(model.layers[0], name,
                lambda dY, f=original, n=name: calls.append(n) or f(dY))
    model.fit(X, y, loss="bce", epochs=3, progress=False)
    assert calls == ["backward_params"] * 3


# ---------------------------------------------------------------- predict

def test_predict_rules():
    X = np.array([[1.0], [-1.0], [0.2]])
    sig = cl.Sequential([cl.Dense(1, 1, init="zeros"), cl.Sigmoid()])
    sig.params["0.W"][...] = 10.0
    np.testing.assert_array_equal(sig.predict(X), [[1], [0], [1]])
    logit = cl.Sequential([cl.Dense(1, 1, init="zeros")])
    logit.params["0.W"][...] = 1.0
    logit.params["0.b"][...] = -0.5                  # logits 0.5, -1.5, -0.3
    np.testing.assert_array_equal(logit.predict(X), [[1], [0], [0]])
    multi = cl.Sequential([cl.Dense(1, 3, init="zeros")])
    multi.params["0.W"][...] = [[1.0, 0.0, -1.0]]
    np.testing.assert_array_equal(multi.predict(X), [0, 2, 0])
    assert multi.predict(X).shape == (3,) and sig.predict(X).shape == (3, 1)


def test_predict_proba_and_eval_mode():
    model = cl.MLP([2, 16, 3], activation="relu", output=None, dropout=0.5, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    P = model.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), P.argmax(axis=1))
    # predictions are deterministic (dropout off) and the mode is unchanged
    np.testing.assert_array_equal(model.predict_proba(X), P)
    assert model.training and model.layers[2].training


# ---------------------------------------------------------------- helpers for the book

def test_activations_returns_every_layer_output_without_side_effects():
    rng = np.random.default_rng(0)
    model = cl.MLP([2, 3, 1], seed=0)
    X, y = rng.normal(size=(4, 2)), np.ones((4, 1))
    model.backward(cl.MSE().grad(y, model.forward(X)))
    grads = {k: g.copy() for k, g in model.grads.items()}
    outs = model.activations(rng.normal(size=(7, 2)))
    assert [o.shape for o in outs] == [(7, 3), (7, 3), (7, 1), (7, 1)]
    np.testing.assert_allclose(outs[1], np.tanh(outs[0]))
    # gradients and forward caches untouched: backward still uses the old batch
    for k in grads:
        np.testing.assert_array_equal(model.grads[k], grads[k])
    model.backward(cl.MSE().grad(y, model.forward(X)))
    np.testing.assert_allclose(model.grads["0.W"], grads["0.W"])
    assert model.layers[0].X.shape == (4, 2)


def test_gradient_norms():
    rng = np.random.default_rng(0)
    model = cl.MLP([2, 3, 3, 1], seed=0)
    out = model.forward(rng.normal(size=(4, 2)))
    model.backward(cl.MSE().grad(np.ones((4, 1)), out))
    norms = model.gradient_norms()
    assert list(norms) == ["0.W", "2.W", "4.W"]
    for k, v in norms.items():
        assert v == pytest.approx(np.sqrt(np.sum(model.grads[k] ** 2)), rel=1e-12)


def test_snapshots_copy_get_set():
    model = cl.MLP([2, 3, 1], seed=0)
    weights = model.get_weights()
    twin = model.copy()
    model.params["0.W"] += 1.0
    assert not np.array_equal(model.params["0.W"], weights["0.W"])
    np.testing.assert_array_equal(twin.params["0.W"], weights["0.W"])   # independent
    W_array = model.params["0.W"]
    model.set_weights(weights)
    assert model.params["0.W"] is W_array                    # set in place
    np.testing.assert_array_equal(W_array, weights["0.W"])
    with pytest.raises(cl.ShapeError, match=r"0\.W must have shape \(2, 3\)"):
        model.set_weights({**weights, "0.W": np.zeros((3, 2))})
    with pytest.raises(KeyError, match="missing"):
        model.set_weights({"0.W": weights["0.W"]})


def test_train_eval_propagate_to_layers():
    model = cl.MLP([2, 4, 1], dropout=0.5)
    model.eval()
    assert not any(layer.training for layer in model.layers)
    model.train()
    assert all(layer.training for layer in model.layers)


def test_model_backward_overwrites_grads_and_never_touches_weights():
    rng = np.random.default_rng(3)
    model = cl.MLP([3, 5, 4, 2], activation="relu", output=None, seed=0)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    before = model.get_weights()
    first = model_loss_grads(model, "cross_entropy", X, y)
    second = model_loss_grads(model, "cross_entropy", X, y)
    for k in first:
        np.testing.assert_array_equal(first[k], second[k])      # not doubled
        np.testing.assert_array_equal(model.params[k], before[k])
    # a half batch gives the half batch's gradient, not a sum with the old one
    half = model_loss_grads(model, "cross_entropy", X[:3], y[:3])
    fresh = cl.MLP([3, 5, 4, 2], activation="relu", output=None, seed=0)
    expected = model_loss_grads(fresh, "cross_entropy", X[:3], y[:3])
    for k in half:
        np.testing.assert_allclose(half[k], expected[k], rtol=1e-14)
