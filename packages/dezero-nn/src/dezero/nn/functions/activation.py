"""Activation functions: sigmoid, relu, leaky_relu, softmax, log_softmax, elu, gelu, softplus,
silu."""

from __future__ import annotations

import math
from typing import Any

from dezero.core import Function, Variable, get_array_module
from dezero.core.ops import exp, sum, tanh
from dezero.core.variable import _const, as_variable

__all__ = [
    "sigmoid", "relu", "leaky_relu", "tanh", "softmax", "log_softmax", "elu", "gelu", "softplus",
    "silu",
]


# ---------------------------------------------------------------------------- sigmoid
class Sigmoid(Function):
    def forward(self, x: Any) -> Any:
        # tanh form: one transcendental, no overflow warning for large |x|, dtype preserved.
        # The steps after the first work in the one new array (x itself is left alone).
        xp = get_array_module(x)
        y = xp.asarray(x * 0.5)  # a 0-d input would give a NumPy scalar, which has no out=
        xp.tanh(y, out=y)
        y *= 0.5
        y += 0.5
        return y

    def backward(self, gy: Variable) -> Variable:
        y = self.output_or(lambda: sigmoid(self.inputs[0]))
        return SigmoidGrad()(y, gy)


class SigmoidGrad(Function):
    """``gy * y * (1 - y)`` as its own node, so that sigmoid can be differentiated twice."""

    def forward(self, y: Any, gy: Any) -> Any:
        # gy * y * (1 - y), in one new array: neither input may change.
        g = 1 - y
        g *= y
        g *= gy
        return g

    def backward(self, ggx: Variable) -> tuple[Variable | None, Variable | None]:
        y, gy = self.inputs
        ny, ngy = self.needs_input_grad
        gy_y = ggx * gy * (1 - 2 * y) if ny else None
        g_gy = SigmoidGrad()(y, ggx) if ngy else None
        return gy_y, g_gy


def sigmoid(x: Any) -> Variable:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, element-wise.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.sigmoid(np.array([0.0, np.log(3.0)])).data.round(4)
        array([0.5 , 0.75])
    """
    return Sigmoid()(x)


# ---------------------------------------------------------------------------- relu family
class ReLU(Function):
    def forward(self, x: Any) -> Any:
        return get_array_module(x).maximum(x, 0)

    def backward(self, gy: Variable) -> Variable:
        return ReLUGrad(self.inputs[0].data > 0)(gy)


class ReLUGrad(Function):
    """``gy`` where the input was positive, else 0: linear in ``gy``, so its own backward."""

    def __init__(self, mask: Any) -> None:
        self.mask = mask

    def forward(self, gy: Any) -> Any:
        return gy * self.mask

    def backward(self, ggx: Variable) -> Variable:
        return ReLUGrad(self.mask)(ggx)


def relu(x: Any) -> Variable:
    """Rectified linear unit ``max(x, 0)``.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.relu(np.array([-1.0, 0.0, 2.0])).data
        array([0., 0., 2.])
    """
    return ReLU()(x)


class LeakyReLU(Function):
    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x: Any) -> Any:
        return get_array_module(x).where(x > 0, x, x * self.slope)

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0].data
        xp = get_array_module(x)
        scale = xp.where(x > 0, 1, self.slope).astype(gy.dtype)
        return gy * _const(scale)


def leaky_relu(x: Any, slope: float = 0.2) -> Variable:
    """Leaky ReLU: ``x`` where positive, ``slope * x`` elsewhere.

    Args:
        x: a Variable or array.
        slope: the gradient for negative inputs.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.leaky_relu(np.array([-1.0, 2.0]), slope=0.1).data
        array([-0.1,  2. ])
    """
    return LeakyReLU(float(slope))(x)


class ELU(Function):
    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        # expm1 on the clipped input: no overflow warning from the discarded positive branch.
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        pos = _const((x.data > 0).astype(gy.dtype))
        neg = _const((x.data <= 0).astype(gy.dtype))
        # Derivative on the negative side is alpha * exp(x), differentiable again.
        return gy * (pos + neg * (exp(x * neg) * self.alpha))


def elu(x: Any, alpha: float = 1.0) -> Variable:
    """Exponential linear unit: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Args:
        x: a Variable or array.
        alpha: the saturation value for large negative inputs is ``-alpha``.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.elu(np.array([-np.log(2.0), 1.0])).data.round(4)
        array([-0.5,  1. ])
    """
    return ELU(float(alpha))(x)


# ---------------------------------------------------------------------------- smooth
_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


class GELU(Function):
    """GELU, tanh approximation (Hendrycks & Gimpel): ``0.5x(1 + tanh(c(x + 0.044715x^3)))``."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        return 0.5 * x * (1 + xp.tanh(_GELU_C * (x + _GELU_K * x * x * x)))

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        t = tanh(_GELU_C * (x + _GELU_K * x * x * x))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_C * (1 + 3 * _GELU_K * x * x))
        return gy * d


