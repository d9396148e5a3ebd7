"""Array manipulation: flatten, expand_dims, squeeze, concat, stack, split, clip, where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dezero.core import Function, Variable, get_array_module
from dezero.core.ops import reshape, sum_to
from dezero.core.variable import _const, as_variable
from dezero.nn.functions._device import check_same_device

__all__ = ["flatten", "expand_dims", "squeeze", "concat", "stack", "split", "clip", "where"]


def _axis(fname: str, axis: int, ndim: int) -> int:
    if not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"{fname}: axis {axis!r} is out of range for {ndim} dimensions")
    return axis % ndim


# Reshapes: composed from core's reshape, whose gradient reshapes back.
def flatten(x: Any) -> Variable:
    """``x`` reshaped to ``(N, -1)``: the batch axis kept, the rest flattened (as DeZero).

    Args:
        x: a Variable or array of at least one dimension.

    Returns:
        A 2-d Variable.

    Examples:
        >>> F.flatten(np.zeros((2, 3, 4))).shape
        (2, 12)
    """
    x = as_variable(x)
    if x.ndim < 1:
        raise ValueError("flatten: x must have a batch axis, got a 0-d input")
    return reshape(x, (x.shape[0], -1))


def expand_dims(x: Any, axis: int) -> Variable:
    """``x`` with a new axis of length one inserted at ``axis``.

    Args:
        x: a Variable or array.
        axis: position of the new axis in the result (negative counts from the end).

    Returns:
        A Variable with one more dimension.

    Examples:
        >>> F.expand_dims(np.zeros((2, 3)), 1).shape
        (2, 1, 3)
    """
    x = as_variable(x)
    a = _axis("expand_dims", axis, x.ndim + 1)
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """``x`` without axes of length one (only ``axis`` when given).

    Args:
        x: a Variable or array.
        axis: an axis or axes to remove, each of length one; None for all of them.

    Returns:
        A Variable with fewer dimensions.

    Examples:
        >>> F.squeeze(np.zeros((2, 1, 3))).shape
        (2, 3)
    """
    x = as_variable(x)
    if axis is None:
        axes = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        axes = {_axis("squeeze", a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)}
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} of shape {x.shape} is not of length one")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


class Concat(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        self.sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy: Variable) -> tuple[Variable, ...]:
        points = []
        acc = 0
        for s in self.sizes[:-1]:
            acc += s
            points.append(acc)
        gs = Split(points, self.axis)(gy)
        return tuple(gs) if isinstance(gs, list) else (gs,)


def concat(xs: Sequence[Any], axis: int = 0) -> Variable:
    """Join Variables or arrays along an existing ``axis``.

    Args:
        xs: a non-empty sequence; shapes equal except along ``axis``.
        axis: the joining axis.

    Returns:
        A Variable.

    Examples:
        >>> F.concat([np.array([1.0]), np.array([2.0, 3.0])]).data
        array([1., 2., 3.])
    """
    if len(xs) == 0:
        raise ValueError("concat: xs is empty")
    shapes = [tuple(getattr(x, "shape", ())) for x in xs]
    a = _axis("concat", axis, len(shapes[0]))
    ref = shapes[0][:a] + shapes[0][a + 1 :]
    if any(len(s) != len(shapes[0]) or s[:a] + s[a + 1 :] != ref for s in shapes):
        raise ValueError(f"concat: shapes {shapes} differ outside axis {a}")
    return Concat(a)(*xs)


def stack(xs: Sequence[Any], axis: int = 0) -> Variable:
    """Join same-shaped Variables or arrays along a new ``axis``.

    Args:
        xs: a non-empty sequence of equal shapes.
        axis: position of the new axis in the result.

    Returns:
        A Variable with one more dimension.

    Examples:
        >>> F.stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])], axis=1).data
        array([[1., 3.],
               [2., 4.]])
    """
    if len(xs) == 0:
        raise ValueError("stack: xs is empty")
    shapes = {tuple(getattr(x, "shape", ())) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all inputs must have one shape, got {sorted(shapes)}")
    return concat([expand_dims(x, axis) for x in xs], axis)


class Split(Function):
    def __init__(self, indices: Any, axis: int) -> None:
        self.indices, self.axis = indices, axis

    def forward(self, x: Any) -> Any:
        return tuple(get_array_module(x).split(x, self.indices, axis=self.axis))

    def backward(self, *gys: Variable) -> Variable:
        return Concat(self.axis)(*gys)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Variable, ...]:
    """Cut ``x`` along ``axis`` into equal sections or at the given indices (as ``numpy.split``).

    Args:
        x: a Variable or array.
        indices_or_sections: a number of equal sections, or the split points.
        axis: the cut axis.

    Returns:
        A tuple of Variables.

    Examples:
        >>> [y.data for y in F.split(np.arange(4.0), [1])]
        [array([0.]), array([1., 2., 3.])]
    """
    x = as_variable(x)
    a = _axis("split", axis, x.ndim)
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n < 1 or x.shape[a] % n:
            raise ValueError(
                f"split: axis {a} of shape {x.shape} does not divide into {n} equal sections"
            )
        step = x.shape[a] // n
        points: Any = [step * i for i in range(1, n)]
    else:
        points = [int(i) for i in indices_or_sections]
    ys = Split(points, a)(x)
    return tuple(ys) if isinstance(ys, list) else (ys,)


class Clip(Function):
    def __init__(self, x_min: float, x_max: float) -> None:
        self.x_min, self.x_max = x_min, x_max

    def forward(self, x: Any) -> Any:
        return get_array_module(x).clip(x, self.x_min, self.x_max)

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0].data
        mask = (x >= self.x_min) & (x <= self.x_max)
        return gy * _const(mask.astype(gy.dtype))


def clip(x: Any, x_min: float, x_max: float) -> Variable:
    """``x`` limited to ``[x_min, x_max]``; the gradient passes only inside the range.

    Args:
        x: a Variable or array.
        x_min: the lower bound.
        x_max: the upper bound, ``x_min <= x_max``.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.clip(np.array([-2.0, 0.5, 3.0]), -1.0, 1.0).data
        array([-1. ,  0.5,  1. ])
    """
    if x_min > x_max:
        raise ValueError(f"clip: x_min {x_min} is larger than x_max {x_max}")
    return Clip(x_min, x_max)(x)


class Where(Function):
    def __init__(self, condition: Any) -> None:
        self.condition = condition

    def forward(self, x0: Any, x1: Any) -> Any:
        return get_array_module(self.condition).where(self.condition, x0, x1)

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        c = self.condition
        g0 = sum_to(gy * _const(c.astype(gy.dtype)), x0.shape) if n0 else None
        g1 = sum_to(gy * _const((~c).astype(gy.dtype)), x1.shape) if n1 else None
        return g0, g1


def where(condition: Any, x0: Any, x1: Any) -> Variable:
    """Element-wise choice: ``x0`` where ``condition`` holds, else ``x1`` (broadcasting).

    Args:
        condition: a boolean array (or Variable holding one).
        x0: the values where ``condition`` holds: a Variable, array or scalar.
        x1: the values elsewhere: a Variable, array or scalar.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> F.where(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0])).data
        array([1., 4.])
    """
    c = condition.data if isinstance(condition, Variable) else condition
    if getattr(getattr(c, "dtype", None), "kind", None) != "b":
        raise TypeError(
            f"where: condition must be a boolean array, got {getattr(c, 'dtype', type(c))}"
        )
    check_same_device("where", "condition", c, x0=x0, x1=x1)
    return Where(c)(x0, x1)
