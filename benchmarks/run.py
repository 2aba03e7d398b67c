"""Run every benchmark and write benchmarks/results.md and benchmarks/results.json.

    make bench                    # or: .venv/bin/python -m benchmarks.run [--quick]

Each case runs its implementations in the same process, alternating between them on
every repetition, with BLAS limited to one thread (threadpoolctl). Times are medians
with the min-max range. PyTorch is compared when it is installed (`pip install
torch==2.13.0`, optional); scikit-learn's MLPClassifier where the network matches.
Not part of `make test`: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import course_lib as cl
from benchmarks import handwritten
from benchmarks.sections import write_section

try:
    import torch
except ImportError:  # optional
    torch = None

HERE = Path(__file__).resolve().parent
#: run.py owns the text between these markers (the engine tables and targets)
BEGIN, END = "<!-- engine: begin -->", "<!-- engine: end -->"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def alternate(impls: dict, reps: int) -> dict:
    """Run each implementation `reps` times, rotating the order; collect seconds."""
    names = list(impls)
    times = {k: [] for k in names}
    outputs = {}
    for r in range(reps):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            seconds, out = timed(impls[k])
            times[k].append(seconds)
            outputs[k] = out
    return {
        k: {
            "median": statistics.median(v),
            "min": min(v),
            "max": max(v),
            "runs": len(v),
            "result": outputs[k],
        }
        for k, v in times.items()
    }


# ---------------------------------------------------------------- 1. XOR -------------
def bench_xor(reps, epochs=10_000, lr=0.5):
    X, y = cl.datasets.xor()

    def fresh():
        return cl.MLP([2, 4, 1], activation="sigmoid", output="sigmoid", seed=0)

    def course():
        model = fresh()
        h = model.fit(
            X, y, loss=cl.MSE(), optimizer=cl.SGD(lr), epochs=epochs, progress=False
        )
        return h.loss[-1]

    def hand():
        p = fresh().params
        w = [p["0.W"].copy(), p["0.b"].copy(), p["2.W"].copy(), p["2.b"].copy()]
        return handwritten.xor_sgd(X, y, w, lr, epochs)

    impls = {"course_lib": course, "numpy loop": hand}
    if torch is not None:
        impls["pytorch"] = lambda: torch_xor(X, y, fresh().params, lr, epochs)
    return alternate(impls, reps)


def torch_xor(X, y, params, lr, epochs):
    torch.set_num_threads(1)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 4),
        torch.nn.Sigmoid(),
        torch.nn.Linear(4, 1),
        torch.nn.Sigmoid(),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(params["0.W"].T))
        net[0].bias.copy_(torch.tensor(params["0.b"]))
        net[2].weight.copy_(torch.tensor(params["2.W"].T))
        net[2].bias.copy_(torch.tensor(params["2.b"]))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.mean((net(Xt) - yt) ** 2)
        loss.backward()
        opt.step()
    return float(loss)


# ---------------------------------------------------------------- 2. digits ----------
def digits_data():
    X, y = cl.datasets.digits()
    X_train, X_test, y_train, y_test = cl.datasets.train_test_split(X, y, 0.25, seed=0)
    X_train, X_test = cl.datasets.standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def bench_digits(reps, batch_size, epochs=30, lr=0.01):
    X_train, X_test, y_train, y_test = digits_data()

    def fresh():
        return cl.MLP([64, 64, 10], activation="relu", output=None, init="he", seed=0)

    def course():
        model = fresh()
        model.fit(
            X_train,
            y_train,
            loss=cl.SoftmaxCrossEntropy(),
            optimizer=cl.Adam(lr),
            epochs=epochs,
            batch_size=batch_size,
            seed=0,
            progress=False,
        )
        return float(np.mean(model.predict(X_test) == y_test))

    def hand():
        p = fresh().params
        w = [p[k].copy() for k in ("0.W", "0.b", "2.W", "2.b")]
        handwritten.mlp_relu_adam(X_train, y_train, w, lr, epochs, batch_size, seed=0)
        return float(np.mean(handwritten.mlp_predict(X_test, w) == y_test))

    def sklearn():
        from sklearn.neural_network import MLPClassifier

        clf = MLPClassifier(
            hidden_layer_sizes=(64,),
            activation="relu",
            solver="adam",
            learning_rate_init=lr,
            batch_size=batch_size,
            max_iter=epochs,
            alpha=0.0,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=0,
        )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X_train, y_train)
        return float(clf.score(X_test, y_test))

    impls = {"course_lib": course, "numpy loop": hand, "scikit-learn": sklearn}
    if torch is not None:
        impls["pytorch"] = lambda: torch_digits(
            X_train, y_train, X_test, y_test, fresh().params, lr, epochs, batch_size
        )
    results = alternate(impls, reps)
    tracemalloc.start()
    course()
    results["course_lib"]["peak_memory_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return results


def torch_digits(X_train, y_train, X_test, y_test, params, lr, epochs, batch_size):
    torch.set_num_threads(1)
    Xt, yt = torch.tensor(X_train), torch.tensor(y_train)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
    ).double()
    with torch.no_grad():
        for i in (0, 2):
            net[i].weight.copy_(torch.tensor(params[f"{i}.W"].T))
            net[i].bias.copy_(torch.tensor(params[f"{i}.b"]))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(Xt), generator=gen)
        for start in range(0, len(Xt), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        pred = net(torch.tensor(X_test)).argmax(dim=1).numpy()
    return float(np.mean(pred == y_test))


# ---------------------------------------------------------------- 3. wide ------------
def matmul_peak(dtype, n=1024, reps=5):
    """Single-thread matmul throughput in GFLOP/s (best of `reps`)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    best = min(timed(lambda: a @ b)[0] for _ in range(reps))
    return 2 * n**3 / best / 1e9


