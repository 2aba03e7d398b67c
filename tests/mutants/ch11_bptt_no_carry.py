"""Mistake: the hidden-state gradient is not carried to the previous step; each
step sees only its own dY."""

import numpy as np


def rnn_backward(dY, X, H, Wx, Wh):
    N, T, _ = X.shape
    dX = np.zeros(X.shape)
    dWx, dWh = np.zeros(Wx.shape), np.zeros(Wh.shape)
    db = np.zeros(Wh.shape[0])
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 else np.zeros((N, Wh.shape[0]))
        dx, _, gWx, gWh, gb = rnn_step_backward(dY[:, t], X[:, t], h_prev, H[:, t],
                                                Wx, Wh)
        dX[:, t] = dx
        dWx += gWx
        dWh += gWh
        db += gb
    return dX, dWx, dWh, db
