"""Mistake: the recurrent weights' gradient taken from the last step only
(overwritten instead of summed over the steps)."""

import numpy as np


def rnn_backward(dY, X, H, Wx, Wh):
    N, T, _ = X.shape
    dX = np.zeros(X.shape)
    dWx, dWh = np.zeros(Wx.shape), None
    db = np.zeros(Wh.shape[0])
    from_next = np.zeros((N, Wh.shape[0]))
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 else np.zeros((N, Wh.shape[0]))
        dx, from_next, gWx, gWh, gb = rnn_step_backward(
            dY[:, t] + from_next, X[:, t], h_prev, H[:, t], Wx, Wh)
        dX[:, t] = dx
        dWx += gWx
        if dWh is None:
            dWh = gWh
        db += gb
    return dX, dWx, dWh, db