def bench_wide(reps, dtype, steps=20, batch=256, lr=0.01):
    sizes = [784, 256, 256, 10]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch * 4, 784)).astype(dtype)
    y = rng.integers(0, 10, batch * 4)
    model = cl.MLP(
        sizes, activation="relu", output=None, init="he", seed=0, dtype=dtype
    )
    loss, opt = cl.SoftmaxCrossEntropy(), cl.SGD(lr)
    w = [model.params[k].copy() for k in model.params]

    def course():
        for s in range(steps):
            xb, yb = (
                X[(s % 4) * batch : (s % 4 + 1) * batch],
                y[(s % 4) * batch :][:batch],
            )
            logits = model.forward(xb)
            model.backward_params(loss.grad(yb, logits))  # as fit does: no dX
            opt.step(model.params, model.grads)

    def hand():
        for s in range(steps):
            xb, yb = (
                X[(s % 4) * batch : (s % 4 + 1) * batch],
                y[(s % 4) * batch :][:batch],
            )
            handwritten.mlp_relu_sgd_step(xb, yb, w, lr)

    impls = {"course_lib": course, "numpy loop": hand}
    if torch is not None:
        impls["pytorch"] = lambda: torch_wide(X, y, sizes, lr, steps, batch, dtype)
    results = alternate(impls, reps)
    flops_fwd = 2 * batch * sum(a * b for a, b in zip(sizes, sizes[1:]))
    flops_step = 3 * flops_fwd  # forward, plus dX and dW products in backward
    peak = matmul_peak(dtype)
    for r in results.values():
        r["per_step_ms"] = r["median"] / steps * 1e3
        r["fraction_of_peak"] = flops_step / (r["median"] / steps) / 1e9 / peak
    results["matmul_peak_gflops"] = peak
    return results


def torch_wide(X, y, sizes, lr, steps, batch, dtype):
    torch.set_num_threads(1)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).to(tdtype)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for s in range(steps):
        xb, yb = (
            Xt[(s % 4) * batch : (s % 4 + 1) * batch],
            yt[(s % 4) * batch :][:batch],
        )
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xb), yb).backward()
        opt.step()


# ---------------------------------------------------------------- 4. overhead --------
def per_call_us(fn, n=2000, reps=5):
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def bench_overhead():
    X = np.random.default_rng(0).standard_normal((4, 2))
    dense, act = cl.Dense(2, 4, seed=0), cl.Sigmoid()
    dZ = np.ones((4, 4))
    W, b = dense.params["W"], dense.params["b"]
    out = {
        "Dense forward (4x2 -> 4)": per_call_us(lambda: dense.forward(X)),
        "plain X @ W + b": per_call_us(lambda: X @ W + b),
        "Dense forward + backward": per_call_us(
            lambda: (dense.forward(X), dense.backward(dZ))
        ),
        "Sigmoid forward + backward": per_call_us(
            lambda: (act.forward(dZ), act.backward(dZ))
        ),
    }
    model = cl.MLP([2, 4, 1], seed=0)
    for name, opt in (
        ("SGD", cl.SGD(0.1)),
        ("SGD momentum", cl.SGD(0.1, momentum=0.9)),
        ("Adam", cl.Adam(0.01)),
    ):
        model.forward(X)
        model.backward(np.ones((4, 1)))
        per_step = per_call_us(lambda o=opt: o.step(model.params, model.grads))
        out[f"{name} step, per parameter tensor"] = per_step / len(model.params)
    if torch is not None:
        torch.set_num_threads(1)
        lin = torch.nn.Linear(2, 4).double()
        Xt = torch.tensor(X)
        with torch.no_grad():
            out["pytorch Linear forward (no grad)"] = per_call_us(lambda: lin(Xt))
        out["pytorch Linear forward + backward"] = per_call_us(
            lambda: lin(Xt).sum().backward()
        )
    return out


def import_time(reps=7):
    """Seconds `import course_lib` adds once numpy is imported (median)."""
    code = (
        "import time, numpy; t = time.perf_counter(); import course_lib; "
        "print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(reps)
    ]
    return statistics.median(runs)


