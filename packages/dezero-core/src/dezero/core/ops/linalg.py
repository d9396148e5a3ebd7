"""Matrix product."""

from __future__ import annotations

from typing import Any

from dezero.core.function import Function
from dezero.core.ops.arithmetic import _unbroadcast
from dezero.core.ops.shape import reshape, transpose
from dezero.core.variable import Variable

__all__ = ["matmul"]


def _swap_last(x: Variable) -> Variable:
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, axes)


class MatMul(Function):
    def forward(self, x: Any, W: Any) -> Any:
        if x.ndim == 0 or W.ndim == 0:
            raise ValueError("matmul does not take 0-d operands; use mul")
        if x.shape[-1] != W.shape[-2 if W.ndim > 1 else 0]:
            raise ValueError(
                f"inner dimensions differ: {x.shape} @ {W.shape} "
                f"({x.shape[-1]} != {W.shape[-2 if W.ndim > 1 else 0]})"
            )
        return x @ W

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x, W = self.inputs
        nx, nw = self.needs_input_grad
        # Promote vectors to matrices so one formula covers every case.
        x2 = reshape(x, (1, x.shape[0])) if x.ndim == 1 else x
        W2 = reshape(W, (W.shape[0], 1)) if W.ndim == 1 else W
        g = gy
        if x.ndim == 1:
            g = reshape(g, g.shape[:-1] + (1,) + g.shape[-1:]) if W.ndim > 1 else g
        if W.ndim == 1:
            g = reshape(g, g.shape + (1,)) if x.ndim > 1 else reshape(g, (1, 1))
        gx = gW = None
        if nx:
            gx = _unbroadcast(matmul(g, _swap_last(W2)), x2)
            gx = reshape(gx, x.shape)
        if nw:
            gW = _unbroadcast(matmul(_swap_last(x2), g), W2)
            gW = reshape(gW, W.shape)
        return gx, gW


def matmul(x: Any, W: Any) -> Variable:
    """Matrix product ``x @ W`` (batched and vector forms as in NumPy).

    Args:
        x: the left operand, at least 1-d.
        W: the right operand, at least 1-d.

    Returns:
        A Variable of NumPy's ``x @ W`` shape.

    Examples:
        >>> matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])).data
        array([[11.]])
    """
    return MatMul()(x, W)
