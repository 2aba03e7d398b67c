"""Mistake: the tanh rule assigns the input's gradient instead of adding to it,
so at a fork one contribution overwrites the other."""

import math


class Value(Value):  # noqa: F821 (the solution's class, defined above)
    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad = (1.0 - t ** 2) * out.grad
        out._backward = _backward
        return out
