"""Mistake: the power rule as n * x**n (the exponent not lowered)."""


class Value(Value):  # noqa: F821 (the solution's class, defined above)
    def __pow__(self, n):
        out = Value(self.data ** n, (self,), f"**{n}")

        def _backward():
            self.grad += n * self.data ** n * out.grad
        out._backward = _backward
        return out
