"""Mistake: the one-sided difference (f(x + h) - f(x)) / h."""


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        grad[idx] = (f(x) - fx) / h
        x[idx] = old
    return grad
