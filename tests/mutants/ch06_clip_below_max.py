"""Mistake: rescaling to max_norm whatever the norm (short steps are lengthened)."""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= max_norm / norm
    return norm
