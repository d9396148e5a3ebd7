"""DeZero's ``dezero.functions`` (imported as ``F``): the native functions under DeZero's
names, plus the book's ``*_simple`` reference versions and DeZero's quirks.

Where DeZero's meaning differs from the native function's, the function here gives
DeZero's (each says so); everything else is the native function itself, its results made
this package's Variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero import core as _core
from dezero.compat.core import (
    Function,
    _adopt,
    _compat,
    _expose,
    add,
    as_variable,
    div,
    mul,
    neg,
    pow,
    rsub,
    sub,
)
from dezero.core import Config, get_array_module
from dezero.core import backend as _backend
from dezero.core import random as _random
from dezero.core.ops import elementwise as _elementwise
from dezero.core.ops import linalg as _linalg
from dezero.core.ops import reduction as _reduction
from dezero.core.ops import shape as _shape
from dezero.nn import functions as _F
from dezero.nn.functions import activation as _activation
from dezero.nn.functions import array as _array
from dezero.nn.functions import connection as _connection
from dezero.nn.functions import loss as _loss
from dezero.nn.functions import normalization as _normalization

__all__ = [
    "sin", "cos", "tanh", "exp", "log", "reshape", "expand_dims", "flatten", "sum", "sum_to",
    "broadcast_to", "matmul", "linear", "linear_simple", "transpose", "get_item",
    "sigmoid", "sigmoid_simple", "relu", "softmax", "softmax_simple", "log_softmax",
    "leaky_relu", "mean_squared_error", "mean_squared_error_simple", "softmax_cross_entropy",
    "softmax_cross_entropy_simple", "sigmoid_cross_entropy", "binary_cross_entropy",
    "accuracy", "embed_id", "dropout", "batch_nrom", "batch_norm", "max", "min", "clip",
    "average", "mean",
    "conv2d", "deconv2d", "conv2d_simple", "im2col", "col2im", "pooling_simple", "pooling",
    "average_pooling",
    "add", "sub", "rsub", "mul", "div", "neg", "pow",
    "Sin", "Cos", "Tanh", "Exp", "Log", "Reshape", "Sum", "SumTo", "BroadcastTo", "MatMul",
    "Linear", "Transpose", "GetItem", "GetItemGrad", "Sigmoid", "ReLU", "Softmax",
    "LogSoftmax", "LeakyReLU", "MeanSquaredError", "SoftmaxCrossEntropy", "BatchNorm", "Max",
    "Min", "Clip",
]

# ---------------------------------------------------------------- the native functions
sin = _compat(_F.sin)
cos = _compat(_F.cos)
tanh = _compat(_F.tanh)
exp = _compat(_F.exp)
log = _compat(_F.log)
reshape = _compat(_F.reshape)
expand_dims = _compat(_F.expand_dims)
flatten = _compat(_F.flatten)
sum = _compat(_F.sum)  # noqa: A001
sum_to = _compat(_F.sum_to)
broadcast_to = _compat(_F.broadcast_to)
matmul = _compat(_F.matmul)
linear = _compat(_F.linear)
transpose = _compat(_F.transpose)
get_item = _compat(_F.get_item)
sigmoid = _compat(_F.sigmoid)
relu = _compat(_F.relu)
softmax = _compat(_F.softmax)
log_softmax = _compat(_F.log_softmax)
leaky_relu = _compat(_F.leaky_relu)
softmax_cross_entropy = _compat(_F.softmax_cross_entropy)
sigmoid_cross_entropy = _compat(_F.sigmoid_cross_entropy)
embed_id = _compat(_F.embed_id)
batch_norm = _compat(_F.batch_norm)
batch_nrom = batch_norm  # DeZero 0.0.13's spelling
max = _compat(_F.max)  # noqa: A001
min = _compat(_F.min)  # noqa: A001
clip = _compat(_F.clip)
average = _compat(_F.average)
mean = average  # the book's repository: F.mean = F.average


# ---------------------------------------------------------------- DeZero's meanings
def mean_squared_error(x0: Any, x1: Any) -> Any:
    """DeZero's ``sum((x0 - x1) ** 2) / len(diff)``, broadcasting ``x0`` and ``x1`` as
    NumPy does: ``(N, 1)`` against ``(N,)`` gives an ``(N, N)`` difference, as in DeZero.
    (The native function refuses that case, which is almost always a mistake.)
    """
    x0, x1 = as_variable(x0), as_variable(x1)
    shape = np.broadcast_shapes(x0.shape, x1.shape)
    if x0.shape != shape:
        x0 = broadcast_to(x0, shape)
    if x1.shape != shape:
        x1 = broadcast_to(x1, shape)
    return _compat(_F.mean_squared_error)(x0, x1)


def binary_cross_entropy(p: Any, t: Any) -> Any:
    """DeZero's binary cross-entropy: ``p`` clipped to ``[1e-15, 0.999]`` first (so ``p``
    above 0.999 gets no gradient), then the native loss (summed, divided by ``len(p)``).
    """
    return _compat(_F.binary_cross_entropy)(clip(p, 1e-15, 0.999), t)


def accuracy(y: Any, t: Any) -> Any:
    """DeZero's accuracy: a float64 Variable whatever ``y``'s dtype (no gradient)."""
    yd = y.data if isinstance(y, _core.Variable) else y
    return _compat(_F.accuracy)(yd.astype(np.float64, copy=False), t)


def dropout(x: Any, dropout_ratio: float = 0.5) -> Any:
    """DeZero's dropout: on the CPU the mask is ``np.random.rand(*x.shape) > dropout_ratio``,
    drawn from NumPy's global generator, so ``np.random.seed(0)`` reproduces it. On a GPU it
    comes from the framework's generator on that device (``dezero.core.random``), where
    DeZero drew from CuPy's global generator: seed it with ``dezero.core.seed(n)``.
    """
    x = as_variable(x)
    if not Config.train:
        return x
    xp = get_array_module(x.data)
    if isinstance(x.data, np.ndarray):
        mask = np.random.rand(*x.shape) > dropout_ratio
    else:
        mask = _random.uniform(x.shape, device=_backend.device_of(x.data)) > dropout_ratio
    scale = xp.array(1.0 - dropout_ratio).astype(x.dtype)
    return x * mask.astype(x.dtype) / scale


# ---------------------------------------------------------------- DeZero's Function classes
# The native class where its constructor takes DeZero's arguments; a thin subclass where
# it does not (each says what it adapts). Results are this package's Variables.
Sin = _expose(_elementwise.Sin, __name__)
Cos = _expose(_elementwise.Cos, __name__)
Tanh = _expose(_elementwise.Tanh, __name__)
Exp = _expose(_elementwise.Exp, __name__)
Log = _expose(_elementwise.Log, __name__)
Reshape = _expose(_shape.Reshape, __name__)
SumTo = _expose(_shape.SumTo, __name__)
BroadcastTo = _expose(_shape.BroadcastTo, __name__)
Transpose = _expose(_shape.Transpose, __name__)
GetItem = _expose(_shape.GetItem, __name__)
GetItemGrad = _expose(_shape.GetItemGrad, __name__)
MatMul = _expose(_linalg.MatMul, __name__)
Linear = _expose(_connection.Linear, __name__)
Sigmoid = _expose(_activation.Sigmoid, __name__)
ReLU = _expose(_activation.ReLU, __name__)
LeakyReLU = _expose(_activation.LeakyReLU, __name__)
Clip = _expose(_array.Clip, __name__)


class _AxisArgs:
    # DeZero's reductions take an int, a tuple or None, negative axes too; the native
    # classes want a sorted tuple of non-negative axes, known once the input's shape is.
    _axis_arg: Any
    axis: Any

    def forward(self, x: Any) -> Any:
        self.axis = _reduction._normalize_axis(self._axis_arg, x.shape, type(self).__name__)
        return super().forward(x)  # type: ignore[misc]


class Sum(_AxisArgs, _reduction.Sum, Function):
    """DeZero's ``Sum(axis, keepdims)(x)``; ``axis`` an int, a tuple or None."""

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self._axis_arg, self.axis, self.keepdims = axis, None, keepdims


