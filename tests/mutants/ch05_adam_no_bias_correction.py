"""Mistake: the moments are used without their bias correction."""


class Adam(Adam):
    def step(self, params, grads):
        self.t += 1
        for key, param in params.items():
            g = grads[key]
            zero = np.zeros_like(param)
            self.m[key] = self.beta1 * self.m.get(key, zero) + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v.get(key, zero) + (1 - self.beta2) * g * g
            param -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + self.eps)
