"""fit / evaluate / History: learning, determinism, early stopping, clipping, L2,
divergence, validation of arguments, progress output and dtypes."""

from __future__ import annotations

import time

import numpy as np
import pytest

import course_lib as cl
from course_lib.training import _clip

# ---------------------------------------------------------------- learning


@pytest.mark.slow
def test_xor_is_solved_from_nearly_every_seed():
    """MLP([2, 4, 1]), tanh hidden, Xavier init, sigmoid output, BCE, full-batch
    SGD(lr=1.0) for 1000 epochs: at least 9 of 10 seeds classify all 4 points
    (all 10 do, also with MSE instead of BCE, and already after 500 epochs)."""
    X, y = cl.datasets.xor()
    solved = []
    for seed in range(10):
        model = cl.MLP([2, 4, 1], activation="tanh", init="xavier", seed=seed)
        model.fit(X, y, loss="bce", optimizer=cl.SGD(1.0), epochs=1000,
                  progress=False)
        solved.append(bool(np.all(model.predict(X) == y)))
    assert sum(solved) >= 9, solved


def test_a_linear_model_cannot_solve_xor():
    X, y = cl.datasets.xor()
    model = cl.Sequential([cl.Dense(2, 1, seed=0), cl.Sigmoid()])
    model.fit(X, y, loss="bce", optimizer=cl.SGD(1.0), epochs=2000, progress=False)
    assert np.sum(model.predict(X) == y) <= 3


@pytest.mark.slow
def test_digits_reach_97_percent():
    """64-64-10 ReLU (He init) + SoftmaxCrossEntropy + Adam(3e-3), batch 32,
    30 epochs, stratified 75/25 split, standardised with training statistics:
    median test accuracy over 5 seeds >= 97%."""
    X, y = cl.datasets.digits()
    accuracies = []
    for seed in range(5):
        X_tr, X_te, y_tr, y_te = cl.datasets.train_test_split(
            X, y, test_size=0.25, seed=seed, stratify=True)
        X_tr, X_te = cl.datasets.standardize(X_tr, X_te)
        model = cl.MLP([64, 64, 10], activation="relu", output=None, init="he",
                       seed=seed)
        model.fit(X_tr, y_tr, loss=cl.SoftmaxCrossEntropy(), optimizer=cl.Adam(3e-3),
                  epochs=30, batch_size=32, seed=seed, progress=False)
        accuracies.append(float(np.mean(model.predict(X_te) == y_te)))
    assert np.median(accuracies) >= 0.97, accuracies


def test_spirals_learn_with_minibatches_and_validation():
    X, y = cl.datasets.spirals(n=300, noise=0.1, seed=0)
    X_tr, X_val, y_tr, y_val = cl.datasets.train_test_split(X, y, seed=0)
    model = cl.MLP([2, 32, 32, 3], activation="relu", output=None, init="he", seed=0)
    h = model.fit(X_tr, y_tr, loss="cross_entropy", optimizer=cl.Adam(0.01),
                  epochs=150, batch_size=32, validation_data=(X_val, y_val), seed=0,
                  progress=False)
    assert len(h.loss) == len(h.val_loss) == len(h.accuracy) == 150
    assert h.loss[-1] < 0.5 * h.loss[0]
    assert h.val_accuracy[-1] > 0.85
    res = model.evaluate(X_val, y_val, "cross_entropy")
    assert res["accuracy"] == pytest.approx(h.val_accuracy[-1])
    assert res["loss"] == pytest.approx(h.val_loss[-1])


def test_history_accuracy_matches_predictions_full_batch():
    X, y = cl.datasets.moons(n=100, seed=1)
    model = cl.MLP([2, 8, 1], seed=1)
    h = model.fit(X, y, loss="bce", optimizer=cl.SGD(0.5), epochs=1, progress=False)
    # one full-batch epoch: accuracy is measured before the single update
    before = cl.MLP([2, 8, 1], seed=1)
    assert h.accuracy[0] == pytest.approx(np.mean(before.predict(X) == y))
    expected = cl.BinaryCrossEntropy().loss(y, before.forward(X))
    assert h.loss[0] == pytest.approx(expected)


def test_accuracy_of_a_multi_output_sigmoid_model_is_per_label():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    Y = rng.integers(0, 2, size=(20, 2)).astype(float)
    before = cl.MLP([3, 4, 2], seed=0)
    h = cl.MLP([3, 4, 2], seed=0).fit(X, Y, loss="bce", optimizer=cl.SGD(0.1),
                                      epochs=1, progress=False)
    assert h.accuracy[0] == pytest.approx(np.mean((before.forward(X) > 0.5) == Y))


