"""Benchmarks of chapters 10 and 11: Conv2D, RNN and LSTM against PyTorch on CPU.

    .venv/bin/python -m benchmarks.conv_rnn [--quick]

Writes benchmarks/results_conv_rnn.json and the section between the
``conv_rnn`` markers of benchmarks/results.md (appended when missing; the rest
of that file belongs to ``benchmarks/run.py``). Both libraries run on one
thread (threadpoolctl for numpy's BLAS, ``torch.set_num_threads(1)``), the
implementations alternate on every repetition, and times are medians with the
min-max range; the ratio column divides the fastest runs (on a shared, loaded
machine the minimum is the stable statistic). PyTorch is optional (``pip
install torch==2.13.0``); without it only the course_lib rows are measured.
Not part of ``make test``.

Cases:

1. ``Conv2D(1, 8, 3, padding=1)`` (chapter 10's layer) and ``Conv2D(8, 16, 3,
   padding=1)``, forward + backward (dX, dW, db) on a batch of 256 8x8 images,
   float32 and float64.
2. ``RNN(1, 8)`` and ``LSTM(1, 8)`` at chapter 11's sizes (batch 50, 20 steps),
   forward + BPTT, float64.
3. One training epoch of chapter 10's CNN on the 1 293 training digits
   (batch 32, Adam), course_lib ``fit`` against the same network in PyTorch.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import course_lib as cl
from benchmarks.sections import write_section

try:
    import torch
except ImportError:  # optional
    torch = None

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- conv_rnn: begin -->", "<!-- conv_rnn: end -->"


def measure(runners, repeats):
    """Median and range of each runner's seconds, alternating between them."""
    times = {name: [] for name in runners}
    for fn in runners.values():           # warm-up (allocations, torch dispatch)
        fn()
    for _ in range(repeats):
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(t), min(t), max(t))
            for name, t in times.items()}


def conv_case(C, F, dtype, repeats):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, C, 8, 8)).astype(dtype)
    layer = cl.Conv2D(C, F, 3, padding=1, seed=0, dtype=dtype)
    dY = rng.normal(size=(256, F, 8, 8)).astype(dtype)

    def ours():
        layer.forward(X)
        layer.backward(dY)

    runners = {"course_lib": ours}
    if torch is not None:
        Xt = torch.tensor(X, requires_grad=True)
        Wt = torch.tensor(layer.params["W"], requires_grad=True)
        bt = torch.tensor(layer.params["b"], requires_grad=True)
        dYt = torch.tensor(dY)

        def theirs():
            for t in (Xt, Wt, bt):
                t.grad = None
            torch.nn.functional.conv2d(Xt, Wt, bt, padding=1).backward(dYt)

        runners["pytorch"] = theirs
    return measure(runners, repeats)


def recurrent_case(kind, repeats):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 20, 1))
    layer = (cl.RNN if kind == "RNN" else cl.LSTM)(1, 8, seed=0)
    dY = rng.normal(size=(50, 20, 8))

    def ours():
        layer.forward(X)
        layer.backward(dY)

    runners = {"course_lib": ours}
    if torch is not None:
        net = (torch.nn.RNN if kind == "RNN" else torch.nn.LSTM)(
            1, 8, batch_first=True).double()
        Xt = torch.tensor(X, requires_grad=True)
        dYt = torch.tensor(dY)

        def theirs():
            net.zero_grad()
            Xt.grad = None
            net(Xt)[0].backward(dYt)

        runners["pytorch"] = theirs
    return measure(runners, repeats)


def _digits():
    X, y = cl.datasets.digits()
    X_rest, _, y_rest, _ = cl.datasets.train_test_split(X, y, test_size=0.2, seed=1,
                                                        stratify=True)
    X_train, _, y_train, _ = cl.datasets.train_test_split(
        X_rest, y_rest, test_size=0.1, seed=1, stratify=True)
    return (X_train / 16).reshape(-1, 1, 8, 8), y_train


def cnn_epoch_case(repeats):
    X, y = _digits()
    ce = cl.SoftmaxCrossEntropy()
    model = cl.Sequential([cl.Conv2D(1, 8, 3, padding=1, seed=0), cl.ReLU(),
                           cl.MaxPool2D(2), cl.Flatten(),
                           cl.Dense(128, 10, init="he", seed=100)])
    opt = cl.Adam(0.01)

    def ours():
        model.fit(X, y, loss=ce, optimizer=opt, epochs=1, batch_size=32, seed=0,
                  progress=False)

    runners = {"course_lib": ours}
    if torch is not None:
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(128, 10)
        ).double()
        topt = torch.optim.Adam(net.parameters(), lr=0.01)
        Xt, yt = torch.tensor(X), torch.tensor(y)
        order_rng = np.random.default_rng(0)

        def theirs():
            order = torch.from_numpy(order_rng.permutation(len(Xt)))
            for start in range(0, len(Xt), 32):
                idx = order[start:start + 32]
                loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
                topt.zero_grad()
                loss.backward()
                topt.step()

        runners["pytorch"] = theirs
    return measure(runners, repeats)


def _fmt(seconds):
    med, lo, hi = seconds
    return f"{med * 1e3:,.2f} ms ({lo * 1e3:,.2f}–{hi * 1e3:,.2f})"


def _table(title, results):
    rows = [f"### {title}", "",
            "| case | course_lib | pytorch | course_lib / pytorch (fastest runs) |",
            "| --- | --- | --- | --- |"]
    for case, res in results.items():
        ours = res["course_lib"]
        if "pytorch" in res:
            theirs = res["pytorch"]
            rows.append(f"| {case} | {_fmt(ours)} | {_fmt(theirs)} | "
                        f"{ours[1] / theirs[1]:.2f}x |")
        else:
            rows.append(f"| {case} | {_fmt(ours)} | (not installed) | |")
    return rows + [""]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    reps = 5 if args.quick else 41
    if torch is not None:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        conv = {f"Conv2D({C}, {F}, 3, padding=1), batch 256 of 8x8, {d}":
                conv_case(C, F, np.dtype(d), reps)
                for C, F in ((1, 8), (8, 16)) for d in ("float32", "float64")}
        rec = {f"{k}(1, 8), batch 50, 20 steps, float64": recurrent_case(k, reps)
               for k in ("RNN", "LSTM")}
        epoch = {"chapter 10's CNN, 1 293 digits, batch 32, Adam, float64":
                 cnn_epoch_case(max(3, reps // 4))}
    machine = (f"python {platform.python_version()}, numpy {np.__version__}, "
               f"{platform.platform()}, "
               f"torch {torch.__version__ if torch else 'not installed'}, "
               "one thread each")
    lines = [BEGIN, "## Chapters 10 and 11: convolution and recurrence "
             "(`python -m benchmarks.conv_rnn`)", "", f"Machine: {machine}.", "",
             "Forward and backward of one layer (or one training epoch); medians "
             "with the min–max range. The ratio compares the fastest runs.", ""]
    lines += _table("Conv2D forward + backward", conv)
    lines += _table("Recurrent forward + BPTT", rec)
    lines += _table("CNN training, one epoch", epoch)
    lines.append(END)
    section = "\n".join(lines)
    write_section(BEGIN, END, section)
    data = {"machine": machine, "conv": conv, "recurrent": rec, "cnn_epoch": epoch}
    (HERE / "results_conv_rnn.json").write_text(json.dumps(data, indent=1) + "\n")
    print(section)


if __name__ == "__main__":
    main()
