"""Arithmetic ops behind the operators: add, sub, mul, div, neg, pow."""

from __future__ import annotations

import cmath
import math
from typing import Any

import numpy as np

from dezero.core.function import Function
from dezero.core.ops.elementwise import log
from dezero.core.ops.shape import sum_to
from dezero.core.variable import Variable

__all__ = ["add", "sub", "mul", "div", "neg", "pow"]


def _unbroadcast(gx: Variable, x: Variable) -> Variable:
    """Sum a broadcast gradient back to the shape of input ``x``."""
    if gx.data.shape != x.shape:
        return sum_to(gx, x.shape)
    return gx


class Add(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 + x1

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        return (_unbroadcast(gy, x0) if n0 else None, _unbroadcast(gy, x1) if n1 else None)


class Sub(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 - x1

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        return (_unbroadcast(gy, x0) if n0 else None, _unbroadcast(-gy, x1) if n1 else None)


class Mul(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 * x1

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        # Mul() directly rather than ``*``: backward runs once per node, frames add up.
        gx0 = _unbroadcast(Mul()(gy, x1), x0) if n0 else None
        gx1 = _unbroadcast(Mul()(gy, x0), x1) if n1 else None
        return gx0, gx1


class Div(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 / x1

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        gx0 = _unbroadcast(gy / x1, x0) if n0 else None
        gx1 = _unbroadcast(-gy * x0 / (x1 * x1), x1) if n1 else None
        return gx0, gx1


class Neg(Function):
    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Variable) -> Variable:
        return -gy


class Pow(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0**x1

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        n0, n1 = self.needs_input_grad
        gx0 = gx1 = None
        if n0:
            if x1.requires_grad:
                gx0 = gy * x1 * x0 ** (x1 - 1)
            else:
                # A constant exponent stays raw, so a Python scalar stays weakly typed.
                c = x1.data
                if isinstance(c, (int, float, np.generic)) and c == 0:
                    # d/dx x**0 = 0 everywhere; the general formula gives 0 * 0**-1 = nan at 0.
                    gx0 = gy * 0.0
                else:
                    gx0 = gy * c * x0 ** (c - 1)
            gx0 = _unbroadcast(gx0, x0)
        if n1:
            y = self.output_or(lambda: x0**x1)
            c0 = x0.data
            if type(c0) in (int, float):
                # A Python-scalar base: its log stays a weak Python float (float32 stays).
                gx1 = _unbroadcast(gy * y * math.log(c0), x1)
            elif isinstance(c0, np.generic):
                # A NumPy-scalar base: its log stays a scalar, never a 0-d host array (which
                # could not meet a GPU array).
                gx1 = _unbroadcast(gy * y * np.log(c0), x1)
            else:
                gx1 = _unbroadcast(gy * y * log(x0), x1)
        return gx0, gx1


# ---- a Variable with a Python scalar -------------------------------------------------
# ``x * 0.5`` keeps the scalar in the node rather than making it a second input: one
# input Variable fewer per op to create, to keep alive and for the cycle collector to walk.
# Python scalars stay weak (float32 * 0.5 stays float32). Arrays and NumPy scalars still
# go through the two-input Functions above.
_PY_SCALARS = frozenset({int, float, complex, bool})


class _ScalarOp(Function):
    """Base of the ops between one Variable and a Python scalar ``c`` held by the node."""

    def __init__(self, c: int | float | complex) -> None:
        self.c = c

    @property
    def name(self) -> str:
        # The scalar shows in graph pictures and error messages: "MulScalar(0.5)".
        return f"{type(self).__name__}({self.c!r})"


class AddScalar(_ScalarOp):
    """``x + c``."""

    def forward(self, x: Any) -> Any:
        return x + self.c

    def backward(self, gy: Variable) -> Variable:
        return gy


class SubScalar(_ScalarOp):
    """``x - c``."""

    def forward(self, x: Any) -> Any:
        return x - self.c

    def backward(self, gy: Variable) -> Variable:
        return gy


class RSubScalar(_ScalarOp):
    """``c - x``."""

    def forward(self, x: Any) -> Any:
        return self.c - x

    def backward(self, gy: Variable) -> Variable:
        return Neg()(gy)


class MulScalar(_ScalarOp):
    """``x * c``."""

    def forward(self, x: Any) -> Any:
        return x * self.c

    def backward(self, gy: Variable) -> Variable:
        return MulScalar(self.c)(gy)


class DivScalar(_ScalarOp):
    """``x / c``."""

    def forward(self, x: Any) -> Any:
        return x / self.c

    def backward(self, gy: Variable) -> Variable:
        return DivScalar(self.c)(gy)


class RDivScalar(_ScalarOp):
    """``c / x``."""

    def forward(self, x: Any) -> Any:
        return self.c / x

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        return MulScalar(-self.c)(gy) / (x * x)


class PowScalar(_ScalarOp):
    """``x ** c``."""

    def forward(self, x: Any) -> Any:
        return x**self.c

    def backward(self, gy: Variable) -> Variable:
        c = self.c
        if c == 0:
            # d/dx x**0 = 0 everywhere; the general formula gives 0 * 0**-1 = nan at 0.
            return MulScalar(0.0)(gy)
        return gy * c * self.inputs[0] ** (c - 1)


class RPowScalar(_ScalarOp):
    """``c ** x``."""

    def forward(self, x: Any) -> Any:
        return self.c**x

    def backward(self, gy: Variable) -> Variable:
        c = self.c
        y = self.output_or(lambda: RPowScalar(c)(self.inputs[0]))
        # log(c) as a Python scalar, so that it stays weak (float32 stays float32).
        return gy * y * (cmath.log(c) if isinstance(c, complex) else math.log(c))


class Cast(Function):
    """``x`` converted to ``dtype``; the gradient is converted back to ``x``'s dtype.

    The engine uses it to give a gradient its variable's dtype when the formula produced
    another (a float32 Variable times a float64 array gives a float64 ``gy * w``).
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x: Any) -> Any:
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy: Variable) -> Variable:
        return _cast(gy, self.in_dtype)


def _cast(x: Variable, dtype: Any) -> Variable:
    return x if x.dtype == dtype else Cast(dtype)(x)


def add(x0: Any, x1: Any) -> Variable:
    """``x0 + x1`` with broadcasting.

    Args:
        x0: a Variable, array or scalar.
        x1: a Variable, array or scalar.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> add(np.array([1.0, 2.0]), np.array([3.0, 4.0])).data
        array([4., 6.])
    """
    if type(x1) in _PY_SCALARS:
        return AddScalar(x1)(x0)
    if type(x0) in _PY_SCALARS:
        return AddScalar(x0)(x1)
    return Add()(x0, x1)


def sub(x0: Any, x1: Any) -> Variable:
    """``x0 - x1`` with broadcasting.

    Args:
        x0: a Variable, array or scalar.
        x1: a Variable, array or scalar.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> sub(np.array([5.0, 3.0]), 1.0).data
        array([4., 2.])
    """
    if type(x1) in _PY_SCALARS:
        return SubScalar(x1)(x0)
    if type(x0) in _PY_SCALARS:
        return RSubScalar(x0)(x1)
    return Sub()(x0, x1)


def mul(x0: Any, x1: Any) -> Variable:
    """``x0 * x1`` with broadcasting.

    Args:
        x0: a Variable, array or scalar.
        x1: a Variable, array or scalar.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> mul(np.array([1.0, 2.0]), np.array([3.0, 4.0])).data
        array([3., 8.])
    """
    if type(x1) in _PY_SCALARS:
        return MulScalar(x1)(x0)
    if type(x0) in _PY_SCALARS:
        return MulScalar(x0)(x1)
    return Mul()(x0, x1)


def div(x0: Any, x1: Any) -> Variable:
    """``x0 / x1`` with broadcasting.

    Args:
        x0: a Variable, array or scalar.
        x1: a Variable, array or scalar.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> div(np.array([1.0, 3.0]), np.array([2.0, 4.0])).data
        array([0.5 , 0.75])
    """
    if type(x1) in _PY_SCALARS:
        return DivScalar(x1)(x0)
    if type(x0) in _PY_SCALARS:
        return RDivScalar(x0)(x1)
    return Div()(x0, x1)


def neg(x: Any) -> Variable:
    """``-x``.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> neg(np.array([1.0, -2.0])).data
        array([-1.,  2.])
    """
    return Neg()(x)


def pow(x0: Any, x1: Any) -> Variable:  # noqa: A001  (DeZero's name)
    """``x0 ** x1``; either may be a Variable, an array or a Python scalar.

    Args:
        x0: the base.
        x1: the exponent.

    Returns:
        A Variable of the broadcast shape.

    Examples:
        >>> x = Variable(np.array(3.0))
        >>> y = pow(x, 2)
        >>> y.backward()
        >>> float(y.data), float(x.grad.data)
        (9.0, 6.0)
    """
    if type(x1) in _PY_SCALARS:
        return PowScalar(x1)(x0)
    if type(x0) in _PY_SCALARS:
        return RPowScalar(x0)(x1)
    return Pow()(x0, x1)
