"""AdaGrad (Duchi et al. 2011)."""

from __future__ import annotations

from typing import Any

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import Optimizer, check_positive

__all__ = ["AdaGrad"]


class AdaGrad(Optimizer):
    """``h <- h + g*g``; ``W <- W - lr * g / (sqrt(h) + eps)``."""

    lr_name = "lr"
    hyper_names = ("lr", "eps")

    def __init__(self, lr: float = 0.001, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = check_positive("AdaGrad", "learning rate", lr)
        self.eps = check_positive("AdaGrad", "eps", eps)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        xp = get_array_module(param.data)
        g = param.grad.data  # type: ignore[union-attr]
        if "h" not in state:
            state["h"] = xp.zeros_like(param.data)
        h = state["h"]
        h += g * g
        param.data -= self.lr * g / (xp.sqrt(h) + self.eps)