class Max(_AxisArgs, _reduction.Max, Function):
    """DeZero's ``Max(axis=None, keepdims=False)(x)``; the gradient goes to every maximum."""

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self._axis_arg, self.axis, self.keepdims = axis, None, keepdims


class Min(_AxisArgs, _reduction.Min, Function):
    """DeZero's ``Min(axis=None, keepdims=False)(x)``; the gradient goes to every minimum."""

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self._axis_arg, self.axis, self.keepdims = axis, None, keepdims


class Softmax(_activation.Softmax, Function):
    """DeZero's ``Softmax(axis=1)(x)`` (the native class has no default axis)."""

    def __init__(self, axis: int = 1) -> None:
        super().__init__(axis)


class LogSoftmax(_activation.LogSoftmax, Function):
    """DeZero's ``LogSoftmax(axis=1)(x)`` (the native class has no default axis)."""

    def __init__(self, axis: int = 1) -> None:
        super().__init__(axis)


class MeanSquaredError(_loss.MeanSquaredError, Function):
    """DeZero's ``MeanSquaredError()(x0, x1)``: ``sum((x0 - x1) ** 2) / len(x0 - x1)``."""

    def __init__(self) -> None:
        super().__init__(None)

    def forward(self, x0: Any, x1: Any) -> Any:
        shape = np.broadcast_shapes(x0.shape, x1.shape)
        if not shape:
            raise ValueError(f"MeanSquaredError: len() of a 0-d difference (shapes "
                             f"{x0.shape} and {x1.shape}); DeZero divides by len(x0 - x1)")
        self.divisor = shape[0]
        return super().forward(x0, x1)


