"""Reductions: sum, max, min."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core.function import Function
from dezero.core.ops.shape import broadcast_to, reshape
from dezero.core.variable import Variable, _const, _shape

__all__ = ["sum", "max", "min"]


def _normalize_axis(axis: Any, shape: tuple[int, ...], fname: str) -> tuple[int, ...] | None:
    if axis is None:
        return None
    ndim = len(shape)
    axes = (int(axis),) if isinstance(axis, (int, np.integer)) else tuple(int(a) for a in axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{fname}: axis {a} is out of range for an array of {ndim} dims (shape {shape})"
            )
    norm = tuple(sorted(a % ndim for a in axes))
    if len(set(norm)) != len(norm):
        raise ValueError(f"{fname}: axis {axis} repeats an axis (shape {shape})")
    return norm


def _keepdims_shape(in_shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axes else s for i, s in enumerate(in_shape))


class Sum(Function):
    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Variable) -> Variable:
        gy = reshape(gy, _keepdims_shape(self.x_shape, self.axis))
        return broadcast_to(gy, self.x_shape)


class _Extremum(Function):
    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        ydata = self.output_or(lambda: _const(self.forward(x.data))).data
        shape = _keepdims_shape(x.shape, self.axis)
        # Every element equal to the extremum receives the gradient (as DeZero does).
        mask = x.data == ydata.reshape(shape)
        gy = broadcast_to(reshape(gy, shape), x.shape)
        return gy * _const(mask.astype(gy.dtype))


class Max(_Extremum):
    def forward(self, x: Any) -> Any:
        return x.max(axis=self.axis, keepdims=self.keepdims)


class Min(_Extremum):
    def forward(self, x: Any) -> Any:
        return x.min(axis=self.axis, keepdims=self.keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Sum of ``x`` over ``axis`` (all axes when None).

    Args:
        x: a Variable or array.
        axis: an int, a tuple of ints, or None.
        keepdims: keep the reduced axes with length 1.

    Returns:
        A Variable.

    Examples:
        >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0).data
        array([4., 6.])
    """
    return Sum(_normalize_axis(axis, _shape(x), "sum"), keepdims)(x)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Maximum of ``x`` over ``axis``; ties share the gradient.

    Args:
        x: a Variable or array.
        axis: an int, a tuple of ints, or None.
        keepdims: keep the reduced axes with length 1.

    Returns:
        A Variable.

    Examples:
        >>> max(np.array([[1.0, 5.0], [3.0, 2.0]]), axis=1).data
        array([5., 3.])
    """
    return Max(_normalize_axis(axis, _shape(x), "max"), keepdims)(x)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Minimum of ``x`` over ``axis``; ties share the gradient.

    Args:
        x: a Variable or array.
        axis: an int, a tuple of ints, or None.
        keepdims: keep the reduced axes with length 1.

    Returns:
        A Variable.

    Examples:
        >>> min(np.array([[1.0, 5.0], [3.0, 2.0]]), axis=0).data
        array([1., 2.])
    """
    return Min(_normalize_axis(axis, _shape(x), "min"), keepdims)(x)
