"""Mistake: the step counter t advances once per parameter, not once per step."""


class Adam(Adam):
    def step(self, params, grads):
        for key, param in params.items():
            self.t += 1
            g = grads[key]
            zero = np.zeros_like(param)
            m = self.beta1 * self.m.get(key, zero) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(key, zero) + (1 - self.beta2) * g * g
            self.m[key], self.v[key] = m, v
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
