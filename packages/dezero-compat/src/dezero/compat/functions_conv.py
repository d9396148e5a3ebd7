"""DeZero's ``dezero.functions_conv``: convolution and pooling, plus the book's simple
versions built from ``im2col`` and ``linear``. ``pooling`` with padding pads with zeros,
as DeZero's does."""

from __future__ import annotations

from typing import Any

from dezero.compat.core import Function, _compat, as_variable
from dezero.core import get_array_module
from dezero.nn import functions as _F
from dezero.nn.functions import conv as _conv
from dezero.nn.functions.conv import get_conv_outsize, get_deconv_outsize
from dezero.nn.functions.pooling import AveragePooling as _AveragePooling
from dezero.nn.functions.pooling import MaxPooling as _MaxPooling
from dezero.nn.functions.pooling import MaxPoolingGrad as _MaxPoolingGrad
from dezero.nn.functions.pooling import MaxPoolingWithIndexes as _MaxPoolingWithIndexes

__all__ = [
    "conv2d", "deconv2d", "conv2d_simple", "im2col", "col2im", "pooling_simple", "pooling",
    "average_pooling",
    "Conv2d", "Deconv2d", "Conv2DGradW", "Pooling", "Pooling2DGrad", "Pooling2DWithIndexes",
    "AveragePooling", "Im2col", "Col2im",
]

