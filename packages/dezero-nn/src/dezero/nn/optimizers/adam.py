"""Adam (Kingma and Ba 2015) and AdamW (Loshchilov and Hutter 2019)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import (
    Optimizer,
    check_nonnegative,
    check_positive,
    check_unit_interval,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam with bias correction folded into the rate; the step count is per parameter.

    ``m <- b1*m + (1-b1)*g``; ``v <- b2*v + (1-b2)*g^2``;
    ``W <- W - alpha * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)``.
    """

    lr_name = "alpha"
    hyper_names: tuple[str, ...] = ("alpha", "beta1", "beta2", "eps")

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__()
        name = type(self).__name__
        self.alpha = check_positive(name, "learning rate (alpha)", alpha)
        self.beta1 = check_unit_interval(name, "beta1", beta1)
        self.beta2 = check_unit_interval(name, "beta2", beta2)
        self.eps = check_positive(name, "eps", eps)

    def _decay(self, param: Parameter) -> None:
        pass

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        xp = get_array_module(param.data)
        g = param.grad.data  # type: ignore[union-attr]
        if "m" not in state:
            state["m"] = xp.zeros_like(param.data)
            state["v"] = xp.zeros_like(param.data)
            state["step"] = np.array(0, dtype=np.int64)
        state["step"] = np.array(int(state["step"]) + 1, dtype=np.int64)
        t = int(state["step"])
        m, v = state["m"], state["v"]
        b1, b2 = self.beta1, self.beta2
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g * g - v)
        self._decay(param)
        lr_t = self.alpha * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        param.data -= lr_t * m / (xp.sqrt(v) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``W <- W * (1 - alpha*weight_decay)`` before the step."""

    hyper_names = ("alpha", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(alpha, beta1, beta2, eps)
        self.weight_decay = check_nonnegative("AdamW", "weight_decay", weight_decay)

    def _decay(self, param: Parameter) -> None:
        param.data *= 1.0 - self.alpha * self.weight_decay
