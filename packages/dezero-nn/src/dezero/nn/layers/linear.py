"""Linear: the fully connected layer ``y = x @ W + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Parameter, Variable
from dezero.core import backend as _backend
from dezero.nn import functions as F
from dezero.nn.initializers import Initializer
from dezero.nn.layers._util import check_size, make_weight
from dezero.nn.layers.layer import Layer

__all__ = ["Linear"]


class Linear(Layer):
    """Fully connected layer; ``W`` has DeZero's layout ``(in_size, out_size)``.

    Args:
        out_size: number of output features.
        nobias: no bias ``b`` when True.
        dtype: dtype of the parameters.
        in_size: number of input features; when None, ``W`` is created on the first call
            from the input's last dimension (``W.data`` is None until then).
        initializer: draws ``W`` (default: DeZero's ``randn * sqrt(1 / in_size)`` from
            ``dezero.core.random.get_generator()``). ``b`` starts at zero.

    Examples:
        >>> l = Linear(10)
        >>> y = l(np.zeros((2, 3), np.float32))   # W becomes (3, 10)
    """

    def __init__(self, out_size: int, nobias: bool = False, dtype: Any = np.float32,
                 in_size: int | None = None, initializer: Initializer | None = None) -> None:
        super().__init__()
        check_size("Linear", "out_size", out_size)
        check_size("Linear", "in_size", in_size, allow_none=True)
        self.in_size = in_size
        self.out_size = int(out_size)
        self.dtype = np.dtype(dtype)
        self.initializer = initializer
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(self.out_size, self.dtype), name="b")

    def _init_W(self, like: Any = None) -> None:
        i, o = int(self.in_size), self.out_size  # type: ignore[arg-type]
        self.W.data = make_weight(self.initializer, (i, o), self.dtype, i, o, like)

    def _shape_problems(self, shape_of: Any) -> list[str]:
        problems = []
        W = shape_of("W")
        if W is not None:
            if len(W) != 2:
                problems.append(f"W must be 2-D (in_size, out_size), got {W}")
            elif W[1] != self.out_size:
                problems.append(f"W is {W}: {W[1]} outputs, the layer has out_size="
                                f"{self.out_size}")
            elif self.in_size is not None and W[0] != self.in_size:
                problems.append(f"W is {W}: {W[0]} inputs, the layer has in_size={self.in_size}")
        b = shape_of("b") if self.b is not None else None
        if b is not None and b != (self.out_size,):
            problems.append(f"b is {b}, the layer has out_size={self.out_size}")
        return problems

    def _loaded(self) -> None:
        if self.W.data is not None:
            self.in_size = int(self.W.data.shape[0])

    def forward(self, x: Any) -> Variable:
        if self.W.data is None:
            data = x.data if isinstance(x, Variable) else x
            if data.ndim < 1:
                raise ValueError(
                    f"Linear: input must have at least 1 dimension (..., in_size), got a "
                    f"0-d input of shape {tuple(data.shape)}"
                )
            self.in_size = int(data.shape[-1])
            self._init_W(like=data)
            if self.b is not None:
                self.b.data = _backend.on_device_of(self.b.data, data)
        return F.linear(x, self.W, self.b)

    def __repr__(self) -> str:
        return (f"Linear(in_size={self.in_size}, out_size={self.out_size}, "
                f"nobias={self.b is None})")
