"""Mistake: off by one in early stopping (waits patience + 1 epochs)."""

import numpy as np


def early_stopping_epoch(val_losses, patience):
    best, waited = np.inf, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
            if waited > patience:
                return epoch
    return len(val_losses) - 1
