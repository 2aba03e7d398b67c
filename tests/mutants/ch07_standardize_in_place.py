"""Mistake: standardising the caller's arrays in place."""

import numpy as np


def standardize(X_train, X_test):
    mu, s = X_train.mean(axis=0), X_train.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    X_train -= mu
    X_train /= s
    X_test -= mu
    X_test /= s
    return X_train, X_test
