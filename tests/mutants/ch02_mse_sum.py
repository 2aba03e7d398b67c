"""Mistake: the sum of squares instead of the mean."""


class MSE(MSE):
    def loss(self, y_true, y_pred):
        return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))
