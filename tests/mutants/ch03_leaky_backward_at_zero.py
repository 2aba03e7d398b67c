"""Mistake: slope 1 at Z == 0, where the forward pass uses the alpha side."""


class LeakyReLU(LeakyReLU):
    def backward(self, dY):
        return np.where(self.Z >= 0, dY, self.alpha * dY)
