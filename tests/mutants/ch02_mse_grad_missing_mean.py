"""Mistake: the gradient of the sum, without the mean's 1/(N K)."""


class MSE(MSE):
    def grad(self, y_true, y_pred):
        return 2.0 * (np.asarray(y_pred) - np.asarray(y_true))
