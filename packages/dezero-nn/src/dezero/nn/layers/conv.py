"""Convolution layers: Conv2d and its transpose Deconv2d."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Parameter, Variable
from dezero.core import backend as _backend
from dezero.nn import functions as F
from dezero.nn.initializers import Initializer
from dezero.nn.layers._util import check_size, make_weight, pair
from dezero.nn.layers.layer import Layer

__all__ = ["Conv2d", "Deconv2d"]


class _ConvBase(Layer):
    _name = ""
    _out_axis = 0  # the axis of W that holds the output channels

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 nobias: bool = False, dtype: Any = np.float32, in_channels: int | None = None,
                 initializer: Initializer | None = None) -> None:
        super().__init__()
        check_size(self._name, "out_channels", out_channels)
        check_size(self._name, "in_channels", in_channels, allow_none=True)
        self.in_channels = in_channels
        self.out_channels = int(out_channels)
        self.kernel_size = pair(self._name, "kernel_size", kernel_size)
        self.stride = pair(self._name, "stride", stride)
        self.pad = pair(self._name, "pad", pad, minimum=0)
        self.dtype = np.dtype(dtype)
        self.initializer = initializer
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(self.out_channels, self.dtype), name="b")

    def _w_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _init_W(self, like: Any = None) -> None:
        c, oc = int(self.in_channels), self.out_channels  # type: ignore[arg-type]
        kh, kw = self.kernel_size
        # DeZero scales by sqrt(1 / (C * KH * KW)) for both directions.
        self.W.data = make_weight(self.initializer, self._w_shape(), self.dtype,
                                  c * kh * kw, oc * kh * kw, like)

    def _shape_problems(self, shape_of: Any) -> list[str]:
        problems = []
        W = shape_of("W")
        if W is not None:
            want = self._w_shape_with(W[1 - self._out_axis] if len(W) == 4 else -1)
            if len(W) != 4 or W != want:
                ci = "in_channels" if self.in_channels is None else self.in_channels
                problems.append(f"W is {W}, the layer builds {want}".replace("-1", str(ci)))
        b = shape_of("b") if self.b is not None else None
        if b is not None and b != (self.out_channels,):
            problems.append(f"b is {b}, the layer has out_channels={self.out_channels}")
        return problems

    def _w_shape_with(self, in_channels: int) -> tuple[int, ...]:
        c = in_channels if self.in_channels is None else int(self.in_channels)
        kh, kw = self.kernel_size
        return (self.out_channels, c, kh, kw) if self._out_axis == 0 else (
            c, self.out_channels, kh, kw)

    def _loaded(self) -> None:
        if self.W.data is not None:
            self.in_channels = int(self.W.data.shape[1 - self._out_axis])

    def _lazy(self, x: Any) -> None:
        if self.W.data is None:
            data = x.data if isinstance(x, Variable) else x
            if data.ndim != 4:
                raise ValueError(
                    f"{self._name}: input must be 4-D (N, C, H, W), got shape {data.shape}"
                )
            self.in_channels = int(data.shape[1])
            self._init_W(like=data)
            if self.b is not None:
                self.b.data = _backend.on_device_of(self.b.data, data)


class Conv2d(_ConvBase):
    """2-D convolution; ``W`` is ``(out_channels, in_channels, KH, KW)``.

    Args:
        out_channels: number of output channels.
        kernel_size: an int or a pair ``(h, w)``.
        stride: an int or a pair ``(h, w)``.
        pad: an int or a pair ``(h, w)``.
        nobias: no bias when True.
        dtype: parameter dtype.
        in_channels: when None, taken from the first input (``W.data`` is None until then).
        initializer: draws ``W`` (default DeZero's ``randn * sqrt(1 / (C*KH*KW))``).
    """

    _name = "Conv2d"
    _out_axis = 0

    def _w_shape(self) -> tuple[int, ...]:
        return (self.out_channels, int(self.in_channels), *self.kernel_size)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Variable:
        self._lazy(x)
        return F.conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(_ConvBase):
    """Transposed 2-D convolution; ``W`` is ``(in_channels, out_channels, KH, KW)``.

    Same arguments as [`Conv2d`][dezero.nn.layers.Conv2d], plus ``outsize`` (the output's
    ``(H, W)``, when the stride leaves it ambiguous).
    """

    _name = "Deconv2d"
    _out_axis = 1

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 nobias: bool = False, dtype: Any = np.float32, in_channels: int | None = None,
                 initializer: Initializer | None = None, outsize: Any = None) -> None:
        super().__init__(out_channels, kernel_size, stride, pad, nobias, dtype, in_channels,
                         initializer)
        self.outsize = outsize

    def _w_shape(self) -> tuple[int, ...]:
        return (int(self.in_channels), self.out_channels, *self.kernel_size)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Variable:
        self._lazy(x)
        return F.deconv2d(x, self.W, self.b, self.stride, self.pad, self.outsize)
