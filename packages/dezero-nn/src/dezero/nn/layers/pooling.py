"""Pooling and flattening as layers (PyTorch's names), so they can sit in a Sequential."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable
from dezero.nn import functions as F
from dezero.nn.layers._util import pair
from dezero.nn.layers.layer import Layer

__all__ = ["MaxPool2d", "AvgPool2d", "Flatten"]


class _Pool2d(Layer):
    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None,
                 pad: int | tuple[int, int]) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else pair(name, "stride", stride)
        self.pad = pair(name, "pad", pad, minimum=0)
        if self.pad[0] >= self.kernel_size[0] or self.pad[1] >= self.kernel_size[1]:
            raise ValueError(
                f"{name}: pad {self.pad} must be smaller than kernel_size {self.kernel_size}"
            )

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"pad={self.pad})")


class MaxPool2d(_Pool2d):
    """2-d max pooling over ``(N, C, H, W)`` input; a layer over
    [`pooling`][dezero.nn.functions.pooling.pooling]. It holds no parameters.

    Args:
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair; **defaults to ``kernel_size``** (non-overlapping windows,
            as PyTorch's ``MaxPool2d``), whereas ``F.pooling``'s default stride is 1.
        pad: an int or a pair, smaller than the kernel; padding never wins the maximum.

    Examples:
        >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 pad: int | tuple[int, int] = 0) -> None:
        super().__init__(kernel_size, stride, pad)

    def forward(self, x: Any) -> Variable:
        return F.pooling(x, self.kernel_size, self.stride, self.pad)


class AvgPool2d(_Pool2d):
    """2-d average pooling over ``(N, C, H, W)`` input; a layer over
    [`average_pooling`][dezero.nn.functions.average_pooling]. It holds no parameters.

    Args:
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair; **defaults to ``kernel_size``** (non-overlapping windows,
            as PyTorch's ``AvgPool2d``), whereas ``F.average_pooling``'s default stride is 1.
        pad: an int or a pair, smaller than the kernel; padded positions count as zeros in
            the average (PyTorch's ``count_include_pad=True``).

    Examples:
        >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 pad: int | tuple[int, int] = 0) -> None:
        super().__init__(kernel_size, stride, pad)

    def forward(self, x: Any) -> Variable:
        return F.average_pooling(x, self.kernel_size, self.stride, self.pad)


class Flatten(Layer):
    """Keeps axis 0 (the batch) and flattens the rest: ``(N, ...)`` to ``(N, -1)``; a layer
    over [`flatten`][dezero.nn.functions.flatten]. It holds no parameters.

    Examples:
        >>> Flatten()(np.zeros((2, 3, 4))).shape
        (2, 12)
    """

    def forward(self, x: Any) -> Variable:
        return F.flatten(x)

    def __repr__(self) -> str:
        return "Flatten()"