def gelu(x: Any) -> Variable:
    """Gaussian error linear unit, in its tanh approximation.

    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))`` (as GPT-2 and
    PyTorch's ``approximate="tanh"``).

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.gelu(np.array([0.0, 1.0])).data.round(4)
        array([0.    , 0.8412])
    """
    return GELU()(x)


class Softplus(Function):
    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows.
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy: Variable) -> Variable:
        return gy * sigmoid(self.inputs[0])


def softplus(x: Any) -> Variable:
    """Softplus ``log(1 + exp(x))``, computed without overflow.

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.softplus(np.array([0.0, np.log(3.0)])).data.round(4)
        array([0.6931, 1.3863])
    """
    return Softplus()(x)


def silu(x: Any) -> Variable:
    """SiLU (also called swish) ``x * sigmoid(x)``, element-wise (PyTorch's ``SiLU``).

    Composed of differentiable ops, so it can be differentiated any number of times (and
    exports to ONNX as ``Sigmoid`` and ``Mul``).

    Args:
        x: a Variable or array.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.silu(np.array([0.0, 1.0, -1.0])).data.round(4)
        array([ 0.    ,  0.7311, -0.2689])
    """
    x = as_variable(x)
    return x * sigmoid(x)


# ---------------------------------------------------------------------------- softmax
def _softmax_array(x: Any, axis: int) -> Any:
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _logsumexp_array(x: Any, axis: int) -> Any:
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    return m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        return _softmax_array(x, self.axis)

    def backward(self, gy: Variable) -> Variable:
        y = self.output_or(lambda: softmax(self.inputs[0], self.axis))
        gx = y * gy
        return gx - y * sum(gx, axis=self.axis, keepdims=True)


def _check_axis(fname: str, x: Any, axis: int) -> int:
    nd = getattr(x, "ndim", 0)
    if not isinstance(axis, int) or not -nd <= axis < nd:
        raise ValueError(
            f"{fname}: axis {axis!r} is out of range for an input of shape "
            f"{getattr(x, 'shape', ())}"
        )
    return axis % nd


def softmax(x: Any, axis: int = 1) -> Variable:
    """Softmax along ``axis``, stable for large inputs (the maximum is subtracted first).

    Args:
        x: a Variable or array.
        axis: the axis that sums to one.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.softmax(np.array([[0.0, np.log(3.0)]])).data.round(4)
        array([[0.25, 0.75]])
    """
    return Softmax(_check_axis("softmax", x, axis))(x)


class LogSoftmax(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        return x - _logsumexp_array(x, self.axis)

    def backward(self, gy: Variable) -> Variable:
        y = self.output_or(lambda: log_softmax(self.inputs[0], self.axis))
        return gy - exp(y) * sum(gy, axis=self.axis, keepdims=True)


def log_softmax(x: Any, axis: int = 1) -> Variable:
    """``log(softmax(x))`` along ``axis``, computed through log-sum-exp.

    Args:
        x: a Variable or array.
        axis: the normalised axis.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> F.log_softmax(np.array([[0.0, 0.0]])).data.round(4)
        array([[-0.6931, -0.6931]])
    """
    return LogSoftmax(_check_axis("log_softmax", x, axis))(x)
