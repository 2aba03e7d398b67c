"""Mistake: one pair of moments shared by every parameter."""


class Adam(Adam):
    def step(self, params, grads):
        self.t += 1
        for key, param in params.items():
            g = grads[key]
            zero = np.zeros_like(param)
            m = self.beta1 * self.m.get("all", zero) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get("all", zero) + (1 - self.beta2) * g * g
            self.m["all"], self.v["all"] = m, v
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
