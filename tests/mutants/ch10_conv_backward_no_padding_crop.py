"""Mistake: dX returned with the shape of the padded input (the crop forgotten)."""

import numpy as np


def conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1):
    F, _, k, _ = W.shape
    Ho, Wo = dY.shape[2], dY.shape[3]
    Xp = pad_images(X, padding)
    dXp = np.zeros(Xp.shape)
    dW = np.zeros(W.shape)
    for p in range(k):
        for q in range(k):
            r, c = dilation * p, dilation * q
            rows = slice(r, r + stride * Ho, stride)
            cols = slice(c, c + stride * Wo, stride)
            dW[:, :, p, q] = np.einsum("nfhw,nchw->fc", dY, Xp[:, :, rows, cols])
            dXp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dY, W[:, :, p, q])
    return dXp, dW, dY.sum(axis=(0, 2, 3))
