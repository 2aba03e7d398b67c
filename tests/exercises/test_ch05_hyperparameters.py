"""Graded tests for chapter 5: the engine at any depth, optimizer objects, schedules.

Oracles: rows labelled by their own index (so a batch shows which examples it
holds and whether inputs stayed with their targets), optimizer steps worked
out by hand, the network's formula with finite differences of the loss for
training, and hand-worked sequences for the schedules. The learner's layers
of chapters 1-4 come from the reference files when those exist.

``Rng(seed)`` stands for a fresh ``np.random.default_rng(seed)`` in the
student's worker (see ``course_lib.grading.checking.remote.Rng``).
"""

import math

import numpy as np
import pytest
from engine_io import read_dict, set_params
from expected import expected

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import RemoteObject, Rng, StudentError

# ---------------------------------------------------------------- minibatches


def _collect(ch05, X, y, batch_size, seed):
    """Every (X_batch, y_batch) that the student's iterator yields, in order."""
    out = ch05.iterate_minibatches(X, y, batch_size, Rng(seed))
    limit = X.shape[0] + 5
    if isinstance(out, list | tuple):
        batches = list(out)
    elif isinstance(out, RemoteObject):
        it = out.call("__iter__").value
        batches = []
        while len(batches) <= limit:
            try:
                batches.append(it.call("__next__").value)
            except StudentError as exc:
                if exc.is_a("StopIteration"):
                    break
                raise
    else:
        fb.fail("iterate_minibatches must yield (X_batch, y_batch) pairs (use "
                f"`yield` in a loop); it returned {fb.describe_type(out)}.")
    if len(batches) > X.shape[0]:
        fb.fail(f"iterate_minibatches yielded more than {X.shape[0]} batches for "
                f"{X.shape[0]} examples: one pass must cover each example once.")
    for b in batches:
        fb.unpack("each batch", b, 2, ("X_batch", "y_batch"))
    return [(fb.as_array("X_batch", xb), fb.as_array("y_batch", yb))
            for xb, yb in batches]


def _labelled(n, d=3):
    """Row i of X is i + [0, 0.1, 0.2, ...]; y[i] = i."""
    X = np.arange(n, dtype=float)[:, None] + 0.1 * np.arange(d)[None, :]
    return X, np.arange(n)


@pytest.mark.points(2)
def test_iterate_minibatches__covers_every_example_once(ch05):
    X, y = _labelled(10)
    batches = _collect(ch05, X, y, 4, seed=0)
    seen = np.concatenate([yb.ravel() for _, yb in batches]) if batches else []
    if sorted(seen.tolist() if len(seen) else []) != list(range(10)):
        fb.fail(f"One pass over 10 examples with batch_size=4 must yield every "
                f"example exactly once; the targets you yielded were "
                f"{fb.show(np.asarray(seen))}. Take one permutation of the indices "
                "and slice it.")
    sizes = [len(yb) for _, yb in batches]
    if sizes != [4, 4, 2]:
        fb.fail(f"Batch sizes for N=10, batch_size=4 must be [4, 4, 2], got {sizes}.")


@pytest.mark.points(2)
def test_iterate_minibatches__inputs_stay_with_targets(ch05):
    X, y = _labelled(12, d=2)
    for xb, yb in _collect(ch05, X, y, 5, seed=1):
        fb.check_shape("X_batch", xb, (len(yb), 2))
        if not np.array_equal(np.round(xb[:, 0]).astype(int), yb.astype(int)):
            fb.fail("An input is paired with another example's target (X_batch rows "
                    f"{fb.show(xb[:, 0])}, y_batch {fb.show(yb)}): index X and y "
                    "with the same permutation, not two separate shuffles.")


@pytest.mark.points(1)
def test_iterate_minibatches__shuffled_and_reproducible(ch05):
    X, y = _labelled(50, d=1)
    order_a = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=3)])
    order_b = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=3)])
    order_c = np.concatenate([yb for _, yb in _collect(ch05, X, y, 50, seed=4)])
    if np.array_equal(order_a, np.arange(50)):
        fb.fail("The examples come out in their original order: shuffle them with "
                "rng.permutation(N) each epoch.")
    if not np.array_equal(order_a, order_b):
        fb.fail("Two passes with generators of the same seed gave different orders: "
                "take all randomness from the rng argument.")
    if np.array_equal(order_a, order_c):
        fb.fail("Seeds 3 and 4 gave the same order: use the rng you are given.")


