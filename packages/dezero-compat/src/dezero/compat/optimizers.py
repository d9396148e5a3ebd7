"""DeZero's ``dezero.optimizers``: SGD, MomentumSGD, AdaGrad, AdaDelta, Adam and the hooks.

The algorithms are the native ones. DeZero's protocol is kept on top: a hook is called
with the list of parameters that have a gradient (``hook(params)``), and an Optimizer
subclass written for DeZero implements ``update_one(param)``.
"""

from __future__ import annotations

from typing import Any

from dezero.nn import optimizers as _O

__all__ = [
    "Optimizer", "SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam",
    "WeightDecay", "ClipGrad", "FreezeParam",
]


def _params(params: Any) -> list[Any]:
    return [p for _, p in params] if params and isinstance(params[0], tuple) else list(params)


def _named(params: Any) -> list[tuple[str, Any]]:
    return list(params) if params and isinstance(params[0], tuple) else [("", p) for p in params]


class _DeZeroHooks:
    """``add_hook(f)`` with DeZero's protocol: ``f`` receives a list of Parameters."""

    hooks: list[Any]

    def add_hook(self, f: Any) -> Any:
        if not callable(f):
            raise TypeError(f"{type(self).__name__}.add_hook: hook must be callable")

        def hook(named: list[tuple[str, Any]]) -> None:
            f(_params(named))

        hook.__wrapped__ = f  # type: ignore[attr-defined]
        self.hooks.append(hook)
        return self


class Optimizer(_DeZeroHooks, _O.Optimizer):
    """Base class of DeZero-style optimizers: subclasses implement ``update_one(param)``."""

    def update(self) -> None:
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}.update: call setup(model) first")
        named = [(n, p) for n, p in self.target.named_params() if p.grad is not None]
        for hook in self.hooks:
            hook(named)
        for _, p in named:
            if p.grad is not None:
                self.update_one(p)

    def update_one(self, param: Any) -> None:  # type: ignore[override]
        raise NotImplementedError(f"{type(self).__name__}.update_one is not implemented")


class SGD(_DeZeroHooks, _O.SGD):
    """``param -= lr * grad``."""


class MomentumSGD(_DeZeroHooks, _O.MomentumSGD):
    """``v = momentum * v - lr * grad; param += v``."""


class AdaGrad(_DeZeroHooks, _O.AdaGrad):
    """AdaGrad (``lr=0.001``, ``eps=1e-8``)."""


class AdaDelta(_DeZeroHooks, _O.AdaDelta):
    """AdaDelta (``rho=0.95``, ``eps=1e-6``)."""


class Adam(_DeZeroHooks, _O.Adam):
    """Adam (``alpha=0.001``, ``beta1=0.9``, ``beta2=0.999``, ``eps=1e-8``)."""


class WeightDecay(_O.WeightDecay):
    """``grad += rate * param`` for every parameter given."""

    def __call__(self, params: Any) -> None:
        super().__call__(_named(params))


class ClipGrad(_O.ClipGrad):
    """Scale all gradients down so that their global norm is at most ``max_norm``."""

    def __call__(self, params: Any) -> None:
        super().__call__(_named(params))


class FreezeParam(_O.FreezeParam):
    """Drop the gradients of the given Layers' (or Parameters') parameters."""

    def __call__(self, params: Any) -> None:
        super().__call__(_named(params))
