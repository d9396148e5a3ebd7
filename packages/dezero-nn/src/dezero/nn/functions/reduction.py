"""Reductions the core lacks: ``average`` (DeZero book's ``F.average``)."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable
from dezero.core.ops import sum
from dezero.core.variable import as_variable

__all__ = ["average"]


def average(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Arithmetic mean of ``x`` over ``axis`` (all axes when None), differentiable.

    Args:
        x: a Variable or array.
        axis: an int, a tuple of ints, or None.
        keepdims: keep the reduced axes with length 1.

    Returns:
        A Variable of ``x``'s dtype.

    Examples:
        >>> float(F.average(np.array([1.0, 2.0, 6.0])).data)
        3.0
    """
    x = as_variable(x)
    if x.size == 0:
        raise ValueError(f"average: x is empty (shape {x.shape}); its mean is undefined")
    y = sum(x, axis=axis, keepdims=keepdims)
    # Scalars are weak: the ratio keeps x's dtype.
    return y * (y.size / x.size)
