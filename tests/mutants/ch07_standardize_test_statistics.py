"""Mistake: scaling the test set with its own statistics (a leak)."""


def standardize(X_train, X_test):
    def scale(X):
        s = X.std(axis=0)
        s[s == 0] = 1.0
        return (X - X.mean(axis=0)) / s

    return scale(X_train), scale(X_test)
