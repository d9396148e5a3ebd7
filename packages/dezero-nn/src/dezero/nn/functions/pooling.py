"""2-d max and average pooling over strided views: a loop over the KH*KW kernel offsets,
never over output pixels."""

from __future__ import annotations

from typing import Any

from dezero.core import Function, Variable, get_array_module
from dezero.core.variable import _shape
from dezero.nn.functions.conv import _pair, get_conv_outsize

__all__ = ["pooling", "average_pooling"]

_Pair = tuple[int, int]


def _offsets(x: Any, k: _Pair, st: _Pair, oh: int, ow: int) -> list[Any]:
    """The KH*KW strided views ``x[:, :, i::sy, j::sx]`` (one per kernel offset), no copies."""
    sy, sx = st
    return [
        x[:, :, i : i + sy * (oh - 1) + 1 : sy, j : j + sx * (ow - 1) + 1 : sx]
        for i in range(k[0])
        for j in range(k[1])
    ]


def _padded(x: Any, pd: _Pair, value: float) -> Any:
    if not (pd[0] or pd[1]):
        return x
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (pd[0],) * 2, (pd[1],) * 2), constant_values=value)


def _zeros_padded(x_shape: tuple[int, ...], pd: _Pair, dtype: Any, like: Any) -> Any:
    """Zeros of the padded image shape, channels-last in memory when ``like`` is."""
    xp = get_array_module(like)
    n, c, h, w = x_shape
    hp, wp = h + 2 * pd[0], w + 2 * pd[1]
    if like.ndim == 4 and like.strides[1] < like.strides[3]:
        # The gradient gets the memory order of the input (conv2d's output is channels-last),
        # so the element-wise ops that meet both stay fast.
        return xp.zeros((n, hp, wp, c), dtype=dtype).transpose(0, 3, 1, 2)
    return xp.zeros((n, c, hp, wp), dtype=dtype)


def _crop(img: Any, x_shape: tuple[int, ...], pd: _Pair) -> Any:
    if not (pd[0] or pd[1]):
        return img
    return img[:, :, pd[0] : pd[0] + x_shape[2], pd[1] : pd[1] + x_shape[3]]


# ---------------------------------------------------------------------------- max
def _winner_masks(x: Any, y: Any, k: _Pair, st: _Pair, pd: _Pair) -> list[Any]:
    """One boolean mask per kernel offset: where that offset holds its window's maximum.

    The first maximum of a window wins (as in Chainer and PyTorch), so each window
    routes its gradient to exactly one element.
    """
    xp = get_array_module(x)
    taken = xp.zeros(y.shape, dtype=bool)
    masks = []
    for v in _offsets(_padded(x, pd, float("-inf")), k, st, *y.shape[2:]):
        m = v == y
        m &= ~taken
        taken |= m
        masks.append(m)
    return masks


class MaxPooling(Function):
    def __init__(self, k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.k, self.st, self.pd = k, st, pd

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        n, c, h, w = x.shape
        oh = get_conv_outsize(h, self.k[0], self.st[0], self.pd[0])
        ow = get_conv_outsize(w, self.k[1], self.st[1], self.pd[1])
        views = _offsets(_padded(x, self.pd, float("-inf")), self.k, self.st, oh, ow)
        # A loop over the KH*KW kernel offsets: each step is one whole-array operation.
        y = views[0].copy()
        for v in views[1:]:
            xp.maximum(y, v, out=y)
        self.y = y  # with x, enough to find the winners again in backward (no index array)
        return y

    def backward(self, gy: Variable) -> Variable:
        return MaxPoolingGrad(self.k, self.st, self.pd, self.inputs[0].data, self.y)(gy)


class MaxPoolingGrad(Function):
    """Routes ``gy`` to the maximum of each window; its own backward is a gather."""

    def __init__(self, k: _Pair, st: _Pair, pd: _Pair, x: Any, y: Any) -> None:
        self.k, self.st, self.pd, self.x, self.y = k, st, pd, x, y

    def forward(self, gy: Any) -> Any:
        xp = get_array_module(gy)
        img = _zeros_padded(self.x.shape, self.pd, gy.dtype, self.x)
        overlap = self.st[0] < self.k[0] or self.st[1] < self.k[1]
        masks = _winner_masks(self.x, self.y, self.k, self.st, self.pd)
        for m, view in zip(masks, _offsets(img, self.k, self.st, *gy.shape[2:]), strict=True):
            if overlap:
                view += gy * m
            else:  # disjoint windows: each pixel is written once
                xp.multiply(gy, m, out=view)
        return _crop(img, self.x.shape, self.pd)

    def backward(self, ggx: Variable) -> Variable:
        return MaxPoolingWithIndexes(self.k, self.st, self.pd, self.x, self.y)(ggx)


class MaxPoolingWithIndexes(Function):
    """Picks from each window the element the forward pass chose (linear in its input)."""

    def __init__(self, k: _Pair, st: _Pair, pd: _Pair, x: Any, y: Any) -> None:
        self.k, self.st, self.pd, self.x, self.y = k, st, pd, x, y

    def forward(self, z: Any) -> Any:
        xp = get_array_module(z)
        out = xp.zeros(self.y.shape, dtype=z.dtype)
        masks = _winner_masks(self.x, self.y, self.k, self.st, self.pd)
        views = _offsets(_padded(z, self.pd, 0), self.k, self.st, *self.y.shape[2:])
        for m, v in zip(masks, views, strict=True):
            out += v * m
        return out

    def backward(self, gy: Variable) -> Variable:
        return MaxPoolingGrad(self.k, self.st, self.pd, self.x, self.y)(gy)


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

    Examples:
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> F.pooling(x, 2, stride=2).data[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    return MaxPooling(*_check_pool("pooling", x, kernel_size, stride, pad))(x)


# ---------------------------------------------------------------------------- average
class AveragePooling(Function):
    def __init__(self, k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.k, self.st, self.pd = k, st, pd

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        n, c, h, w = x.shape
        oh = get_conv_outsize(h, self.k[0], self.st[0], self.pd[0])
        ow = get_conv_outsize(w, self.k[1], self.st[1], self.pd[1])
        views = _offsets(_padded(x, self.pd, 0), self.k, self.st, oh, ow)
        y = views[0].copy()
        for v in views[1:]:
            y += v
        y *= 1.0 / len(views)
        return y

    def backward(self, gy: Variable) -> Variable:
        return AveragePoolingGrad(self.x_shape, self.k, self.st, self.pd)(gy)


class AveragePoolingGrad(Function):
    """Spreads ``gy / (kh*kw)`` over each window; its backward is average pooling again."""

    def __init__(self, x_shape: tuple[int, ...], k: _Pair, st: _Pair, pd: _Pair) -> None:
        self.x_shape, self.k, self.st, self.pd = x_shape, k, st, pd

    def forward(self, gy: Any) -> Any:
        g = gy * (1.0 / (self.k[0] * self.k[1]))
        img = _zeros_padded(self.x_shape, self.pd, gy.dtype, gy)
        for view in _offsets(img, self.k, self.st, *gy.shape[2:]):
            view += g
        return _crop(img, self.x_shape, self.pd)

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

    Examples:
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> F.average_pooling(x, 2, stride=2).data[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    return AveragePooling(*_check_pool("average_pooling", x, kernel_size, stride, pad))(x)
