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
from dezero.compat.core import _compat, add, as_variable, div, mul, neg, pow, rsub, sub
from dezero.core import Config, get_array_module
from dezero.core import backend as _backend
from dezero.core import random as _random
from dezero.nn import functions as _F

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

