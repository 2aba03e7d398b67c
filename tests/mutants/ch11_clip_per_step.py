"""Mistake: each time step's gradients clipped by their own norm before they are
added up, instead of one global clip of the sum."""

import numpy as np


def clip_bptt_gradients(step_grads, max_norm):
    total = {k: np.zeros(np.shape(v)) for k, v in step_grads[0].items()}
    for g in step_grads:
        n = float(np.sqrt(sum(np.sum(np.asarray(v) ** 2) for v in g.values())))
        scale = max_norm / n if n > max_norm else 1.0
        for k in total:
            total[k] += np.asarray(g[k]) * scale
    norm = float(np.sqrt(sum(np.sum(v ** 2) for v in total.values())))
    return total, norm
