"""Hostile: mse kills its own process without cleanup."""

import os


def mse(y_true, y_pred):
    os._exit(0)
