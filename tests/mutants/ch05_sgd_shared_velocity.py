"""Mistake: one velocity shared by every parameter."""


class SGD(SGD):
    def step(self, params, grads):
        for key, param in params.items():
            v = self.velocity.get("all", np.zeros_like(param))
            v = self.momentum * v - self.lr * grads[key]
            self.velocity["all"] = v
            param += v
