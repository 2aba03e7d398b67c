"""Mistake: the nudged entry is left at x - h (the in-place contract broken)."""


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        grad[idx] = (f_plus - f(x)) / (2 * h)
    return grad
