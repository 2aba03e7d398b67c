"""Mistake: tanh's derivative written as 1 - tanh(x) instead of 1 - tanh(x)**2."""

import math


class Value(Value):  # noqa: F821 (the solution's class, defined above)
    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t) * out.grad
        out._backward = _backward
        return out
