"""DeZero's weight draws from NumPy's global generator, for the layers compat creates.

Only compat's own layers use these initializers, so native layers in the same process
keep drawing from the framework's generator (``dezero.core.random``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.nn.initializers import Initializer


class GlobalRandn(Initializer):
    """``np.random.randn(*shape).astype(dtype) * sqrt(1 / fan_in)``, DeZero's exact calls.

    The scale is cast to ``dtype`` before the product, as NumPy 1.x did for a float64
    scalar times a float32 array, so the values are DeZero's to the last bit.

    Args:
        scaled: multiply by ``sqrt(1 / fan_in)`` (``Linear``, ``Conv2d``); False for
            ``EmbedID``'s plain ``randn``.
        blocks: draw the weight as this many blocks along the last axis, one after the
            other (a fused LSTM weight holds DeZero's four separate gate weights).
    """

    def __init__(self, scaled: bool = True, blocks: int = 1) -> None:
        super().__init__()
        self.scaled = scaled
        self.blocks = blocks

    def __call__(self, shape: tuple[int, ...], dtype: Any = np.float32, *,
                 fan_in: int | None = None, fan_out: int | None = None,
                 generator: Any = None) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        block = shape[:-1] + (shape[-1] // self.blocks,)
        parts = []
        for _ in range(self.blocks):
            w = np.random.randn(*block).astype(dtype)
            if self.scaled:
                fan = fan_in if fan_in is not None else shape[0]
                w = w * np.asarray(np.sqrt(1 / fan)).astype(dtype)
            parts.append(w)
        return parts[0] if self.blocks == 1 else np.concatenate(parts, axis=-1)
