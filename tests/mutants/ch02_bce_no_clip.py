"""Mistake: no clipping, so log(0) for predictions of exactly 0 or 1."""


class BinaryCrossEntropy(BinaryCrossEntropy):
    def loss(self, y_true, y_pred):
        y, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
