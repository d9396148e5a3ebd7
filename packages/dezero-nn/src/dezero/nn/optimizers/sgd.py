"""Stochastic gradient descent, plain and with momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Parameter, get_array_module
from dezero.nn.optimizers.optimizer import Optimizer, check_positive, check_unit_interval

__all__ = ["SGD", "MomentumSGD"]

# Elements per block of an in-place update: 256 KiB of float32, which stays in cache.
_BLOCK = 1 << 16


def sub_scaled(p: Any, g: Any, rate: float, scratch: dict[Any, Any]) -> None:
    """``p -= rate * g`` in place, without a temporary the size of ``p``.

    For large NumPy arrays the product goes through a small block-sized buffer (kept in
    ``scratch``, one per dtype), so memory traffic is that of a fused update; ``g`` is
    left unchanged (it may be shared with another gradient, or read by the user). Other
    backends and small arrays use the plain expression, whose temporary is cheap there.
    """
    if (type(p) is not np.ndarray or type(g) is not np.ndarray or p.size <= _BLOCK
            or p.shape != g.shape or not (p.flags.c_contiguous and g.flags.c_contiguous)):
        p -= rate * g
        return
    buf = scratch.get(g.dtype)
    if buf is None:
        buf = scratch[g.dtype] = np.empty(_BLOCK, g.dtype)
    pf, gf = p.reshape(-1), g.reshape(-1)
    n = pf.size
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        b = buf[:j - i]
        np.multiply(gf[i:j], rate, out=b)  # a Python float: g's dtype, as rate * g gives
        view = pf[i:j]
        view -= b  # not pf[i:j] -= b, whose __setitem__ would copy the block onto itself


class SGD(Optimizer):
    """``W <- W - lr * g``."""

    lr_name = "lr"
    hyper_names = ("lr",)

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = check_positive("SGD", "learning rate", lr)
        self._scratch: dict[Any, Any] = {}

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        # In place, and with a Python-float rate, so float32 weights stay float32.
        sub_scaled(param.data, param.grad.data, self.lr, self._scratch)  # type: ignore[union-attr]


class MomentumSGD(Optimizer):
    """``v <- momentum * v - lr * g``; ``W <- W + v`` (DeZero's form)."""

    lr_name = "lr"
    hyper_names = ("lr", "momentum")

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = check_positive("MomentumSGD", "learning rate", lr)
        self.momentum = check_unit_interval("MomentumSGD", "momentum", momentum)
        self._scratch: dict[Any, Any] = {}

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        if "v" not in state:
            state["v"] = get_array_module(param.data).zeros_like(param.data)
        v = state["v"]
        v *= self.momentum
        sub_scaled(v, g, self.lr, self._scratch)
        param.data += v
