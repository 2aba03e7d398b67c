"""Mistake: a plain ReLU; the leaky side's slope alpha is forgotten."""


class LeakyReLU(LeakyReLU):
    def forward(self, Z):
        self.Z = np.asarray(Z, dtype=float)
        return np.maximum(self.Z, 0.0)
