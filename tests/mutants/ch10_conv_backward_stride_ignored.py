"""Mistake: the backward pass walks the positions with step 1 whatever the
stride of the forward pass."""

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
            r, c = dilation * p, dilation * q
            rows, cols = slice(r, r + Ho), slice(c, c + Wo)
            dW[:, :, p, q] = np.einsum("nfhw,nchw->fc", dY, Xp[:, :, rows, cols])
            dXp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dY, W[:, :, p, q])
    db = dY.sum(axis=(0, 2, 3))
    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, db
