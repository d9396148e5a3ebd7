"""Normalisation: batch_norm (batch statistics / running averages) and layer_norm."""

from __future__ import annotations

from typing import Any

from dezero.core import Config, Function, Variable, get_array_module
from dezero.core.ops import reshape, sum, sum_to
from dezero.core.variable import _const, _shape
from dezero.nn.functions._device import check_same_device

__all__ = ["batch_norm", "layer_norm"]


class _Normalize(Function):
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` with the statistics of ``x`` over ``axes``.

    The backward formula is written in Variable ops that recompute the statistics from
    ``x``, so it is the exact gradient as a function of ``x`` and can be differentiated
    again.
    """

    def __init__(self, axes: tuple[int, ...], gshape: tuple[int, ...], eps: float) -> None:
        self.axes, self.gshape, self.eps = axes, gshape, eps

    def forward(self, x: Any, gamma: Any, beta: Any) -> Any:
        xp = get_array_module(x)
        self.mu = x.mean(axis=self.axes, keepdims=True)
        xc = x - self.mu
        self.var = (xc * xc).mean(axis=self.axes, keepdims=True)
        xhat = xc / xp.sqrt(self.var + self.eps)
        return gamma.reshape(self.gshape) * xhat + beta.reshape(self.gshape)

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, gamma, beta = self.inputs
        nx, ng, nb = self.needs_input_grad
        axes = self.axes
        m = 1
        for a in axes:
            m *= x.shape[a]
        mu = sum(x, axes, keepdims=True) / m
        xc = x - mu
        inv = (sum(xc * xc, axes, keepdims=True) / m + self.eps) ** -0.5
        xhat = xc * inv
        gx = ggamma = gbeta = None
        if nx:
            # d = dL/dxhat; gamma may vary along the normalised axes (layer_norm).
            d = gy * reshape(gamma, self.gshape)
            mean_d = sum(d, axes, keepdims=True) / m
            mean_dx = sum(d * xhat, axes, keepdims=True) / m
            gx = inv * (d - mean_d - xhat * mean_dx)
        if ng:
            ggamma = reshape(sum_to(gy * xhat, self.gshape), gamma.shape)
        if nb:
            gbeta = reshape(sum_to(gy, self.gshape), beta.shape)
        return gx, ggamma, gbeta


class BatchNorm(_Normalize):
    def __init__(
        self, axes: tuple[int, ...], gshape: tuple[int, ...], eps: float, decay: float,
        running_mean: Any, running_var: Any,
    ) -> None:
        super().__init__(axes, gshape, eps)
        self.decay, self.running_mean, self.running_var = decay, running_mean, running_var

    def forward(self, x: Any, gamma: Any, beta: Any) -> Any:
        y = super().forward(x, gamma, beta)
        m = x.size // gamma.size
        # Unbiased variance for the running estimate (as Chainer and PyTorch do).
        adjust = m / max(m - 1, 1)
        d = self.decay
        self.running_mean *= d
        self.running_mean += (1 - d) * self.mu.reshape(self.running_mean.shape)
        self.running_var *= d
        self.running_var += ((1 - d) * adjust) * self.var.reshape(self.running_var.shape)
        return y


class FixedNormalization(Function):
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` with given (constant) statistics."""

    def __init__(self, mean: Any, var: Any, gshape: tuple[int, ...], eps: float) -> None:
        self.gshape = gshape
        xp = get_array_module(mean)
        self.mean = mean.reshape(gshape)
        self.inv = 1 / xp.sqrt(var.reshape(gshape) + eps)

    def forward(self, x: Any, gamma: Any, beta: Any) -> Any:
        xhat = (x - self.mean) * self.inv
        return (gamma.reshape(self.gshape) * xhat + beta.reshape(self.gshape)).astype(
            x.dtype, copy=False
        )

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, gamma, beta = self.inputs
        nx, ng, nb = self.needs_input_grad
        inv = _const(self.inv.astype(gy.dtype, copy=False))
        gx = gy * (reshape(gamma, self.gshape) * inv) if nx else None
        ggamma = gbeta = None
        if ng:
            xhat = (x - _const(self.mean.astype(gy.dtype, copy=False))) * inv
            ggamma = reshape(sum_to(gy * xhat, self.gshape), gamma.shape)
        if nb:
            gbeta = reshape(sum_to(gy, self.gshape), beta.shape)
        return gx, ggamma, gbeta


def _raw(a: Any) -> Any:
    return a.data if isinstance(a, Variable) else a


def batch_norm(
    x: Any, gamma: Any, beta: Any, mean: Any, var: Any, decay: float = 0.9, eps: float = 2e-5
) -> Variable:
    """Batch normalisation over every axis but the channel axis 1.

    In training (``Config.train``) it normalises with the batch's statistics and updates
    the running averages ``mean`` and ``var`` **in place**
    (``mean = decay * mean + (1 - decay) * batch_mean``, the variance unbiased); in
    ``test_mode()`` it normalises with ``mean`` and ``var``.

    Args:
        x: input of shape ``(N, C)`` or ``(N, C, ...)``.
        gamma: scale of shape ``(C,)``.
        beta: shift of shape ``(C,)``.
        mean: running mean, an array of shape ``(C,)`` (updated in training).
        var: running variance, an array of shape ``(C,)`` (updated in training).
        decay: weight of the old running value.
        eps: added to the variance.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> mean, var = np.zeros(1), np.ones(1)
        >>> y = F.batch_norm(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), mean, var)
        >>> y.data.round(4).ravel(), mean.round(4), var.round(4)
        (array([-1.,  1.]), array([0.2]), array([1.1]))
    """
    xs = _shape(x)
    if len(xs) < 2:
        raise ValueError(f"batch_norm: x must be at least 2-d (N, C, ...), got shape {xs}")
    c = xs[1]
    for name, a in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        if _shape(a) != (c,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({c},) for x of shape {xs}, got {_shape(a)}"
            )
    if not 0 <= decay <= 1:
        raise ValueError(f"batch_norm: decay must be in [0, 1], got {decay}")
    # The running statistics are not Function inputs: the engine's device check misses them.
    check_same_device("batch_norm", "x", x, mean=_raw(mean), var=_raw(var))
    gshape = (1, c) + (1,) * (len(xs) - 2)
    if Config.train:
        axes = (0,) + tuple(range(2, len(xs)))
        if any(xs[a] == 0 for a in axes):
            # The batch mean of nothing is NaN, and it would stay in the running averages.
            raise ValueError(
                f"batch_norm: empty batch in training mode (x has shape {xs}); the running "
                "statistics need at least one value per channel"
            )
        return BatchNorm(axes, gshape, eps, decay, _raw(mean), _raw(var))(x, gamma, beta)
    return FixedNormalization(_raw(mean), _raw(var), gshape, eps)(x, gamma, beta)


def layer_norm(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Variable:
    """Layer normalisation over the last axis of ``x`` (the same in training and test).

    Args:
        x: input of shape ``(..., D)``.
        gamma: scale of shape ``(D,)``.
        beta: shift of shape ``(D,)``.
        eps: added to the variance.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> F.layer_norm(np.array([[1.0, 3.0]]), np.ones(2), np.zeros(2)).data.round(4)
        array([[-1.,  1.]])
    """
    xs = _shape(x)
    if len(xs) < 1:
        raise ValueError("layer_norm: x must be at least 1-d")
    d = xs[-1]
    for name, a in (("gamma", gamma), ("beta", beta)):
        if _shape(a) != (d,):
            raise ValueError(
                f"layer_norm: {name} must have shape ({d},) for x of shape {xs}, got {_shape(a)}"
            )
    return _Normalize((len(xs) - 1,), (d,), eps)(x, gamma, beta)
