"""Mistake: scaling the negative entries of Z in place (the caller's array)."""


class LeakyReLU(LeakyReLU):
    def forward(self, Z):
        Z[Z <= 0] *= self.alpha
        self.Z = Z
        return Z
