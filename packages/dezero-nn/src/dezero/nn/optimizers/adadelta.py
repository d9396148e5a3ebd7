"""AdaDelta (Zeiler 2012)."""

from __future__ import annotations

from typing import Any

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import (
    Optimizer,
    check_positive,
    check_unit_interval,
)

__all__ = ["AdaDelta"]


class AdaDelta(Optimizer):
    """Zeiler's rule, with ``lr`` as an overall factor (1.0 is the paper's form).

    ``msg <- rho*msg + (1-rho)*g^2``; ``dx = sqrt((msdx+eps)/(msg+eps)) * g``;
    ``msdx <- rho*msdx + (1-rho)*dx^2``; ``W <- W - lr*dx``.
    """

    lr_name = "lr"
    hyper_names = ("lr", "rho", "eps")

    def __init__(self, rho: float = 0.95, eps: float = 1e-6, lr: float = 1.0) -> None:
        super().__init__()
        self.rho = check_unit_interval("AdaDelta", "rho", rho)
        self.eps = check_positive("AdaDelta", "eps", eps)
        self.lr = check_positive("AdaDelta", "learning rate", lr)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        xp = get_array_module(param.data)
        g = param.grad.data  # type: ignore[union-attr]
        if "msg" not in state:
            state["msg"] = xp.zeros_like(param.data)
            state["msdx"] = xp.zeros_like(param.data)
        msg, msdx = state["msg"], state["msdx"]
        rho, eps = self.rho, self.eps
        msg *= rho
        msg += (1 - rho) * g * g
        dx = xp.sqrt((msdx + eps) / (msg + eps)) * g
        msdx *= rho
        msdx += (1 - rho) * dx * dx
        param.data -= self.lr * dx
