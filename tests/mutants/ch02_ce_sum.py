"""Mistake: cross-entropy summed over the batch."""

import numpy as np


def cross_entropy_from_logits(y_true, logits):
    m = logits.max(axis=1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    return float(np.sum(lse - logits[np.arange(len(y_true)), y_true]))
