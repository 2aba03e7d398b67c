"""Mistake: the log rule divides by the output ln(x) instead of the input x."""

import math


class Value(Value):  # noqa: F821 (the solution's class, defined above)
    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / out.data
        out._backward = _backward
        return out
