"""Mistake: clipping each gradient by its own norm instead of the global one."""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        n = float(np.linalg.norm(g))
        if n > max_norm:
            g *= max_norm / n
    return norm
