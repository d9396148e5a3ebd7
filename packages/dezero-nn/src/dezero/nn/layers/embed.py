"""EmbedID: a lookup table from integer ids to learned vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Parameter, Variable
from dezero.nn import functions as F
from dezero.nn.initializers import Initializer, Normal
from dezero.nn.layers._util import check_size
from dezero.nn.layers.layer import Layer

__all__ = ["EmbedID"]


class EmbedID(Layer):
    """``W[x]`` for integer ids ``x``; ``W`` is ``(in_size, out_size)``.

    Args:
        in_size: vocabulary size (ids run from 0 to ``in_size - 1``).
        out_size: embedding dimension.
        initializer: default ``N(0, 1)`` as DeZero's ``randn``.
    """

    def __init__(self, in_size: int, out_size: int, dtype: Any = np.float32,
                 initializer: Initializer | None = None) -> None:
        super().__init__()
        check_size("EmbedID", "in_size", in_size)
        check_size("EmbedID", "out_size", out_size)
        init = initializer if initializer is not None else Normal(scale=1.0)
        self.W = Parameter(init((in_size, out_size), dtype), name="W")

    def forward(self, x: Any) -> Variable:
        return F.embed_id(x, self.W)
