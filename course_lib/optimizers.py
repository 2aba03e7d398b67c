r"""Optimizers: turn gradients into weight updates.

``opt.step(params, grads)`` takes two dicts with the same keys (e.g.
``model.params`` and ``model.grads``) and updates every array of ``params`` **in
place**. Per-parameter state (velocities, moment estimates) is kept in ``opt.state``
under the same keys and is also updated in place. ``opt.lr`` may be changed between
steps (learning-rate schedules).
"""

from __future__ import annotations

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Optimizer", "RMSProp", "get_optimizer"]


def _positive(name, value, owner):
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive number, got {value}")
    return value


def _unit(name, value, owner):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value}")
    return value


class Optimizer:
    """Base class. Subclasses implement ``_update(key, w, g)``: the update of one
    parameter ``w`` from its gradient ``g`` (same shape), in place."""

    def __init__(self, lr):
        self.lr = _positive("lr", lr, type(self).__name__)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.t = 0

    def step(self, params, grads):
        """Update every ``params[k]`` in place from ``grads[k]``.

        Parameters
        ----------
        params : dict of str to ndarray
            The arrays to update (same shapes as the gradients).
        grads : dict of str to ndarray
            Gradients of the loss, one per key of ``params``.
        """
        self.t += 1
        for key, w in params.items():
            self._update(key, w, grads[key])

    def reset(self):
        """Forget all state (velocities, moments and the step counter)."""
        self.state.clear()
        self.t = 0

    def _slots(self, key, w, names):
        s = self.state.get(key)
        if s is None:
            s = self.state[key] = {n: np.zeros_like(w) for n in names}
        return s

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (heavy-ball) momentum.

    Without momentum: :math:`w \leftarrow w - \eta\, g`.

    With momentum :math:`\mu` (velocity :math:`v` starts at 0):
    :math:`v \leftarrow \mu v - \eta\, g;\ w \leftarrow w + v`.

    (The other common convention, :math:`v \leftarrow \mu v + g;\ w \leftarrow w -
    \eta v`, gives the same steps when :math:`\eta` is constant.)

    Parameters
    ----------
    lr : float > 0
        Learning rate :math:`\eta`.
    momentum : float in [0, 1)
        Momentum coefficient :math:`\mu`.
    """

    def __init__(self, lr, momentum=0.0):
        super().__init__(lr)
        self.momentum = _unit("momentum", momentum, "SGD")

    def _update(self, key, w, g):
        if self.momentum == 0.0:
            w -= self.lr * g
            return
        v = self._slots(key, w, ("v",))["v"]
        v[...] = self.momentum * v - self.lr * g
        w += v

    def __repr__(self):
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"


class RMSProp(Optimizer):
    r"""RMSProp: divide the step by a running root-mean-square of the gradient.

    :math:`s \leftarrow \rho s + (1 - \rho) g^2;\
    w \leftarrow w - \eta\, g / (\sqrt{s} + \epsilon)` (``s`` starts at 0).

    Parameters
    ----------
    lr : float > 0
    rho : float in [0, 1)
        Decay of the running average of :math:`g^2`.
    eps : float > 0
        Added to :math:`\sqrt{s}` to avoid dividing by zero.
    """

    def __init__(self, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(lr)
        self.rho = _unit("rho", rho, "RMSProp")
        self.eps = _positive("eps", eps, "RMSProp")

    def _update(self, key, w, g):
        s = self._slots(key, w, ("s",))["s"]
        s[...] = self.rho * s + (1.0 - self.rho) * g**2
        w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"RMSProp(lr={self.lr:g}, rho={self.rho:g})"


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with bias correction.

    At step :math:`t = 1, 2, \dots` (``m``, ``v`` start at 0):
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g;\
    v \leftarrow \beta_2 v + (1-\beta_2) g^2;\
    \hat m = m / (1 - \beta_1^t);\ \hat v = v / (1 - \beta_2^t);\
    w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)`.

    Parameters
    ----------
    lr : float > 0
    beta1, beta2 : float in [0, 1)
        Decay rates of the first and second moment estimates.
    eps : float > 0
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _unit("beta1", beta1, "Adam")
        self.beta2 = _unit("beta2", beta2, "Adam")
        self.eps = _positive("eps", eps, "Adam")

    def _update(self, key, w, g):
        state = self._slots(key, w, ("m", "v"))
        m, v, t = state["m"], state["v"], self.t
        m[...] = self.beta1 * m + (1.0 - self.beta1) * g
        v[...] = self.beta2 * v + (1.0 - self.beta2) * g**2
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self):
        return (f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, "
                f"beta2={self.beta2:g})")


#: name -> (class, keyword arguments, default learning rate)
OPTIMIZERS = {
    "sgd": (SGD, {}, 0.01),
    "momentum": (SGD, {"momentum": 0.9}, 0.01),
    "rmsprop": (RMSProp, {}, 0.001),
    "adam": (Adam, {}, 0.001),
}


def get_optimizer(name, lr=None):
    """Return an optimizer from its name (an optimizer object is returned unchanged).

    Names: ``'sgd'`` (default lr 0.01), ``'momentum'`` (SGD with momentum 0.9, lr
    0.01), ``'rmsprop'`` (0.001), ``'adam'`` (0.001).
    """
    if hasattr(name, "step"):
        return name
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: "
                         f"{', '.join(OPTIMIZERS)}")
    cls, kwargs, default_lr = OPTIMIZERS[key]
    return cls(default_lr if lr is None else lr, **kwargs)