class SoftmaxCrossEntropy(_loss.SoftmaxCrossEntropy, Function):
    """DeZero's ``SoftmaxCrossEntropy()(x, t)``: the labels ``t`` are the second input (the
    native class takes them in its constructor); ``t`` gets no gradient, as in DeZero."""

    def __init__(self) -> None:
        super().__init__(None)

    def __call__(self, *inputs: Any) -> Any:
        if len(inputs) == 2:
            x, t = inputs
            self.t = t.data if isinstance(t, _core.Variable) else t
            inputs = (x,)
        elif self.t is None:
            raise TypeError("SoftmaxCrossEntropy: call it with (x, t), as DeZero does")
        return super().__call__(*inputs)


class BatchNorm(_normalization.BatchNorm, Function):
    """DeZero's ``BatchNorm(mean, var, decay, eps)(x, gamma, beta)``: normalises over every
    axis but axis 1 and, in training, updates the arrays ``mean`` and ``var`` in place
    (the variance unbiased, as DeZero). In ``test_mode()`` the call is the native fixed
    normalisation with ``mean`` and ``var`` (DeZero's class did both in one node).
    """

    def __init__(self, mean: Any, var: Any, decay: float, eps: float) -> None:
        super().__init__((), (), eps, decay, mean, var)

    def __call__(self, x: Any, gamma: Any, beta: Any) -> Any:
        ndim = len(x.shape)
        if ndim < 2:
            raise ValueError(f"BatchNorm: x must be at least 2-d (N, C, ...), got {x.shape}")
        self.gshape = (1, x.shape[1]) + (1,) * (ndim - 2)
        if not Config.train:
            fixed = _normalization.FixedNormalization(
                self.running_mean, self.running_var, self.gshape, self.eps
            )
            return _adopt(fixed(x, gamma, beta))
        self.axes = (0,) + tuple(range(2, ndim))
        return super().__call__(x, gamma, beta)


# ---------------------------------------------------------------- the book's *_simple versions
def linear_simple(x: Any, W: Any, b: Any = None) -> Any:
    """``x @ W + b`` from two separate functions (the book frees the product's data once
    used; here it is kept, because the native addition's gradient reads its shape)."""
    t = matmul(x, W)
    return t if b is None else t + b


def sigmoid_simple(x: Any) -> Any:
    """``1 / (1 + exp(-x))`` built from elementary functions."""
    x = as_variable(x)
    return 1 / (1 + exp(-x))


def softmax_simple(x: Any, axis: int = 1) -> Any:
    """``exp(x) / sum(exp(x))`` built from elementary functions (no max subtraction)."""
    x = as_variable(x)
    y = exp(x)
    return y / sum(y, axis=axis, keepdims=True)


def mean_squared_error_simple(x0: Any, x1: Any) -> Any:
    """``sum((x0 - x1) ** 2) / len(diff)`` built from elementary functions."""
    x0, x1 = as_variable(x0), as_variable(x1)
    diff = x0 - x1
    return sum(diff ** 2) / len(diff)


def softmax_cross_entropy_simple(x: Any, t: Any) -> Any:
    """``-sum(log p[i, t_i]) / N`` with ``p = softmax(x)`` clipped at ``1e-15``."""
    x, t = as_variable(x), as_variable(t)
    n = x.shape[0]
    p = clip(softmax(x), 1e-15, 1.0)
    picked = get_item(log(p), (np.arange(n), t.data))
    return -1 * sum(picked) / n


# ---------------------------------------------------------------- convolution
from dezero.compat.functions_conv import (  # noqa: E402  (DeZero's module re-exports them last)
    average_pooling,
    col2im,
    conv2d,
    conv2d_simple,
    deconv2d,
    im2col,
    pooling,
    pooling_simple,
)

