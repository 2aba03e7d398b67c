"""Mistake: y - p instead of p - y (the gradient points uphill)."""


class BinaryCrossEntropy(BinaryCrossEntropy):
    def grad(self, y_true, y_pred):
        y = np.asarray(y_true, dtype=float)
        p = np.clip(np.asarray(y_pred, dtype=float), self.eps, 1 - self.eps)
        return (y - p) / (p * (1 - p)) / p.size
