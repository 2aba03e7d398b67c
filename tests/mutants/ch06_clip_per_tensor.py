"""Mistake: clipping each gradient by its own norm instead of the global one."""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    out = {}
    for name, g in grads.items():
        n = np.linalg.norm(g)
        out[name] = g * (max_norm / n if n > max_norm else 1.0)
    return out, norm