@pytest.mark.points(1)
def test_iterate_minibatches__last_batch_smaller(ch05):
    X, y = _labelled(10)
    sizes = [len(yb) for _, yb in _collect(ch05, X, y, 3, seed=5)]
    if sizes != [3, 3, 3, 1]:
        fb.fail(f"N=10, batch_size=3 must give batches of sizes [3, 3, 3, 1] (the last "
                f"one smaller, none dropped); got {sizes}.")
    sizes = [len(yb) for _, yb in _collect(ch05, X, y, 32, seed=5)]
    if sizes != [10]:
        fb.fail("A batch_size larger than N=10 must give one batch of 10; "
                f"got {sizes}.")


# ---------------------------------------------------------------- Sequential


def _model(ch05, sizes=(2, 5, 1), seed=0):
    """A learner's Sequential of Dense/Tanh/.../Sigmoid with known parameters."""
    rng = np.random.default_rng(500 + seed)
    layers, known = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = ch05.Dense(a, b, seed=seed + i)
        W, bias = rng.normal(size=(a, b)), rng.normal(scale=0.5, size=b)
        set_params(layer, W=W, b=bias)
        known.append((W, bias))
        layers += [layer, ch05.Tanh() if i < len(sizes) - 2 else ch05.Sigmoid()]
    return ch05.Sequential(layers), known, layers


def _flat_entry(model, name, key):
    """``model.<name>[key]`` as an array, or a Feedback naming the protocol."""
    got = getattr(model, name)
    if not isinstance(got, dict) or key not in got:
        fb.fail(f"model.{name} must be a dict keyed '<layer index>.<name>' "
                f"(such as '{key}'); got "
                + (f"the keys {list(got)}." if isinstance(got, dict)
                   else f"{fb.describe_type(got)}."))
    return fb.as_array(f"{name}['{key}']", got[key])


def _layer_params(layers):
    return [read_dict(layer, "params", ("W", "b"), "a Dense layer")
            for layer in layers[::2]]


@pytest.mark.points(1)
def test_Sequential_flat__keys_and_values(ch05):
    model, known, _ = _model(ch05, (3, 4, 2, 1))
    got = model.params
    keys = ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    if not isinstance(got, dict) or list(got) != keys:
        fb.fail(f"model.params must be a dict with the keys {keys} in this order "
                f"for Dense, Tanh, Dense, Tanh, Dense, Sigmoid; got "
                + (f"the keys {list(got)}." if isinstance(got, dict)
                   else f"{fb.describe_type(got)}."),
                rule="key = f'{index of the layer}.{name of the parameter}'; layers "
                "without parameters add no key.")
    for n, (W, b) in zip((0, 2, 4), known):
        fb.check_close(f"params['{n}.W']", got[f"{n}.W"], W, rtol=0)
        fb.check_close(f"params['{n}.b']", got[f"{n}.b"], b, rtol=0)


@pytest.mark.points(1)
def test_Sequential_flat__arrays_are_the_layers_own(ch05):
    model, known, layers = _model(ch05, seed=1)
    X = np.random.default_rng(51).normal(size=(4, 2))
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    y_hat = model.forward(X)
    model.backward(ch05.BinaryCrossEntropy().grad(y, y_hat))
    g0 = _flat_entry(model, "grads", "0.W")
    model.step(ch05.SGD(0.5))
    after = _layer_params(layers)
    if all(np.array_equal(p["W"], W) for p, (W, _) in zip(after, known)):
        fb.fail("An optimizer step on model.params left the layers' weights "
                "unchanged: model.params must hold the layers' own arrays, not "
                "copies.", rule="params[f'{i}.{k}'] is layers[i].params[k] (the "
                "same object), so an in-place update reaches the layer.")
    W0 = known[0][0]
    fb.check_close("the first layer's W after one step", after[0]["W"],
                   W0 - 0.5 * g0, rtol=1e-9,
                   hint="One gradient step with learning rate 0.5.")


