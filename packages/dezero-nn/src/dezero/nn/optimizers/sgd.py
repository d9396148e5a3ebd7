"""Stochastic gradient descent, plain and with momentum."""

from __future__ import annotations

from typing import Any

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import Optimizer, check_positive, check_unit_interval

__all__ = ["SGD", "MomentumSGD"]


class SGD(Optimizer):
    """``W <- W - lr * g``."""

    lr_name = "lr"
    hyper_names = ("lr",)

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = check_positive("SGD", "learning rate", lr)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        # In place, and with a Python-float rate, so float32 weights stay float32.
        param.data -= self.lr * param.grad.data  # type: ignore[union-attr]


class MomentumSGD(Optimizer):
    """``v <- momentum * v - lr * g``; ``W <- W + v`` (DeZero's form)."""

    lr_name = "lr"
    hyper_names = ("lr", "momentum")

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = check_positive("MomentumSGD", "learning rate", lr)
        self.momentum = check_unit_interval("MomentumSGD", "momentum", momentum)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        if "v" not in state:
            state["v"] = get_array_module(param.data).zeros_like(param.data)
        v = state["v"]
        v *= self.momentum
        v -= self.lr * g
        param.data += v
