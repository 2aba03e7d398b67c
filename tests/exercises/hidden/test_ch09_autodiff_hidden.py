"""Hidden graded tests for chapter 9 (run by the instructor at the end)."""

import numpy as np
import pytest
from test_ch09_autodiff import check_graph

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_Value_pow__fractional_and_negative_exponents(ch09):
    spec = [("leaf", 0.8), ("**", 0, 0.5), ("**", 0, -2), ("*", 1, 2), ("**", 3, 3)]
    check_graph(ch09, spec, "pow-hidden", "d(x**n)/dx = n x**(n-1) for any n.")


@pytest.mark.points(1)
def test_Value_relu__negative_and_positive_in_one_graph(ch09):
    spec = [("leaf", -2.0), ("leaf", 3.0), ("+", 0, 1), ("relu", 2), ("relu", 0),
            ("*", 3, 4), ("+", 5, 3), ("*", 6, 2)]
    check_graph(ch09, spec, "relu-hidden", "relu'(x) is 1 for x > 0, 0 for x < 0.")


@pytest.mark.points(1)
def test_topological_order__many_forks_each_node_once(ch09):
    x = ch09.Value(1.1)
    y = x
    for _ in range(12):                        # y = y * y: 2**12 paths back to x
        y = y.call("__mul__", y).value
    order = ch09.with_timeout(20).topological_order(y)
    if len(order) != 13:
        fb.fail(f"A graph of 13 nodes, each used twice by the next, gave "
                f"{len(order)} nodes: visit each node once, not once per path.")


@pytest.mark.points(1)
def test_train_xor__another_seed(ch09):
    model = ch09.with_timeout(60).train_xor(300, 0.1, 3)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out = fb.as_array("outputs", ch09.predict(model, X))
    if out.shape != (4, 1) or np.max(np.abs(out.ravel() - [0, 1, 1, 0])) > 0.25:
        fb.fail(f"With seed 3 the XOR outputs are {fb.show(out.ravel())}; each should "
                "be within 0.25 of 0, 1, 1, 0.")


@pytest.mark.points(1)
def test_topological_order__follows_the_edges_not_creation_order(ch09):
    # a node made first, then given inputs made after it: only _prev says what
    # comes first (an order by creation time would put it first, wrongly)
    out = ch09.Value(1.0)
    a = ch09.Value(2.0)
    s = a.call("__mul__", 3.0).value
    out.call("__setattr__", "_prev", (s, a))
    order = ch09.topological_order(out)
    seen = [fb.as_float("data", v.data) for v in order]
    if len(seen) != 4 or seen[-1] != 1.0 or seen.index(2.0) > seen.index(6.0):
        fb.fail(f"For a node whose inputs (_prev) were made after it, your order "
                f"gave the values {seen}: the order must follow the edges _prev "
                "(every node after its inputs, the root last), not the time the "
                "nodes were made.")
