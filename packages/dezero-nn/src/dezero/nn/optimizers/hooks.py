"""Optimizer hooks: weight decay, gradient clipping by global norm, freezing parameters."""

from __future__ import annotations

import math
from typing import Any

from dezero.core import Parameter, get_array_module
from dezero.core.variable import _const
from dezero.nn.optimizers.optimizer import check_nonnegative, check_positive

__all__ = ["WeightDecay", "ClipGrad", "FreezeParam"]

Named = list[tuple[str, Parameter]]


class WeightDecay:
    """L2 regularisation through the gradient: ``g <- g + rate * W``."""

    def __init__(self, rate: float) -> None:
        self.rate = check_nonnegative("WeightDecay", "rate", rate)

    def __call__(self, params: Named) -> None:
        for _, p in params:
            # A new gradient, not an in-place edit: one grad Variable may be shared.
            p.grad = _const(p.grad.data + self.rate * p.data)  # type: ignore[union-attr]


class ClipGrad:
    """Scale all gradients by ``max_norm / (norm + 1e-6)`` when their global L2 norm exceeds it."""

    def __init__(self, max_norm: float) -> None:
        self.max_norm = check_positive("ClipGrad", "max_norm", max_norm)

    def __call__(self, params: Named) -> None:
        # Sum the squares on the device and read the result back once per backend, not
        # once per parameter: each read is a device synchronisation.
        partial: dict[Any, Any] = {}
        for _, p in params:
            g = p.grad.data.ravel()  # type: ignore[union-attr]
            xp = get_array_module(g)
            sq = xp.dot(g, g)
            partial[xp] = sq if xp not in partial else partial[xp] + sq
        total = 0.0
        for s in partial.values():
            total += float(s)
        norm = math.sqrt(total)
        rate = self.max_norm / (norm + 1e-6)
        if rate < 1.0:
            for _, p in params:
                p.grad = _const(p.grad.data * rate)  # type: ignore[union-attr]


class FreezeParam:
    """Skip updates of some parameters: give Layers, Parameters or dotted name prefixes.

    Examples:
        >>> opt.add_hook(FreezeParam(model.l1))      # or FreezeParam("l1")
    """

    def __init__(self, *targets: Any) -> None:
        from dezero.nn.layers.layer import Layer

        if not targets:
            raise ValueError("FreezeParam: give at least one Layer, Parameter or name")
        self._ids: set[int] = set()
        self._prefixes: list[str] = []
        for t in targets:
            if isinstance(t, Layer):
                self._ids.update(id(p) for p in t.params())
            elif isinstance(t, Parameter):
                self._ids.add(id(t))
            elif isinstance(t, str) and t:
                self._prefixes.append(t)
            else:
                raise TypeError(
                    f"FreezeParam: expected a Layer, Parameter or name, got {type(t).__name__}"
                )

    def _frozen(self, name: str, p: Parameter) -> bool:
        if id(p) in self._ids:
            return True
        return any(name == pre or name.startswith(pre + ".") for pre in self._prefixes)

    def __call__(self, params: Named) -> None:
        for name, p in params:
            if self._frozen(name, p):
                p.grad = None
