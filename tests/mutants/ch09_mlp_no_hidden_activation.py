"""Mistake: the hidden layers forget their tanh, so the network is linear."""


class MLP(MLP):  # noqa: F821 (the solution's class, defined above)
    def __call__(self, x):
        a = list(x)
        for W, b in zip(self.W, self.b):
            a = [sum((a[i] * W[i][j] for i in range(len(a))), b[j])
                 for j in range(len(b))]
        return a
