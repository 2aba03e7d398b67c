"""Mistake: backward draws a new mask instead of using the forward's."""


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def backward(self, dY):
        if not self.training:
            return dY
        mask = (self.rng.random(dY.shape) >= self.p) / (1.0 - self.p)
        return dY * mask