conv2d = _compat(_F.conv2d)
deconv2d = _compat(_F.deconv2d)
im2col = _compat(_F.im2col)
col2im = _compat(_F.col2im)
_pooling = _compat(_F.pooling)
average_pooling = _compat(_F.average_pooling)
_linear = _compat(_F.linear)


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv2d_simple(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Any:
    """Convolution as the book first writes it: ``im2col``, one ``linear``, a reshape.

    Args:
        x: ``(N, C, H, W)``; W: ``(OC, C, KH, KW)``; b: ``(OC,)`` or None.
    """
    x, W = as_variable(x), as_variable(W)
    n, _, h, w = x.shape
    oc, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(pad)
    oh, ow = get_conv_outsize(h, kh, sh, ph), get_conv_outsize(w, kw, sw, pw)
    col = im2col(x, (kh, kw), stride, pad, to_matrix=True)  # (N*OH*OW, C*KH*KW)
    out = _linear(col, W.reshape(oc, -1).transpose(), b)  # (N*OH*OW, OC)
    return out.reshape(n, oh, ow, oc).transpose(0, 3, 1, 2)


def pooling_simple(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Any:
    """Max pooling as the book first writes it: ``im2col``, then the max of each window."""
    x = as_variable(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(pad)
    oh, ow = get_conv_outsize(h, kh, sh, ph), get_conv_outsize(w, kw, sw, pw)
    col = im2col(x, (kh, kw), stride, pad, to_matrix=True).reshape(-1, kh * kw)
    return col.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)


def pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Any:
    """Max pooling, DeZero's meaning: padding counts as zeros (the native ``pooling``
    pads with -inf, as PyTorch, so a window of negative values never returns 0)."""
    if _pair(pad) == (0, 0):
        return _pooling(x, kernel_size, stride, pad)
    return pooling_simple(x, kernel_size, stride, pad)


# ---------------------------------------------------------------- DeZero's Function classes
# Thin subclasses of the native classes: DeZero's constructors take ints or pairs (and the
# Function instance a gradient belongs to), the native ones normalised pairs.
class Conv2d(_conv.Conv2d, Function):
    """DeZero's ``Conv2d(stride=1, pad=0)(x, W, b)``."""

    def __init__(self, stride: Any = 1, pad: Any = 0) -> None:
        super().__init__(_pair(stride), _pair(pad))


class Deconv2d(_conv.Deconv2d, Function):
    """DeZero's ``Deconv2d(stride=1, pad=0, outsize=None)(x, W, b)``; without ``outsize``
    the output is ``stride * (H - 1) + KH - 2 * pad`` high (and likewise wide)."""

    def __init__(self, stride: Any = 1, pad: Any = 0, outsize: Any = None) -> None:
        # Without outsize, forward() computes it from the input (DeZero's rule) before use.
        super().__init__(_pair(stride), _pair(pad),
                         None if outsize is None else _pair(outsize))  # type: ignore[arg-type]
        self._outsize_arg = outsize

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        if self._outsize_arg is None:
            self.outsize = (
                get_deconv_outsize(x.shape[2], W.shape[2], self.stride[0], self.pad[0]),
                get_deconv_outsize(x.shape[3], W.shape[3], self.stride[1], self.pad[1]),
            )
        return super().forward(x, W, b)


class Conv2DGradW(_conv.Conv2dGradW, Function):
    """DeZero's ``Conv2DGradW(conv2d)(x, gy)``: the filter gradient of the ``Conv2d`` node
    ``conv2d`` (its kernel size, stride and padding)."""

    def __init__(self, conv2d: Any) -> None:
        W = conv2d.inputs[1]
        super().__init__(tuple(W.shape[2:]), conv2d.stride, conv2d.pad, None)


class Pooling(_MaxPooling, Function):
    """DeZero's ``Pooling(kernel_size, stride=1, pad=0)(x)``: max pooling where the padding
    counts as zeros (as DeZero's; the native class pads with minus infinity). Where a real
    0 ties with the padding for a window's maximum, the gradient goes to the real element
    (DeZero's may give it to the padding, which drops it)."""

    def __init__(self, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> None:
        super().__init__(_pair(kernel_size), _pair(stride), _pair(pad))

    def forward(self, x: Any) -> Any:
        if self.pd == (0, 0):
            return super().forward(x)
        (ph, pw), xp = self.pd, get_array_module(x)
        padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        # The windows over the zero-padded input; backward finds each window's maximum
        # among the real elements again from x and this y.
        self.y = _MaxPooling(self.k, self.st, (0, 0)).forward(padded)
        return self.y


class Pooling2DGrad(_MaxPoolingGrad, Function):
    """DeZero's ``Pooling2DGrad(mpool2d)(gy)``: routes ``gy`` to the maximum of each window
    of the ``Pooling`` node ``mpool2d``."""

    def __init__(self, mpool2d: Any) -> None:
        super().__init__(mpool2d.k, mpool2d.st, mpool2d.pd, mpool2d.inputs[0].data, mpool2d.y)


class Pooling2DWithIndexes(_MaxPoolingWithIndexes, Function):
    """DeZero's ``Pooling2DWithIndexes(mpool2d)(x)``: picks from each window of ``x`` the
    element that the ``Pooling`` node ``mpool2d`` chose."""

    def __init__(self, mpool2d: Any) -> None:
        super().__init__(mpool2d.k, mpool2d.st, mpool2d.pd, mpool2d.inputs[0].data, mpool2d.y)


class AveragePooling(_AveragePooling, Function):
    """DeZero's ``AveragePooling(kernel_size, stride=1, pad=0)(x)`` (padding counts as
    zeros in each window's mean)."""

    def __init__(self, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> None:
        super().__init__(_pair(kernel_size), _pair(stride), _pair(pad))


class Im2col(_conv.Im2col, Function):
    """DeZero's ``Im2col(kernel_size, stride, pad, to_matrix)(x)``."""

    def __init__(self, kernel_size: Any, stride: Any, pad: Any, to_matrix: bool) -> None:
        super().__init__(_pair(kernel_size), _pair(stride), _pair(pad), to_matrix)


class Col2im(_conv.Col2im, Function):
    """DeZero's ``Col2im(input_shape, kernel_size, stride, pad, to_matrix)(col)``."""

    def __init__(
        self, input_shape: Any, kernel_size: Any, stride: Any, pad: Any, to_matrix: bool
    ) -> None:
        super().__init__(
            tuple(input_shape), _pair(kernel_size), _pair(stride), _pair(pad), to_matrix
        )
