"""Weight initializers drawing from dezero's seedable generator (never NumPy's global one).

An initializer is called as ``init(shape, dtype, fan_in=..., fan_out=...)`` and returns a
new host array. Layers pass the fans explicitly; when they are omitted they are derived
from the shape: 2-D shapes use DeZero's ``Linear`` layout ``(in_size, out_size)``
(``y = x @ W``), shapes of 3 or more dimensions use the convolution layout
``(out_channels, in_channels, *kernel)``.

Examples:
    >>> from dezero.core import random
    >>> random.seed(0)
    >>> W = HeNormal()((784, 100), np.float32)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dezero.core import random as _random

__all__ = [
    "Initializer",
    "Zeros",
    "Constant",
    "Normal",
    "Uniform",
    "LeCunNormal",
    "LeCunUniform",
    "HeNormal",
    "HeUniform",
    "GlorotNormal",
    "GlorotUniform",
    "get_fans",
]


def get_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` (see the module docstring)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


class Initializer:
    """Base class: subclasses implement ``_draw(shape, fan_in, fan_out, generator)``.

    Args:
        generator: a ``numpy.random.Generator`` to draw from; by default the framework's
            generator (``dezero.core.random.get_generator()``) at the time of the call,
            so ``dezero.core.random.seed(n)`` makes model creation reproducible.
    """

    def __init__(self, generator: np.random.Generator | None = None) -> None:
        self.generator = generator

    def __call__(
        self,
        shape: tuple[int, ...],
        dtype: Any = np.float32,
        *,
        fan_in: int | None = None,
        fan_out: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"{type(self).__name__}: negative dimension in shape {shape}")
        fi, fo = get_fans(shape)
        fan_in = fi if fan_in is None else fan_in
        fan_out = fo if fan_out is None else fan_out
        gen = generator or self.generator or _random.get_generator()
        # Draw in float64 and round once, so one seed gives the same weights in any dtype.
        return np.asarray(self._draw(shape, fan_in, fan_out, gen)).astype(dtype, copy=False)

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)


class Constant(Initializer):
    """Every element ``value``."""

    def __init__(self, value: float, generator: np.random.Generator | None = None) -> None:
        super().__init__(generator)
        self.value = float(value)

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value)


class Normal(Initializer):
    """``N(mean, scale**2)``."""

    def __init__(self, scale: float = 0.05, mean: float = 0.0,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__(generator)
        if not scale >= 0:
            raise ValueError(f"Normal: invalid scale: {scale}")
        self.scale = float(scale)
        self.mean = float(mean)

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        return gen.standard_normal(shape) * self.scale + self.mean


class Uniform(Initializer):
    """``U(-scale, scale)``."""

    def __init__(self, scale: float = 0.05, generator: np.random.Generator | None = None) -> None:
        super().__init__(generator)
        if not scale >= 0:
            raise ValueError(f"Uniform: invalid scale: {scale}")
        self.scale = float(scale)

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        return gen.uniform(-self.scale, self.scale, size=shape)


class _FanScaled(Initializer):
    """Normal or uniform whose variance is ``scale**2 * gain / fan``."""

    _gain = 1.0
    _uniform = False

    def __init__(self, scale: float = 1.0, generator: np.random.Generator | None = None) -> None:
        super().__init__(generator)
        if not scale >= 0:
            raise ValueError(f"{type(self).__name__}: invalid scale: {scale}")
        self.scale = float(scale)

    def _fan(self, fan_in: int, fan_out: int) -> float:
        return fan_in

    def _draw(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
              gen: np.random.Generator) -> np.ndarray:
        fan = self._fan(fan_in, fan_out)
        if fan <= 0:
            raise ValueError(f"{type(self).__name__}: fan must be positive, got {fan}")
        std = self.scale * math.sqrt(self._gain / fan)
        if self._uniform:
            bound = math.sqrt(3.0) * std  # U(-b, b) has variance b**2 / 3
            return gen.uniform(-bound, bound, size=shape)
        return gen.standard_normal(shape) * std


class LeCunNormal(_FanScaled):
    """``N(0, scale**2 / fan_in)``; with scale 1 this is DeZero's default ``randn * sqrt(1/in)``."""


class LeCunUniform(_FanScaled):
    """``U(-b, b)`` with ``b = scale * sqrt(3 / fan_in)``."""

    _uniform = True


class HeNormal(_FanScaled):
    """``N(0, 2 scale**2 / fan_in)`` (He et al. 2015, for ReLU networks)."""

    _gain = 2.0


class HeUniform(_FanScaled):
    """``U(-b, b)`` with ``b = scale * sqrt(6 / fan_in)``."""

    _gain = 2.0
    _uniform = True


class GlorotNormal(_FanScaled):
    """``N(0, 2 scale**2 / (fan_in + fan_out))`` (Glorot and Bengio 2010)."""

    _gain = 2.0

    def _fan(self, fan_in: int, fan_out: int) -> float:
        return fan_in + fan_out


class GlorotUniform(GlorotNormal):
    """``U(-b, b)`` with ``b = scale * sqrt(6 / (fan_in + fan_out))``."""

    _uniform = True
