"""Mistake: params[key] = ... rebinds the dict entry; the layer keeps its old array."""


class SGD(SGD):
    def step(self, params, grads):
        for key in list(params):
            v = self.momentum * self.velocity.get(key, 0.0) - self.lr * grads[key]
            self.velocity[key] = v
            params[key] = params[key] + v