# ---------------------------------------------------------------- SGD

SGD_RULE = ("For each key: v = momentum * v - lr * g (v starts at 0), then w = w + v, "
            "in place.")


def _steps(opt, params, grads_list):
    """Each step's params as the learner's step left them (it works in place)."""
    out = []
    for grads in grads_list:
        res = opt.call("step", params, grads)
        params = res.args[0]
        if not isinstance(params, dict):
            fb.fail("step must update the dict of parameters it is given.")
        out.append({k: fb.as_array(k, v) for k, v in params.items()})
    return out


@pytest.mark.points(2)
def test_SGD_step__hand_worked_two_steps(ch05):
    params = {"a": np.array([1.0, -2.0]), "b": np.array([[0.5]])}
    g1 = {"a": np.array([0.5, 1.0]), "b": np.array([[2.0]])}
    g2 = {"a": np.array([1.0, 0.0]), "b": np.array([[-1.0]])}
    first, second = _steps(ch05.SGD(0.1, momentum=0.9), params, [g1, g2])
    if np.allclose(first["a"], params["a"]):
        fb.fail("SGD.step left the parameters unchanged: update the arrays of "
                "params in place.", rule=SGD_RULE)
    fb.check_close("params['a'] after one step", first["a"], [0.95, -2.1], rtol=1e-9,
                   context="(lr 0.1, momentum 0.9)", rule=SGD_RULE,
                   factors={-1.0: "the step goes uphill: subtract lr * g."})
    fb.check_close("params['a'] after two steps", second["a"], [0.805, -2.19],
                   rtol=1e-9, context="(lr 0.1, momentum 0.9)",
                   hint="The second step adds momentum times the first step.",
                   rule=SGD_RULE)
    fb.check_close("params['b'] after two steps", second["b"], [[0.22]], rtol=1e-9,
                   context="(lr 0.1, momentum 0.9)",
                   hint="Each parameter has its own velocity.", rule=SGD_RULE)


@pytest.mark.points(1)
def test_SGD_step__each_parameter_its_own_velocity(ch05):
    params = {"x": np.zeros(3), "y": np.zeros(3)}
    grads = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array([-1.0, 0.0, 4.0])}
    _, second = _steps(ch05.SGD(1.0, momentum=0.5), params, [grads, grads])
    for k in "xy":
        fb.check_close(f"params['{k}'] after two steps", second[k],
                       -2.5 * grads[k], rtol=1e-9,
                       context="(lr 1, momentum 0.5, the same gradient twice)",
                       hint="Two parameters of the same shape must not share one "
                       "velocity.", rule=SGD_RULE)


@pytest.mark.points(1)
def test_SGD_step__momentum_zero_is_gradient_descent(ch05):
    rng = np.random.default_rng(52)
    w, g = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    (got,) = _steps(ch05.SGD(0.3), {"W": w}, [{"W": g}])
    fb.check_close("params['W']", got["W"], w - 0.3 * g, rtol=1e-9,
                   context="with the default momentum 0 (w - lr g)", rule=SGD_RULE)


@pytest.mark.points(1)
def test_SGD_step__updates_the_models_own_arrays(ch05):
    model, known, layers = _model(ch05, seed=4)
    X = np.random.default_rng(54).normal(size=(4, 2))
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    model.backward(ch05.BinaryCrossEntropy().grad(y, model.forward(X)))
    g = _flat_entry(model, "grads", "2.W")
    model.step(ch05.SGD(0.2))
    W = _layer_params(layers)[1]["W"]
    if np.array_equal(W, known[1][0]):
        fb.fail("After model.step(SGD(...)) the second layer's W is unchanged: "
                "update each array of params in place (p -= ..., p += ... or "
                "p[...] = ...); assigning params[key] = ... only changes the dict.",
                rule=SGD_RULE)
    fb.check_close("the second layer's W", W, known[1][0] - 0.2 * g, rtol=1e-9,
                   context="after one step with lr 0.2", rule=SGD_RULE)


# ---------------------------------------------------------------- Adam

ADAM_RULE = ("m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, m_hat = m / (1 - b1^t), "
             "v_hat = v / (1 - b2^t), w = w - lr m_hat / (sqrt(v_hat) + eps); t counts "
             "the step calls from 1; every key has its own m and v.")


