"""Hostile: MSE.grad floods stdout and the raw file descriptors forever."""

import os
import sys


class MSE(MSE):  # noqa: F821 (the chapter's class)
    def grad(self, y_true, y_pred):
        line = "spam " * 2000
        while True:
            print(line)
            sys.stderr.write(line)
            os.write(1, line.encode())
            os.write(2, line.encode())
