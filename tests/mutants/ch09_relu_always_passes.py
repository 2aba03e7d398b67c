"""Mistake: relu's backward passes the gradient whatever the sign of the input."""


class Value(Value):  # noqa: F821 (the solution's class, defined above)
    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += out.grad
        out._backward = _backward
        return out
