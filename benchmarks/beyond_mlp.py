"""Benchmarks of chapters 8 and 9: cl.BatchNorm against PyTorch, cl.autodiff.Value
against micrograd.

    .venv/bin/python -m benchmarks.beyond_mlp [--quick]

1. ``cl.BatchNorm`` forward + backward in training mode on a (256, 256) batch,
   against ``torch.nn.BatchNorm1d`` on the CPU with one thread (float64 both, and
   float32 both), when PyTorch is installed.
2. ``cl.autodiff.Value`` against micrograd's ``Value`` (``pip install
   micrograd==0.1.0``, optional) on the same expression graph: the squared error
   of a ReLU network 3-16-16-1 of scalar values summed over 20 examples, built and
   backpropagated (about 12,000 nodes).

Implementations alternate on every repetition; medians with the min-max range.
The results replace the section between the ``beyond-mlp`` markers of
``benchmarks/results.md`` (``benchmarks/run.py`` owns the rest of the file).
Not part of ``make test``: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import course_lib as cl
from benchmarks.sections import write_section
from course_lib.autodiff import Value

try:
    import torch
except ImportError:  # optional
    torch = None
try:
    from micrograd.engine import Value as MicroValue
except ImportError:  # optional
    MicroValue = None

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- beyond-mlp: begin -->", "<!-- beyond-mlp: end -->"


def _median_range(times):
    ms = [1000 * t for t in times]
    return f"{statistics.median(ms):,.2f} ms ({min(ms):,.2f}–{max(ms):,.2f})"


def _alternate(cases, repeats):
    """Run every case once per repetition, alternating; seconds per case."""
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def batchnorm_cases(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 256)).astype(dtype)
    G = rng.normal(size=(256, 256)).astype(dtype)
    bn = cl.BatchNorm(256, dtype=dtype)

    def ours():
        bn.forward(X)
        bn.backward(G)

    cases = {"course_lib": ours}
    if torch is not None:
        tdtype = torch.float64 if dtype == np.float64 else torch.float32
        ref = torch.nn.BatchNorm1d(256).to(tdtype)
        Xt, Gt = torch.from_numpy(X), torch.from_numpy(G)

        def theirs():
            x = Xt.detach().requires_grad_(True)
            ref.weight.grad = ref.bias.grad = None
            ref(x).backward(Gt)

        cases["pytorch (CPU, 1 thread)"] = theirs
    return cases


def _mlp_graph(make, n_samples=20, sizes=(3, 16, 16, 1)):
    """Squared error of a scalar ReLU MLP over n_samples, with ``make`` = Value."""
    rng = np.random.default_rng(1)
    layers = [([[make(rng.uniform(-1, 1)) for _ in range(o)] for _ in range(i)],
               [make(0.0) for _ in range(o)]) for i, o in zip(sizes, sizes[1:])]
    X = rng.normal(size=(n_samples, sizes[0]))
    y = rng.normal(size=n_samples)
    loss = make(0.0)
    for x, t in zip(X, y):
        a = [make(v) for v in x]
        for k, (W, b) in enumerate(layers):
            z = [sum((a[i] * W[i][j] for i in range(len(a))), b[j])
                 for j in range(len(b))]
            a = z if k == len(layers) - 1 else [v.relu() for v in z]
        loss = loss + (a[0] - float(t)) ** 2
    return loss, layers


def autodiff_cases():
    def run(make):
        def fn():
            loss, _ = _mlp_graph(make)
            loss.backward()
        return fn

    cases = {"course_lib.autodiff.Value": run(Value)}
    if MicroValue is not None:
        cases["micrograd 0.1.0"] = run(MicroValue)
    return cases


def _same_gradients():
    """Both engines give the same gradients on the benchmark's graph."""
    if MicroValue is None:
        return None
    grads = []
    for make in (Value, MicroValue):
        loss, layers = _mlp_graph(make)
        loss.backward()
        grads.append([w.grad for W, b in layers for row in W for w in row])
    return float(np.max(np.abs(np.subtract(*grads))))


def _count_nodes():
    loss, _ = _mlp_graph(Value)
    return len(cl.autodiff.topological_order(loss))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    reps = 5 if args.quick else 30
    if torch is not None:
        torch.set_num_threads(1)
    lines = [BEGIN, "", "## Beyond the MLP (chapters 8 and 9)", "",
             "Produced by `python -m benchmarks.beyond_mlp`; "
             f"torch {getattr(torch, '__version__', 'not installed')}, micrograd "
             f"{'0.1.0' if MicroValue is not None else 'not installed'}; "
             f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus "
             "when it started (a loaded machine widens the ranges).", ""]
    with threadpool_limits(1):
        for dtype in (np.float64, np.float32):
            times = _alternate(batchnorm_cases(dtype), reps * 10)
            lines += [f"### BatchNorm forward + backward, (256, 256), "
                      f"{np.dtype(dtype).name}", "",
                      "| implementation | time per step |", "| --- | --- |"]
            lines += [f"| {k} | {_median_range(v)} |" for k, v in times.items()]
            lines.append("")
        times = _alternate(autodiff_cases(), reps)
    gap = _same_gradients()
    lines += [f"### Scalar autodiff: build + backward of one graph "
              f"({_count_nodes():,} nodes, ReLU MLP 3-16-16-1, 20 examples)", "",
              "| implementation | time |", "| --- | --- |"]
    lines += [f"| {k} | {_median_range(v)} |" for k, v in times.items()]
    if gap is not None:
        lines += ["", f"Largest difference between the two engines' weight "
                      f"gradients: {gap:.1e}."]
    lines += ["", END]
    table = "\n".join(lines)
    print(table)
    write_section(BEGIN, END, table)


if __name__ == "__main__":
    main()