@pytest.mark.points(1)
def test_Adam_step__first_step_is_lr_times_sign(ch05):
    params = {"W": np.zeros((1, 3))}
    grads = {"W": np.array([[3.0, -0.5, 1e-3]])}
    (got,) = _steps(ch05.Adam(lr=0.1), params, [grads])
    fb.check_close("params['W']", got["W"], [[-0.1, 0.1, -0.1]], rtol=1e-4,
                   context="after the first step from 0 with lr = 0.1",
                   hint="With the bias correction, the first step is lr times the "
                   "sign of the gradient, whatever its size.", rule=ADAM_RULE)


@pytest.mark.points(2)
def test_Adam_step__hand_worked_two_steps(ch05):
    params = {"w": np.array([0.0])}
    _, second = _steps(ch05.Adam(lr=0.1), params,
                       [{"w": np.array([1.0])}, {"w": np.array([0.5])}])
    fb.check_close("params['w'] after two steps", second["w"],
                   [-0.19321796170183891], rtol=1e-7,
                   context="(lr 0.1, default betas, gradients 1 then 0.5)",
                   hint="The second step is smaller than the first: its gradient "
                   "is half as large.", rule=ADAM_RULE)


@pytest.mark.points(1)
def test_Adam_step__each_parameter_its_own_moments(ch05):
    params = {"x": np.zeros(2), "y": np.zeros(2)}
    g = [{"x": np.array([1.0, 1.0]), "y": np.array([-4.0, 0.25])},
         {"x": np.array([0.5, 0.5]), "y": np.array([-4.0, 0.25])}]
    _, second = _steps(ch05.Adam(lr=0.1), params, g)
    fb.check_close("params['x'] after two steps", second["x"],
                   [-0.19321796170183891] * 2, rtol=1e-7,
                   context="(the same gradients as the hand-worked case)",
                   hint="Each key keeps its own m and v; t counts calls to step, "
                   "not parameters.", rule=ADAM_RULE)
    fb.check_close("params['y'] after two steps", second["y"], [0.2, -0.2],
                   rtol=1e-6, context="(a constant gradient: two steps of lr times "
                   "its sign)", rule=ADAM_RULE)


# ---------------------------------------------------------------- train

TRAIN_RULE = ("One generator from the seed for the whole run; per epoch one call of "
              "iterate_minibatches; per batch forward, loss, backward, "
              "model.step(optimizer); the epoch's loss is the size-weighted mean of "
              "its batch losses, each taken before its step.")


def _train_case(n=6):
    rng = np.random.default_rng(53)
    X = rng.normal(size=(n, 2))
    y = (rng.random((n, 1)) < 0.5).astype(float)
    return X, y


@pytest.mark.points(2)
def test_train__full_batch_is_gradient_descent(ch05):
    X, y = _train_case()
    model, known, layers = _model(ch05, seed=2)
    got = ch05.train(model, ch05.BinaryCrossEntropy(), ch05.SGD(0.5), X, y, 3, 6, 0)
    params, losses = expected("ch05", "train", "full batch, 3 epochs", known, X, y,
                              0.5, [np.arange(6)] * 3)
    if not isinstance(got, list | tuple):
        fb.fail(f"train must return the list of the epochs' losses; got "
                f"{fb.describe_type(got)}.")
    fb.check_close("the epochs' losses", np.asarray(got, dtype=float),
                   [ls for ls, _ in losses], rtol=1e-6,
                   context="(3 epochs, one batch of all 6 examples, SGD lr 0.5)",
                   hint="Each epoch's loss is taken before that epoch's steps.",
                   rule=TRAIN_RULE)
    W = _layer_params(layers)[0]["W"]
    fb.check_close("the first layer's W after training", W, params[0][0],
                   rtol=1e-5, atol=1e-8, context="(3 full-batch steps)",
                   rule=TRAIN_RULE)


