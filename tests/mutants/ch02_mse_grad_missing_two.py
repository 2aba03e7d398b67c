"""Mistake: the derivative of a square without its factor 2."""


class MSE(MSE):
    def grad(self, y_true, y_pred):
        return (np.asarray(y_pred) - np.asarray(y_true)) / np.size(y_pred)
