"""Small checks and weight creation shared by the layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.nn.initializers import Initializer, LeCunNormal

_DEFAULT = LeCunNormal()  # DeZero's randn * sqrt(1 / fan_in)


def check_size(layer: str, name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")


def pair(layer: str, name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    t = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(t) != 2 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum for v in t
    ):
        raise ValueError(f"{layer}: {name} must be an int >= {minimum} or a pair, got {value!r}")
    return int(t[0]), int(t[1])


def make_weight(initializer: Initializer | None, shape: tuple[int, ...], dtype: Any,
                fan_in: int, fan_out: int, like: Any = None) -> Any:
    """A new weight array, on the device of ``like`` (an input array) when given."""
    init = initializer if initializer is not None else _DEFAULT
    w = init(shape, dtype, fan_in=fan_in, fan_out=fan_out)
    return w if like is None else _backend.on_device_of(w, like)