# ---------------------------------------------------------------- determinism

def train_once(seed):
    X, y = cl.datasets.moons(n=120, noise=0.2, seed=3)
    model = cl.MLP([2, 16, 16, 1], activation="relu", init="he", seed=seed,
                   dropout=0.2)
    h = model.fit(X, y, loss="bce", optimizer=cl.Adam(0.01), epochs=15,
                  batch_size=16, seed=seed, progress=False)
    return model, h


def test_same_seed_same_run_bit_for_bit():
    (m1, h1), (m2, h2) = train_once(4), train_once(4)
    assert h1.loss == h2.loss and h1.accuracy == h2.accuracy
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k])
    m3, h3 = train_once(5)
    assert h3.loss != h1.loss


# ---------------------------------------------------------------- early stopping

def test_early_stopping_restores_the_best_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X[:, :1] + rng.normal(scale=0.5, size=(40, 1)) > 0).astype(float)
    X_val = rng.normal(size=(40, 5))
    y_val = (X_val[:, :1] > 0).astype(float)
    model = cl.MLP([5, 64, 1], activation="tanh", seed=0)
    snapshots = {}

    def remember(epoch, m, history):
        snapshots[epoch] = m.get_weights()

    h = model.fit(X, y, loss="bce", optimizer=cl.Adam(0.05), epochs=300,
                  validation_data=(X_val, y_val), early_stopping=5,
                  callback=remember, progress=False)
    assert h.stopped_epoch is not None and h.stopped_epoch < 300
    best = int(np.argmin(h.val_loss)) + 1
    assert h.best_epoch == best
    assert h.stopped_epoch == best + 5
    assert len(h.val_loss) == h.stopped_epoch
    for k, w in snapshots[best].items():
        np.testing.assert_array_equal(model.params[k], w)
    assert model.evaluate(X_val, y_val, "bce")["loss"] == pytest.approx(
        h.val_loss[best - 1], rel=1e-12)


def test_without_validation_early_stopping_watches_training_loss():
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 4, 1], seed=0)
    h = model.fit(X, y, loss="bce", optimizer=cl.SGD(50.0), epochs=400,
                  early_stopping=3, progress=False)
    assert h.monitor == "loss"
    assert h.best_epoch == int(np.argmin(h.loss)) + 1


# ---------------------------------------------------------------- clipping and L2

def test_clip_norm_bounds_the_global_norm():
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(3, 4)) * 10, "b": rng.normal(size=4) * 10}
    before = {k: g.copy() for k, g in grads.items()}
    norm_before = np.sqrt(sum(np.sum(g ** 2) for g in before.values()))
    returned = _clip(grads, 1.0)
    assert returned == pytest.approx(norm_before)
    norm_after = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    assert norm_after == pytest.approx(1.0, rel=1e-12)
    for k in grads:                                  # direction kept
        np.testing.assert_allclose(grads[k] * norm_before, before[k], rtol=1e-12)
    small = {"a": np.array([0.3, 0.4])}
    _clip(small, 1.0)
    np.testing.assert_array_equal(small["a"], [0.3, 0.4])


