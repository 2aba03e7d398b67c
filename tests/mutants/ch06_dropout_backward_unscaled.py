"""Mistake: backward zeroes the dropped entries but forgets the 1/(1-p) factor."""


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def backward(self, dY):
        return dY * (self.mask != 0)