@pytest.mark.points(2)
def test_train__mini_batches_in_the_generators_order(ch05):
    X, y = _train_case()
    model, known, layers = _model(ch05, seed=3)
    got = ch05.train(model, ch05.BinaryCrossEntropy(), ch05.SGD(0.5), X, y, 2, 4, 7)
    rng = np.random.default_rng(7)
    batches = []
    for _ in range(2):
        order = rng.permutation(6)
        batches += [order[:4], order[4:]]
    params, losses = expected("ch05", "train", "batches of 4 and 2, seed 7", known,
                              X, y, 0.5, batches)
    want = [(losses[0][0] * 4 + losses[1][0] * 2) / 6,
            (losses[2][0] * 4 + losses[3][0] * 2) / 6]
    W = _layer_params(layers)[0]["W"]
    fb.check_close("the first layer's W after training", W, params[0][0],
                   rtol=1e-5, atol=1e-8,
                   context="(2 epochs of batches of 4 and 2, SGD lr 0.5, seed 7)",
                   hint="One step per batch, in the order iterate_minibatches gives "
                   "them, with one generator for the whole run.", rule=TRAIN_RULE)
    fb.check_close("the epochs' losses", np.asarray(got, dtype=float), want,
                   rtol=1e-6, context="(batches of 4 and 2)",
                   hint="A batch of 2 counts half as much as a batch of 4.",
                   rule=TRAIN_RULE)


# ---------------------------------------------------------------- schedules


@pytest.mark.points(1)
def test_exponential_decay__first_epochs(ch05):
    got = [fb.as_float("lr", ch05.exponential_decay(0.1, e, 0.5)) for e in range(4)]
    expected = [0.1, 0.05, 0.025, 0.0125]
    if np.allclose(got, [0.05, 0.025, 0.0125, 0.00625]):
        fb.fail("Off by one epoch: epoch 0 must give lr0 itself (rate ** 0 = 1).")
    fb.check_close("lr", np.array(got), np.array(expected), rtol=1e-12,
                   context="for lr0 = 0.1, rate = 0.5, epochs 0..3",
                   hint="lr = lr0 * rate ** epoch.")


@pytest.mark.points(1)
def test_exponential_decay__late_epoch(ch05):
    got = fb.as_float("lr", ch05.exponential_decay(0.3, 50, 0.9))
    fb.check_close("lr", got, 0.3 * math.exp(50 * math.log(0.9)), rtol=1e-9,
                   factors={0.9: "off by one epoch: epoch 0 must give lr0 itself.",
                            1 / 0.9: "off by one epoch: epoch e uses rate ** e."},
                   context="for lr0 = 0.3, rate = 0.9, epoch 50")


# ---------------------------------------------------------------- early stopping


def _check_stop(ch05, losses, patience, expected, why):
    got = ch05.early_stopping_epoch(list(losses), patience)
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        fb.fail(f"early_stopping_epoch must return an int (an epoch index), got "
                f"{fb.describe_type(got)}.")
    if int(got) != expected:
        off = int(got) - expected
        more = (" (off by one: count the epochs without improvement after the best "
                "one, and stop at the epoch where that count reaches patience)"
                if abs(off) == 1 else "")
        fb.fail(f"For val_losses = {list(losses)} and patience = {patience} training "
                f"stops after epoch {expected} ({why}); you returned {int(got)}"
                f"{more}.")


@pytest.mark.points(1)
def test_early_stopping_epoch__docstring_example(ch05):
    _check_stop(ch05, [1.0, 0.8, 0.9, 0.85, 0.7], 2, 3,
                "the best loss is at epoch 1 and epochs 2 and 3 do not improve")


@pytest.mark.points(1)
def test_early_stopping_epoch__never_triggered(ch05):
    _check_stop(ch05, [5.0, 4.0, 3.5, 3.6, 3.0, 2.0], 2, 5,
                "no two epochs in a row fail to improve, so training runs to the "
                "last epoch, index len - 1")


@pytest.mark.points(1)
def test_early_stopping_epoch__ties_do_not_improve(ch05):
    _check_stop(ch05, [1.0, 1.0, 1.0, 0.5], 2, 2,
                "an equal loss is not an improvement: epochs 1 and 2 do not improve "
                "on epoch 0")


@pytest.mark.points(1)
def test_early_stopping_epoch__patience_one(ch05):
    _check_stop(ch05, [3.0, 2.0, 2.5, 1.0], 1, 2,
                "with patience 1 the first epoch without improvement ends training")