def test_clip_norm_in_fit_limits_each_step():
    """With plain SGD the parameter change per step is lr * clipped gradient."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 100.0             # unscaled inputs: huge gradients
    y = X @ np.array([[3.0], [-2.0]])
    lr, clip = 1e-3, 0.5
    start_model = cl.Sequential([cl.Dense(2, 8, seed=0), cl.Tanh(), cl.Dense(8, 1)])
    start = start_model.get_weights()
    steps = []

    def record(epoch, m, history):
        steps.append(m.get_weights())

    model = start_model.copy()
    model.fit(X, y, loss="mse", optimizer=cl.SGD(lr), epochs=5, clip_norm=clip,
              callback=record, progress=False)
    prev = start
    for w in steps:
        delta = np.sqrt(sum(np.sum((w[k] - prev[k]) ** 2) for k in w))
        assert delta == pytest.approx(lr * clip, rel=1e-9)   # clipped every step
        prev = w
    # without clipping the first step is far larger
    free = start_model.copy()
    free.fit(X, y, loss="mse", optimizer=cl.SGD(lr), epochs=1, progress=False)
    w = free.get_weights()
    assert np.sqrt(sum(np.sum((w[k] - start[k]) ** 2) for k in w)) > 100 * lr * clip


def test_l2_adds_l2_W_to_weight_gradients_only():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    lam, lr = 0.3, 0.01
    model = cl.MLP([3, 4, 1], output=None, seed=0)
    for k, p in model.params.items():
        if k.endswith("b"):
            p += 0.5                                 # biases must not be penalised
    start = model.get_weights()
    out = model.forward(X)
    model.backward(cl.MSE().grad(y, out))
    plain = {k: g.copy() for k, g in model.grads.items()}
    h = model.fit(X, y, loss="mse", optimizer=cl.SGD(lr), epochs=1, l2=lam,
                  progress=False)
    for k, w in model.get_weights().items():
        extra = lam * start[k] if k.endswith("W") else 0.0
        np.testing.assert_allclose(w, start[k] - lr * (plain[k] + extra), rtol=1e-12)
    penalty = 0.5 * lam * sum(np.sum(start[k] ** 2) for k in start if k.endswith("W"))
    assert h.loss[0] == pytest.approx(cl.MSE().loss(y, out) + penalty, rel=1e-12)


def test_a_flat_loss_is_not_an_improvement():
    """Zero data and zero weights: the gradient is 0 and the loss stays 0 forever;
    early stopping must count that as no improvement and stop after patience."""
    model = cl.Sequential([cl.Dense(2, 1, init="zeros")])
    h = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), loss="mse",
                  optimizer=cl.SGD(0.1), epochs=50, early_stopping=3, progress=False)
    assert h.loss[:4] == [0.0] * 4
    assert h.best_epoch == 1 and h.stopped_epoch == 4


# ---------------------------------------------------------------- mini-batches

def batches_seen(shuffle, seed, batch_size=4, epochs=2):
    X = np.arange(10, dtype=float).reshape(-1, 1)
    model = cl.Sequential([cl.Dense(1, 1, seed=0)])
    seen, forward = [], model.layers[0].forward

    def spy(X_batch):
        if X_batch.shape[0] != 10:                  # skip fit's one-off full check
            seen.append(X_batch[:, 0].astype(int).tolist())
        return forward(X_batch)

    model.layers[0].forward = spy
    model.fit(X, X, loss="mse", optimizer=cl.SGD(0.01), epochs=epochs,
              batch_size=batch_size, shuffle=shuffle, seed=seed, progress=False)
    return seen


def test_minibatches_cover_every_sample_once_per_epoch():
    seen = batches_seen(shuffle=True, seed=0)
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    for epoch in (seen[:3], seen[3:]):
        assert sorted(sum(epoch, [])) == list(range(10))
    assert seen[:3] != seen[3:]                      # reshuffled every epoch


def test_shuffling_follows_the_seed_and_can_be_switched_off():
    assert batches_seen(True, 1) == batches_seen(True, 1)
    assert batches_seen(True, 1) != batches_seen(True, 2)
    assert batches_seen(False, 1) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] * 2


# ---------------------------------------------------------------- divergence

def test_divergence_names_the_epoch_and_the_learning_rate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * 10
    y = X @ np.array([[1.0], [2.0], [3.0]])
    model = cl.Sequential([cl.Dense(3, 1, seed=0)])
    with pytest.raises(cl.DivergenceError, match=r"epoch \d+.*smaller learning rate "
                       r"\(lr=5\)") as info:
        model.fit(X, y, loss="mse", optimizer=cl.SGD(5.0), epochs=500, progress=False)
    epoch = int(str(info.value).split("epoch ")[1].split(":")[0])
    assert 1 < epoch < 500
    assert isinstance(info.value, FloatingPointError)


def test_divergence_epoch_is_the_first_bad_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * 10
    y = X @ np.array([[1.0], [2.0], [3.0]])
    losses = []

    def record(epoch, m, history):
        losses.append(history.loss[-1])

    model = cl.Sequential([cl.Dense(3, 1, seed=0)])
    with pytest.raises(cl.DivergenceError) as info:
        model.fit(X, y, loss="mse", optimizer=cl.SGD(5.0), epochs=500,
                  callback=record, progress=False)
    assert f"epoch {len(losses) + 1}:" in str(info.value)
    assert all(np.isfinite(losses))


# ---------------------------------------------------------------- arguments

@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 2.5}, "epochs must be a positive integer"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"loss": None}, "give a loss"),
    ({"l2": -1.0}, "l2 must be >= 0"),
    ({"clip_norm": 0.0}, "clip_norm > 0"),
    ({"loss": "hinge"}, "unknown loss"),
    ({"optimizer": "lbfgs"}, "unknown optimizer"),
])
def test_bad_fit_arguments(kwargs, message):
    X, y = cl.datasets.xor()
    args = {"loss": "bce", "optimizer": "sgd", "epochs": 1, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        cl.MLP([2, 2, 1]).fit(X, y, **args)


def test_bad_fit_data():
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 2, 1])
    fit = dict(loss="bce", optimizer="sgd", epochs=1, progress=False)
    with pytest.raises(cl.ShapeError, match=r"same number of rows.*\(4, 2\).*\(3, 1\)"):
        model.fit(X, y[:3], **fit)
    with pytest.raises(cl.ShapeError, match=r"X must have shape \(N, 2\).*\(4, 3\)"):
        model.fit(np.ones((4, 3)), y, **fit)
    with pytest.raises(cl.ShapeError, match=r"X must be 2-D.*reshape"):
        model.fit(np.ones(4), y, **fit)
    with pytest.raises(ValueError, match="X contains NaN"):
        model.fit(np.where(X == 1, np.nan, X), y, **fit)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.ones((0, 2)), np.ones((0, 1)), **fit)
    with pytest.raises(cl.ShapeError, match=r"reshape y with y\.reshape\(-1, 1\)"):
        model.fit(X, y.ravel(), **fit)


def test_softmax_output_with_softmax_cross_entropy_is_explained():
    X, y = cl.datasets.spirals(n=30)
    model = cl.MLP([2, 4, 3], output="softmax")
    with pytest.raises(ValueError, match="takes logits.*output=None"):
        model.fit(X, y, loss="cross_entropy", epochs=1, progress=False)


def test_bce_on_a_logits_model_is_explained():
    X, y = cl.datasets.xor()
    with pytest.raises(ValueError, match="probabilities.*from_logits=True"):
        cl.MLP([2, 4, 1], output=None).fit(X, y, loss="bce", epochs=1, progress=False)
    with pytest.raises(ValueError, match="takes logits.*ends with a Sigmoid"):
        cl.MLP([2, 4, 1]).fit(X, y, loss=cl.BinaryCrossEntropy(from_logits=True),
                              epochs=1, progress=False)


def test_bce_from_logits_trains_a_logits_model():
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 4, 1], output=None, seed=0)
    h = model.fit(X, y, loss=cl.BinaryCrossEntropy(from_logits=True),
                  optimizer=cl.SGD(1.0), epochs=2000, progress=False)
    assert h.accuracy[-1] == 1.0
    np.testing.assert_array_equal(model.predict(X), y)


# ---------------------------------------------------------------- callbacks, progress

def test_callback_can_stop_training_and_sees_history():
    X, y = cl.datasets.xor()
    seen = []

    def cb(epoch, model, history):
        seen.append((epoch, len(history.loss)))
        return epoch == 3

    h = cl.MLP([2, 3, 1]).fit(X, y, loss="bce", epochs=10, callback=cb,
                              progress=False)
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert h.stopped_epoch == 3 and h.epochs == [1, 2, 3]


@pytest.mark.parametrize("value", [True, np.True_, np.float64(0.05) < 0.1, 1, "stop",
                                   [0]], ids=repr)
def test_callback_stops_on_any_true_value(value):
    X, y = cl.datasets.xor()
    h = cl.MLP([2, 3, 1]).fit(X, y, loss="bce", epochs=10, progress=False,
                              callback=lambda epoch, m, hist: value if epoch == 2
                              else None)
    assert h.stopped_epoch == 2 and h.epochs == [1, 2]


@pytest.mark.parametrize("value", [None, False, np.False_, 0, ""], ids=repr)
def test_callback_false_values_carry_on(value):
    X, y = cl.datasets.xor()
    h = cl.MLP([2, 3, 1]).fit(X, y, loss="bce", epochs=5, progress=False,
                              callback=lambda epoch, m, hist: value)
    assert h.stopped_epoch is None and len(h) == 5


def test_callback_stopping_on_a_numpy_comparison():
    """The natural 'stop when solved' callback returns numpy's bool, not True."""
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 4, 1], seed=0)

    def solved(epoch, m, history):
        return (m.predict(X) == y).all()                  # np.bool_

    h = model.fit(X, y, loss="bce", optimizer=cl.SGD(1.0), epochs=5000,
                  callback=solved, progress=False)
    assert h.stopped_epoch is not None and h.stopped_epoch < 5000
    assert len(h) == h.stopped_epoch
    np.testing.assert_array_equal(model.predict(X), y)


