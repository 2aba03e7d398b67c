"""Hostile: MSE.loss kills its own process without cleanup."""

import os


class MSE(MSE):  # noqa: F821 (the chapter's class)
    def loss(self, y_true, y_pred):
        os._exit(0)
