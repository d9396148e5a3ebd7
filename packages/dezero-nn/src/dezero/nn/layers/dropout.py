"""Dropout as a layer, so it can sit in a Sequential."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable
from dezero.nn import functions as F
from dezero.nn.layers.layer import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout while training (``Config.train``), identity in ``test_mode()``."""

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= dropout_ratio < 1.0:
            raise ValueError(f"Dropout: invalid dropout_ratio: {dropout_ratio} (need 0 <= r < 1)")
        self.dropout_ratio = float(dropout_ratio)

    def forward(self, x: Any) -> Variable:
        return F.dropout(x, self.dropout_ratio)