def test_callback_returning_an_array_is_explained():
    X, y = cl.datasets.xor()
    with pytest.raises(TypeError, match=r"callback returned ndarray.*return True.*"
                                        "None or False"):
        cl.MLP([2, 3, 1]).fit(X, y, loss="bce", epochs=3, progress=False,
                              callback=lambda e, m, h: np.array([True, False]))


def test_fit_matches_a_hand_loop_bit_for_bit():
    """Full-batch fit is forward / loss.grad / backward / step written out by hand,
    and train_step is one of those steps."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, size=12)
    model = cl.MLP([5, 6, 3], activation="relu", output=None, init="he", seed=0)
    twin, triplet = model.copy(), model.copy()
    h = model.fit(X, y, loss="cross_entropy", optimizer=cl.SGD(0.1), epochs=4,
                  progress=False)
    loss, opt, opt3 = cl.SoftmaxCrossEntropy(), cl.SGD(0.1), cl.SGD(0.1)
    for epoch in range(4):
        out = twin.forward(X)
        assert loss.loss(y, out) == h.loss[epoch]
        dX = twin.backward(loss.grad(y, out))
        assert dX.shape == X.shape
        opt.step(twin.params, twin.grads)
        value, _ = cl.train_step(triplet, loss, opt3, X, y)
        assert value == h.loss[epoch]
    for k, w in twin.params.items():
        np.testing.assert_array_equal(model.params[k], w)
        np.testing.assert_array_equal(triplet.params[k], w)


@pytest.mark.parametrize("epochs", range(1, 10))
def test_tiny_runs_with_progress_bar(epochs, capsys):
    X, y = cl.datasets.xor()
    h = cl.MLP([2, 3, 1]).fit(X, y, loss="mse", optimizer="adam", epochs=epochs,
                              progress=True)
    assert len(h) == epochs and h.epochs == list(range(1, epochs + 1))
    assert h.lr == [0.001] * epochs
    capsys.readouterr()


def test_history_fields():
    X, y = cl.datasets.moons(n=40)
    h = cl.MLP([2, 4, 1]).fit(X, y, loss="mse", optimizer="sgd", epochs=3,
                              validation_data=(X, y), progress=False)
    d = h.as_dict()
    assert set(d) >= {"loss", "val_loss", "accuracy", "val_accuracy", "epochs", "lr",
                      "best_epoch", "stopped_epoch"}
    assert d["accuracy"] == [] and len(d["val_loss"]) == 3   # MSE: no accuracy
    assert h["loss"] == h.loss and h.stopped_epoch is None
    assert h.history["val_loss"] is h.val_loss            # Keras-style access
    assert h.time > 0 and "3 epochs" in repr(h)


def test_fit_keeps_the_training_mode_and_lr_schedule_via_callback():
    X, y = cl.datasets.xor()
    opt = cl.SGD(1.0)

    def halve(epoch, model, history):
        opt.lr /= 2

    model = cl.MLP([2, 3, 1], dropout=0.1)
    h = model.fit(X, y, loss="bce", optimizer=opt, epochs=4, callback=halve,
                  progress=False)
    assert h.lr == [1.0, 0.5, 0.25, 0.125]
    assert model.training
    model.eval()
    model.fit(X, y, loss="bce", optimizer=opt, epochs=1, progress=False)
    assert not model.training


# ---------------------------------------------------------------- dtypes, speed

def test_float32_model_trains_in_float32():
    X, y = cl.datasets.moons(n=64)
    model = cl.MLP([2, 8, 1], dtype=np.float32, seed=0)
    seen = []
    original_forward = model.layers[0].forward

    def spy(X_batch):
        seen.append(X_batch.dtype)
        return original_forward(X_batch)

    model.layers[0].forward = spy
    opt = cl.Adam(0.01)
    h = model.fit(X, y, loss="bce", optimizer=opt, epochs=20, batch_size=16,
                  validation_data=(X, y), progress=False)
    assert set(seen) == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in model.grads.values())
    assert all(s["m"].dtype == np.float32 for s in opt.state.values())
    assert model.forward(X.astype(np.float32)).dtype == np.float32
    assert h.loss[-1] < h.loss[0]


def test_xor_10k_epochs_is_fast():
    """Small networks are bound by per-call overhead: 10,000 full-batch epochs of a
    2-4-1 net take ~0.4 s of CPU; the bound is generous for slow shared machines.
    CPU time (not wall time) so that other processes do not make this flaky."""
    X, y = cl.datasets.xor()
    model = cl.MLP([2, 4, 1], seed=0)
    t = time.process_time()
    model.fit(X, y, loss="bce", optimizer=cl.SGD(1.0), epochs=10_000, progress=False)
    assert time.process_time() - t < 2.0
