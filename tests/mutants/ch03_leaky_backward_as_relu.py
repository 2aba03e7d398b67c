"""Mistake: the ReLU's derivative: the gradient is blocked on the leaky side."""


class LeakyReLU(LeakyReLU):
    def backward(self, dY):
        return dY * (self.Z > 0)
