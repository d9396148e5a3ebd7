"""2-d max and average pooling over strided patch views (no loop over output pixels)."""

from __future__ import annotations

from typing import Any

from dezero.core import Function, Variable, get_array_module
from dezero.nn.functions.conv import _col2im_array, _pair, _shape, _windows, get_conv_outsize

__all__ = ["pooling", "average_pooling"]

_Pair = tuple[int, int]


def _patches(x: Any, k: _Pair, st: _Pair, pd: _Pair, pad_value: float) -> Any:
    """The patches of ``x`` as a contiguous ``(N, C, OH, OW, KH*KW)`` array."""
    col = _windows(x, *k, *st, *pd, pad_value=pad_value)
    return col.reshape(col.shape[:4] + (k[0] * k[1],))


def _take(col: Any, idx: Any) -> Any:
    xp = get_array_module(col)
    return xp.take_along_axis(col, idx[..., None], axis=4)[..., 0]


# ---------------------------------------------------------------------------- max
class MaxPooling(Function):
    def __init__(self, k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.k, self.st, self.pd = k, st, pd

    def forward(self, x: Any) -> Any:
        col = _patches(x, self.k, self.st, self.pd, float("-inf"))
        # The first maximum of each window gets the whole gradient (as Chainer and PyTorch).
        self.idx = col.argmax(axis=4)
        return _take(col, self.idx)

    def backward(self, gy: Variable) -> Variable:
        return MaxPoolingGrad(self.k, self.st, self.pd, self.idx, self.inputs[0].shape)(gy)


class MaxPoolingGrad(Function):
    """Routes ``gy`` to the argmax of each window; its own backward is a gather."""

    def __init__(
        self, k: _Pair, st: _Pair, pd: _Pair, idx: Any, x_shape: tuple[int, ...]
    ) -> None:
        self.k, self.st, self.pd, self.idx, self.x_shape = k, st, pd, idx, x_shape

    def forward(self, gy: Any) -> Any:
        xp = get_array_module(gy)
        onehot = self.idx[..., None] == xp.arange(self.k[0] * self.k[1])
        gcol = (onehot * gy[..., None]).astype(gy.dtype, copy=False)
        gcol = gcol.reshape(gy.shape + self.k)
        return _col2im_array(gcol, self.x_shape, *self.st, *self.pd)

    def backward(self, ggx: Variable) -> Variable:
        return MaxPoolingWithIndexes(self.k, self.st, self.pd, self.idx)(ggx)


class MaxPoolingWithIndexes(Function):
    """Picks from each window the element the forward pass chose (linear in its input)."""

    def __init__(self, k: _Pair, st: _Pair, pd: _Pair, idx: Any) -> None:
        self.k, self.st, self.pd, self.idx = k, st, pd, idx

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        return _take(_patches(x, self.k, self.st, self.pd, 0), self.idx)

    def backward(self, gy: Variable) -> Variable:
        return MaxPoolingGrad(self.k, self.st, self.pd, self.idx, self.x_shape)(gy)


def _check_pool(
    fname: str, x: Any, kernel_size: Any, stride: Any, pad: Any
) -> tuple[_Pair, _Pair, _Pair]:
    xs = _shape(x)
    if len(xs) != 4:
        raise ValueError(f"{fname}: x must be 4-d (N, C, H, W), got shape {xs}")
    k = _pair(fname, "kernel_size", kernel_size)
    st, pd = _pair(fname, "stride", stride), _pair(fname, "pad", pad)
    if min(k) < 1 or min(st) < 1 or min(pd) < 0:
        raise ValueError(
            f"{fname}: kernel_size and stride must be >= 1 and pad >= 0, got "
            f"{kernel_size}, {stride}, {pad}"
        )
    if pd[0] >= k[0] or pd[1] >= k[1]:
        raise ValueError(f"{fname}: pad {pd} must be smaller than kernel_size {k}")
    oh = get_conv_outsize(xs[2], k[0], st[0], pd[0])
    ow = get_conv_outsize(xs[3], k[1], st[1], pd[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"{fname}: kernel {k} is larger than the padded input {xs[2:]}")
    return k, st, pd


def pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """2-d max pooling (padding never wins: it counts as minus infinity).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair.
        pad: an int or a pair, smaller than the kernel.
    Returns:
        A Variable of shape ``(N, C, OH, OW)``, ``OH = (H + 2 ph - kh) // sy + 1``.
    """
    return MaxPooling(*_check_pool("pooling", x, kernel_size, stride, pad))(x)


# ---------------------------------------------------------------------------- average
class AveragePooling(Function):
    def __init__(self, k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.k, self.st, self.pd = k, st, pd

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        col = _windows(x, *self.k, *self.st, *self.pd)
        return col.mean(axis=(4, 5)).astype(x.dtype, copy=False)

    def backward(self, gy: Variable) -> Variable:
        return AveragePoolingGrad(self.x_shape, self.k, self.st, self.pd)(gy)


class AveragePoolingGrad(Function):
    """Spreads ``gy / (kh*kw)`` over each window; its backward is average pooling again."""

    def __init__(self, x_shape: tuple[int, ...], k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.x_shape, self.k, self.st, self.pd = x_shape, k, st, pd

    def forward(self, gy: Any) -> Any:
        xp = get_array_module(gy)
        g = gy * (1.0 / (self.k[0] * self.k[1]))
        gcol = xp.broadcast_to(g[..., None, None], gy.shape + self.k)
        return _col2im_array(gcol, self.x_shape, *self.st, *self.pd)

    def backward(self, ggx: Variable) -> Variable:
        return AveragePooling(self.k, self.st, self.pd)(ggx)


def average_pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """2-d average pooling; padded positions count as zeros in the average.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair.
        pad: an int or a pair, smaller than the kernel.
    Returns:
        A Variable of shape ``(N, C, OH, OW)``.
    """
    return AveragePooling(*_check_pool("average_pooling", x, kernel_size, stride, pad))(x)
