"""Mistake: the backward pass reads the kernel's entries next to each other
(offset (p, q)) whatever the dilation of the forward pass."""

import numpy as np


def conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1):
    F, _, k, _ = W.shape
    _, _, H, W_in = X.shape
    Ho, Wo = dY.shape[2], dY.shape[3]
    Xp = pad_images(X, padding)
    dXp = np.zeros(Xp.shape)
    dW = np.zeros(W.shape)
    for p in range(k):
        for q in range(k):
            r, c = p, q
            rows = slice(r, r + stride * Ho, stride)
            cols = slice(c, c + stride * Wo, stride)
            dW[:, :, p, q] = np.einsum("nfhw,nchw->fc", dY, Xp[:, :, rows, cols])
            dXp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dY, W[:, :, p, q])
    inside = (slice(None), slice(None), slice(padding, padding + H),
              slice(padding, padding + W_in))
    return dXp[inside], dW, dY.sum(axis=(0, 2, 3))
