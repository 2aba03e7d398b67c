"""Mistake: clipped copies in a new dict; the caller's arrays stay as they were."""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    grads = {k: g * scale for k, g in grads.items()}
    return norm
