"""DeZero's ``dezero.functions_conv``: convolution and pooling, plus the book's simple
versions built from ``im2col`` and ``linear``. ``pooling`` with padding pads with zeros,
as DeZero's does."""

from __future__ import annotations

from typing import Any

from dezero.compat.core import _compat, as_variable
from dezero.nn import functions as _F
from dezero.nn.functions.conv import get_conv_outsize

__all__ = [
    "conv2d", "deconv2d", "conv2d_simple", "im2col", "col2im", "pooling_simple", "pooling",
    "average_pooling",
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
