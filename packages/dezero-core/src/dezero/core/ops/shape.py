"""Shape ops: reshape, transpose, broadcast_to, sum_to, get_item."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core.backend import backend_of
from dezero.core.function import Function
from dezero.core.variable import Variable, as_variable

__all__ = ["reshape", "transpose", "broadcast_to", "sum_to", "get_item"]


def _sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum the array ``x`` over the axes that broadcasting added to reach ``x.shape``."""
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot sum shape {x.shape} to the longer shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    for i, s in enumerate(shape):
        if s != 1 and x.shape[lead + i] != s:
            raise ValueError(f"sum_to: shape {x.shape} does not broadcast from {shape}")
    y = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        y = y.reshape(shape)
    return y


class Reshape(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy: Variable) -> Variable:
        return reshape(gy, self.x_shape)


class Transpose(Function):
    def __init__(self, axes: tuple[int, ...] | None = None) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        return x.transpose(self.axes)

    def backward(self, gy: Variable) -> Variable:
        if self.axes is None:
            return transpose(gy)
        inv = tuple(int(i) for i in np.argsort([a % gy.ndim for a in self.axes]))
        return transpose(gy, inv)


class BroadcastTo(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        try:
            return backend_of(x).xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"cannot broadcast shape {x.shape} to shape {self.shape}"
            ) from None

    def backward(self, gy: Variable) -> Variable:
        return sum_to(gy, self.x_shape)


class SumTo(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        return _sum_to_array(x, self.shape)

    def backward(self, gy: Variable) -> Variable:
        return broadcast_to(gy, self.x_shape)


def _is_basic_index(slices: Any) -> bool:
    items = slices if isinstance(slices, tuple) else (slices,)
    return all(
        s is None or s is Ellipsis or isinstance(s, (slice, int, np.integer)) for s in items
    )


class GetItem(Function):
    def __init__(self, slices: Any) -> None:
        self.slices = slices

    def forward(self, x: Any) -> Any:
        return x[self.slices]

    def backward(self, gy: Variable) -> Variable:
        return GetItemGrad(self.slices, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """The gradient of ``x[slices]``: ``gy`` scattered (added) into zeros of ``x``'s shape."""

    def __init__(self, slices: Any, in_shape: tuple[int, ...]) -> None:
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy: Any) -> Any:
        b = backend_of(gy)
        gx = b.xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.slices):
            gx[self.slices] = gy  # basic indexing never repeats an element
        else:
            b.scatter_add(gx, self.slices, gy)
        return gx

    def backward(self, ggx: Variable) -> Variable:
        return get_item(ggx, self.slices)


def reshape(x: Any, shape: Any) -> Variable:
    """``x`` with a new shape (one dimension may be -1).

    Args:
        x: a Variable or array.
        shape: the new shape, a tuple or an int.

    Returns:
        A Variable of ``shape`` (``x`` itself when the shape is unchanged).

    Examples:
        >>> reshape(np.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    x = as_variable(x)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if x.shape == shape:
        return x
    return Reshape(shape)(x)


def transpose(x: Any, axes: Any = None) -> Variable:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None).

    Args:
        x: a Variable or array.
        axes: a permutation of ``x``'s axes, or None.

    Returns:
        A Variable with permuted axes.

    Examples:
        >>> transpose(np.array([[1.0, 2.0, 3.0]])).data
        array([[1.],
               [2.],
               [3.]])
    """
    if axes is not None:
        axes = tuple(axes)
        nd = as_variable(x).ndim
        if sorted(a % nd if -nd <= a < nd else a for a in axes) != list(range(nd)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {nd} axes of shape "
                f"{as_variable(x).shape}"
            )
    return Transpose(axes)(x)


def broadcast_to(x: Any, shape: Any) -> Variable:
    """Broadcast ``x`` to ``shape``; its gradient is summed back.

    Args:
        x: a Variable or array.
        shape: a shape ``x`` broadcasts to.

    Returns:
        A Variable of ``shape``.

    Examples:
        >>> broadcast_to(np.array([1.0, 2.0]), (2, 2)).data
        array([[1., 2.],
               [1., 2.]])
    """
    x = as_variable(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def sum_to(x: Any, shape: Any) -> Variable:
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting).

    Args:
        x: a Variable or array.
        shape: a shape that broadcasts to ``x``'s.

    Returns:
        A Variable of ``shape``.

    Examples:
        >>> sum_to(np.array([[1.0, 2.0], [3.0, 4.0]]), (1, 2)).data
        array([[4., 6.]])
    """
    x = as_variable(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape)(x)


def get_item(x: Any, slices: Any) -> Variable:
    """``x[slices]`` with ints, slices, None, Ellipsis or integer/boolean index arrays.

    Args:
        x: a Variable or array.
        slices: the index, as NumPy takes it.

    Returns:
        A Variable; its gradient adds up at repeated indices.

    Examples:
        >>> x = Variable(np.array([1.0, 2.0, 3.0]))
        >>> y = get_item(x, [0, 0, 2])
        >>> y.backward()
        >>> x.grad
        variable([2. 0. 1.])
    """
    if isinstance(slices, Variable):
        slices = slices.data
    elif isinstance(slices, list):
        slices = np.asarray(slices)
    return GetItem(slices)(x)
