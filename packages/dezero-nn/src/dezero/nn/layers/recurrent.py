"""Recurrent layers: RNN, LSTM and GRU, holding their hidden state between calls.

The state moves with the layer (``to_gpu``, ``to_cpu``, ``to_device``) as a constant: the
next step runs on the new device, and a backward pass stops at the move. It is never saved
with the weights.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from dezero.core import Variable
from dezero.nn import functions as F
from dezero.nn.layers._util import check_size
from dezero.nn.layers.layer import Layer
from dezero.nn.layers.linear import Linear

__all__ = ["RNN", "LSTM", "GRU"]


class RNN(Layer):
    """Elman RNN: ``h = tanh(x2h(x) + h2h(h_prev))``; call
    [`reset_state`][dezero.nn.layers.RNN.reset_state] between sequences.

    Args:
        hidden_size: size of ``h``.
        in_size: input size (inferred on the first call when None).
    """

    _carried = ("h",)

    def __init__(self, hidden_size: int, in_size: int | None = None,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        check_size("RNN", "hidden_size", hidden_size)
        self.x2h = Linear(hidden_size, in_size=in_size, dtype=dtype)
        self.h2h = Linear(hidden_size, in_size=hidden_size, nobias=True, dtype=dtype)
        self.h: Variable | None = None

    def reset_state(self) -> None:
        """Forget the hidden state (start a new sequence)."""
        self.h = None

    def forward(self, x: Any) -> Variable:
        z = self.x2h(x)
        if self.h is not None:
            z = z + self.h2h(self.h)
        self.h = F.tanh(z)
        return self.h


class LSTM(Layer):
    """Long short-term memory; gates computed by one fused ``Linear`` of size ``4 * hidden``.

    The gate blocks of ``x2h.W`` / ``h2h.W`` along the output axis are, in order:
    forget, input, output, update (candidate).

    Args:
        hidden_size: size of ``h`` and ``c``.
        in_size: input size (inferred on the first call when None).
    """

    _carried = ("h", "c")

    def __init__(self, hidden_size: int, in_size: int | None = None,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        check_size("LSTM", "hidden_size", hidden_size)
        self.hidden_size = int(hidden_size)
        H = self.hidden_size
        self.x2h = Linear(4 * H, in_size=in_size, dtype=dtype)
        self.h2h = Linear(4 * H, in_size=H, nobias=True, dtype=dtype)
        self.h: Variable | None = None
        self.c: Variable | None = None

    def reset_state(self) -> None:
        """Forget ``h`` and ``c`` (start a new sequence)."""
        self.h = None
        self.c = None

    def forward(self, x: Any) -> Variable:
        H = self.hidden_size
        z = self.x2h(x)
        if self.h is not None:
            z = z + self.h2h(self.h)
        f = F.sigmoid(z[:, :H])
        i = F.sigmoid(z[:, H:2 * H])
        o = F.sigmoid(z[:, 2 * H:3 * H])
        u = F.tanh(z[:, 3 * H:])
        c = i * u if self.c is None else f * self.c + i * u
        self.c = c
        self.h = o * F.tanh(c)
        return self.h


class GRU(Layer):
    """Gated recurrent unit (Cho et al., 2014) as PyTorch's ``torch.nn.GRU`` defines it; gates
    computed by two fused ``Linear`` layers of size ``3 * hidden``.

    With ``gx = x2h(x)`` and ``gh = h2h(h)`` (``h = 0`` at the first step, so ``gh`` is then
    ``h2h.b``), split along the output axis into blocks ``_r``, ``_z``, ``_n``:

        r = sigmoid(gx_r + gh_r)
        z = sigmoid(gx_z + gh_z)
        n = tanh(gx_n + r * gh_n)
        h' = (1 - z) * n + z * h

    The gate blocks of ``x2h.W`` / ``h2h.W`` (and of ``x2h.b`` / ``h2h.b``) along the output
    axis are, in order: reset, update, new (candidate), as in PyTorch's ``weight_ih_l0`` /
    ``weight_hh_l0`` (which are stored transposed). ``h2h`` has a bias because the reset gate
    scales the whole hidden part of ``n``, bias included.

    Args:
        hidden_size: size of ``h``.
        in_size: input size (inferred on the first call when None).
        dtype: dtype of the weights.
    """

    _carried = ("h",)

    def __init__(self, hidden_size: int, in_size: int | None = None,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        check_size("GRU", "hidden_size", hidden_size)
        self.hidden_size = int(hidden_size)
        H = self.hidden_size
        self.x2h = Linear(3 * H, in_size=in_size, dtype=dtype)
        self.h2h = Linear(3 * H, in_size=H, dtype=dtype)
        self.h: Variable | None = None

    def reset_state(self) -> None:
        """Forget ``h`` (start a new sequence)."""
        self.h = None

    def forward(self, x: Any) -> Variable:
        H = self.hidden_size
        gx = self.x2h(x)
        h = self.h
        # h = 0 at the first step: h2h(0) is its bias alone, which still reaches the gates
        # (h2h is built with a bias, so b is a Parameter here).
        gh = cast(Variable, self.h2h.b) if h is None else self.h2h(h)
        r = F.sigmoid(gx[:, :H] + gh[..., :H])
        z = F.sigmoid(gx[:, H:2 * H] + gh[..., H:2 * H])
        n = F.tanh(gx[:, 2 * H:] + r * gh[..., 2 * H:])
        self.h = (1 - z) * n if h is None else (1 - z) * n + z * h
        return self.h
