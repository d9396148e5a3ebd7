"""Element-wise math: exp, log, sin, cos, tanh (each derivative itself differentiable)."""

from __future__ import annotations

from typing import Any

from dezero.core.backend import get_array_module
from dezero.core.function import Function
from dezero.core.variable import Variable

__all__ = ["exp", "log", "sin", "cos", "tanh"]


class Exp(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).exp(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * self.output_or(lambda: exp(self.inputs[0]))


class Log(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).log(x)

    def backward(self, gy: Variable) -> Variable:
        return gy / self.inputs[0]


class Sin(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).sin(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).cos(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * -sin(self.inputs[0])


class Tanh(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).tanh(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output_or(lambda: tanh(self.inputs[0]))
        return gy * (1 - y * y)


def exp(x: Any) -> Variable:
    """Element-wise ``e ** x``.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> exp(np.array([0.0, 1.0])).data.round(4)
        array([1.    , 2.7183])
    """
    return Exp()(x)


def log(x: Any) -> Variable:
    """Element-wise natural logarithm.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> log(np.array([1.0, np.e])).data
        array([0., 1.])
    """
    return Log()(x)


def sin(x: Any) -> Variable:
    """Element-wise sine.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> x = Variable(np.array(0.0))
        >>> sin(x).backward()
        >>> x.grad
        variable(1.0)
    """
    return Sin()(x)


def cos(x: Any) -> Variable:
    """Element-wise cosine.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> cos(np.array([0.0, np.pi])).data
        array([ 1., -1.])
    """
    return Cos()(x)


def tanh(x: Any) -> Variable:
    """Element-wise hyperbolic tangent.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape.

    Examples:
        >>> tanh(np.array([0.0, np.log(2.0)])).data.round(4)
        array([0. , 0.6])
    """
    return Tanh()(x)
