"""RMSprop (Tieleman and Hinton 2012)."""

from __future__ import annotations

from typing import Any

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import Optimizer, check_positive, check_unit_interval

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``ms <- alpha*ms + (1-alpha)*g^2``; ``W <- W - lr * g / (sqrt(ms) + eps)``."""

    lr_name = "lr"
    hyper_names = ("lr", "alpha", "eps")

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = check_positive("RMSprop", "learning rate", lr)
        self.alpha = check_unit_interval("RMSprop", "alpha", alpha)
        self.eps = check_positive("RMSprop", "eps", eps)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        xp = get_array_module(param.data)
        g = param.grad.data  # type: ignore[union-attr]
        if "ms" not in state:
            state["ms"] = xp.zeros_like(param.data)
        ms = state["ms"]
        ms *= self.alpha
        ms += (1 - self.alpha) * g * g
        param.data -= self.lr * g / (xp.sqrt(ms) + self.eps)