# ---------------------------------------------------------------- report -------------
def fmt(r):
    return f"{r['median'] * 1e3:,.1f} ms ({r['min'] * 1e3:,.1f}–{r['max'] * 1e3:,.1f})"


def ratio(results, a, b):
    if a in results and b in results:
        return results[a]["median"] / results[b]["median"]
    return None


def machine():
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or "?",
        "cpus": os.cpu_count(),
        "torch": getattr(torch, "__version__", None),
        "blas_threads": 1,
    }


def markdown(res) -> str:
    lines = [
        "Machine: " + ", ".join(f"{k} {v}" for k, v in res["machine"].items()),
        "",
        "Medians of alternating runs with the min–max range; BLAS on one thread.",
        "",
    ]
    targets = []
    lines += [
        "## 1. XOR 2-4-1, sigmoid, MSE, full-batch SGD, 10,000 epochs",
        "",
        "| implementation | time | final loss |",
        "| --- | --- | --- |",
    ]
    for k, r in res["xor"].items():
        lines.append(f"| {k} | {fmt(r)} | {r['result']:.5f} |")
    targets.append(
        (
            "XOR: course_lib / numpy loop ≤ 1.5",
            ratio(res["xor"], "course_lib", "numpy loop"),
            1.5,
        )
    )
    for bs in (32, 256):
        key = f"digits_b{bs}"
        lines += [
            "",
            f"## 2. Digits 64-64-10 ReLU, softmax CE, Adam 0.01, 30 epochs, batch {bs}",
            "",
            "| implementation | time | test accuracy |",
            "| --- | --- | --- |",
        ]
        for k, r in res[key].items():
            lines.append(f"| {k} | {fmt(r)} | {r['result']:.4f} |")
        if "peak_memory_mb" in res[key]["course_lib"]:
            lines.append(
                f"\nPeak memory of the course_lib run (tracemalloc): "
                f"{res[key]['course_lib']['peak_memory_mb']:.1f} MB"
            )
    targets.append(
        (
            "digits b256: course_lib / numpy loop ≤ 1.5",
            ratio(res["digits_b256"], "course_lib", "numpy loop"),
            1.5,
        )
    )
    targets.append(
        (
            "digits b256: course_lib / pytorch ≤ 0.5",
            ratio(res["digits_b256"], "course_lib", "pytorch"),
            0.5,
        )
    )
    for dt in ("float64", "float32"):
        key = f"wide_{dt}"
        lines += [
            "",
            f"## 3. 784-256-256-10, batch 256, {dt} (20 SGD steps)",
            "",
            f"Single-thread matmul peak: {res[key]['matmul_peak_gflops']:.1f} GFLOP/s",
            "",
            "| implementation | time per step | fraction of matmul peak |",
            "| --- | --- | --- |",
        ]
        for k, r in res[key].items():
            if isinstance(r, dict):
                lines.append(
                    f"| {k} | {r['per_step_ms']:.2f} ms | {r['fraction_of_peak']:.0%} |"
                )
    targets.append(
        (
            "wide float32: course_lib / numpy loop ≤ 1.2",
            ratio(res["wide_float32"], "course_lib", "numpy loop"),
            1.2,
        )
    )
    lines += [
        "",
        "## 4. Per-call overhead on tiny shapes",
        "",
        "| operation | µs |",
        "| --- | --- |",
    ]
    for k, v in res["overhead"].items():
        lines.append(f"| {k} | {v:.2f} |")
    lines.append(f"\n`import course_lib` beyond numpy: {res['import_s'] * 1e3:.0f} ms")
    targets.append(("import course_lib beyond numpy ≤ 0.3 s", res["import_s"], 0.3))
    lines += [
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for name, value, limit in targets:
        if value is None:
            lines.append(f"| {name} | n/a (PyTorch not installed) | – |")
        else:
            lines.append(
                f"| {name} | {value:.2f} | {'yes' if value <= limit else 'NO'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else 7
    if torch is None:
        print(
            "PyTorch not installed: skipping its columns "
            "(pip install torch==2.13.0 to compare).",
            file=sys.stderr,
        )
    res = {"machine": machine()}
    with threadpool_limits(limits=1):
        print("1/4 XOR ...", file=sys.stderr)
        res["xor"] = bench_xor(reps)
        print("2/4 digits ...", file=sys.stderr)
        res["digits_b32"] = bench_digits(max(3, reps // 2), 32)
        res["digits_b256"] = bench_digits(reps, 256)
        print("3/4 wide ...", file=sys.stderr)
        res["wide_float64"] = bench_wide(reps, np.float64)
        res["wide_float32"] = bench_wide(reps, np.float32)
        print("4/4 overhead ...", file=sys.stderr)
        res["overhead"] = bench_overhead()
    res["import_s"] = import_time()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(res, indent=2, default=float))
    text = markdown(res)
    write_section(BEGIN, END, f"{BEGIN}\n{text.rstrip()}\n{END}",
                  args.out / "results.md")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
