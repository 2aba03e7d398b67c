"""Mistake: tanh' evaluated at the output h as if it were the pre-activation:
1 - tanh(h)**2 instead of 1 - h**2."""

import numpy as np


def rnn_step_backward(dY, x, h_prev, h, Wx, Wh):
    dz = dY * (1.0 - np.tanh(h) ** 2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
