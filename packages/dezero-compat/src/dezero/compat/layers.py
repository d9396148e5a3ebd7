"""DeZero's ``dezero.layers`` (imported as ``L``): the native layers, DeZero's draws.

Each layer here is the native layer (a subclass: the Trainer, optimizers and weight
files all take it) whose weights come from NumPy's global generator with DeZero's exact
calls, so ``np.random.seed(0)`` reproduces DeZero's numbers. Differences kept from the
native API: parameters are registered in assignment order (DeZero used a set), and
``save_weights`` leaves a GPU model on the GPU (DeZero moved it to the CPU).
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import numpy as np

from dezero.compat._draws import GlobalRandn
from dezero.compat.core import Parameter, _adopt
from dezero.nn import functions as _F
from dezero.nn import layers as _L
from dezero.nn import weights as _weights
from dezero.nn.layers.layer import Layer as _NativeLayer

__all__ = ["Layer", "Linear", "Conv2d", "Deconv2d", "RNN", "LSTM", "EmbedID", "BatchNorm"]


def _weak(x: Any) -> Any:
    try:
        return weakref.ref(x)
    except TypeError:  # a Python scalar: nothing to refer to weakly
        return lambda: x


class Layer(_NativeLayer):
    """DeZero's Layer: the native Layer; calling it records weak references to its
    ``inputs`` and ``outputs``, and weight files use DeZero's names (``l0/W``).
    """

    def __call__(self, *inputs: Any) -> Any:
        outputs = _adopt(self.forward(*inputs))
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        object.__setattr__(self, "inputs", [_weak(x) for x in inputs])
        object.__setattr__(self, "outputs", [_weak(y) for y in outs])
        return outputs

    def _flatten_params(self, params_dict: dict[str, Any], parent_key: str = "") -> None:
        """Fill ``params_dict`` with ``{"l0/W": Parameter, ...}`` (DeZero's names)."""
        for name, p in self.named_params():
            key = name.replace(".", "/")
            params_dict[parent_key + "/" + key if parent_key else key] = p

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters as DeZero does (``.npz``, keys ``l0/W``; an LSTM as DeZero's
        eight gate layers ``x2f/W`` ...), atomically."""
        state = _split_lstm_gates(self, self.state_dict())
        arrays = {k.replace(".", "/"): v for k, v in state.items()}
        _weights.save_npz(_npz_path(path), arrays)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Read a DeZero weight file (keys ``l0/W``); names and shapes must match. An
        LSTM's eight gate layers (``x2f/W`` ... ``h2u/W``) fill its fused weights."""
        arrays = _weights.load_npz(_npz_path(path))
        state = _fuse_lstm_gates(self, _weights.from_dezero_names(arrays))
        self.load_state_dict(state, strict=True)


def _npz_path(path: str | os.PathLike[str]) -> str:
    # np.savez_compressed, which DeZero used, appends ".npz" to a name without it.
    p = os.fspath(path)
    return p if p.endswith(".npz") else p + ".npz"


class Linear(_L.Linear, Layer):
    """DeZero's Linear: ``W`` drawn as ``np.random.randn(I, O).astype(dtype) * sqrt(1 / I)``."""

    def __init__(self, out_size: int, nobias: bool = False, dtype: Any = np.float32,
                 in_size: int | None = None) -> None:
        super().__init__(out_size, nobias=nobias, dtype=dtype, in_size=in_size,
                         initializer=GlobalRandn())


class Conv2d(_L.Conv2d, Layer):
    """DeZero's Conv2d: ``W = randn(OC, C, KH, KW).astype(dtype) * sqrt(1 / (C*KH*KW))``."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 nobias: bool = False, dtype: Any = np.float32,
                 in_channels: int | None = None) -> None:
        super().__init__(out_channels, kernel_size, stride, pad, nobias, dtype, in_channels,
                         initializer=GlobalRandn())


class Deconv2d(_L.Deconv2d, Layer):
    """DeZero's Deconv2d: ``W = randn(C, OC, KH, KW).astype(dtype) * sqrt(1 / (C*KH*KW))``."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 nobias: bool = False, dtype: Any = np.float32,
                 in_channels: int | None = None) -> None:
        super().__init__(out_channels, kernel_size, stride, pad, nobias, dtype, in_channels,
                         initializer=GlobalRandn())


class RNN(_L.RNN, Layer):
    """DeZero's Elman RNN. Its ``h2h`` is sized on first use, as DeZero's is, so the
    weights are drawn in DeZero's order (``x2h`` at the first step, ``h2h`` at the second).
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        _NativeLayer.__init__(self)
        self.x2h = Linear(hidden_size, in_size=in_size)
        # DeZero passes in_size to h2h as well (a slip that only works when it is None or
        # equal to hidden_size); the hidden size is what h2h really takes.
        self.h2h = Linear(hidden_size, in_size=None if in_size is None else hidden_size,
                          nobias=True)
        self.h = None


class LSTM(_L.LSTM, Layer):
    """DeZero's LSTM over the native fused one: ``x2h.W`` / ``h2h.W`` hold DeZero's four
    gate weights (forget, input, output, update) side by side, drawn in DeZero's order.

    Weight files are DeZero's: ``save_weights`` writes the eight gate layers (``x2f/W``,
    ``x2f/b``, ... ``h2u/W``) and ``load_weights`` joins them into ``x2h`` / ``h2h``.
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        _NativeLayer.__init__(self)
        self.hidden_size = H = int(hidden_size)
        self.x2h = _L.Linear(4 * H, in_size=in_size, initializer=GlobalRandn(blocks=4))
        self.h2h = _L.Linear(4 * H, in_size=H, nobias=True, initializer=GlobalRandn(blocks=4))
        self.h = None
        self.c = None


# DeZero's LSTM keeps one Linear per gate and source: x2f, x2i, x2o, x2u (with biases) and
# h2f, h2i, h2o, h2u (without). The fused x2h / h2h hold the same matrices side by side
# along the output axis, in that gate order, so a file converts exactly both ways.
_GATES = ("f", "i", "o", "u")
_FUSED = (("x2h.W", "x", "W", 1), ("x2h.b", "x", "b", 0), ("h2h.W", "h", "W", 1))


def _lstm_prefixes(layer: Any) -> list[str]:
    return [(n + "." if n else "") for n, sub in layer.named_layers() if isinstance(sub, LSTM)]


def _fuse_lstm_gates(layer: Any, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with each LSTM's DeZero gate entries (``x2f.W`` ...) joined into the
    fused ones (``x2h.W`` ...); a state already in the fused form passes unchanged."""
    out = dict(state)
    for pre in _lstm_prefixes(layer):
        for fused, src, pname, axis in _FUSED:
            keys = [f"{pre}{src}2{g}.{pname}" for g in _GATES]
            present = [k for k in keys if k in out]
            if not present:
                continue
            missing = [k for k in keys if k not in out]
            if missing or pre + fused in out:
                why = (f"lacks {missing}" if missing else f"also holds the fused {pre + fused!r}")
                raise ValueError(
                    f"{type(layer).__name__}.load_weights: the LSTM at {pre[:-1] or 'the top'!r}"
                    f" has DeZero's gate entries {present} but {why}; a DeZero LSTM file holds "
                    f"all four of {keys}"
                )
            shapes = [tuple(np.shape(out[k])) for k in keys]
            if len(set(shapes)) != 1:
                raise ValueError(
                    f"{type(layer).__name__}.load_weights: the LSTM gate entries {keys} must "
                    f"have one shape, got {shapes}"
                )
            out[pre + fused] = np.concatenate([np.asarray(out.pop(k)) for k in keys], axis=axis)
    return out


def _split_lstm_gates(layer: Any, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with each LSTM's fused entries cut into DeZero's gate entries."""
    out = dict(state)
    for pre in _lstm_prefixes(layer):
        for fused, src, pname, axis in _FUSED:
            if pre + fused not in out:
                continue  # a lazily-sized x2h not built yet
            parts = np.split(np.asarray(out.pop(pre + fused)), 4, axis=axis)
            for g, part in zip(_GATES, parts, strict=True):
                out[f"{pre}{src}2{g}.{pname}"] = part
    return out


class EmbedID(_L.EmbedID, Layer):
    """DeZero's EmbedID: ``W = np.random.randn(in_size, out_size)`` (float64, as DeZero)."""

    def __init__(self, in_size: int, out_size: int) -> None:
        super().__init__(in_size, out_size, dtype=np.float64,
                         initializer=GlobalRandn(scaled=False))


class BatchNorm(Layer):
    """DeZero's BatchNorm: ``avg_mean`` and ``avg_var`` are Parameters (read ``.data``),
    saved with the weights; the normalisation is the native ``batch_norm``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def forward(self, x: Any) -> Any:
        data = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
        if self.avg_mean.data is None:
            from dezero.core import get_array_module

            xp = get_array_module(data)
            d = data.shape[1]
            self.avg_mean.data = xp.zeros(d, dtype=data.dtype)
            self.avg_var.data = xp.ones(d, dtype=data.dtype)
            self.gamma.data = xp.ones(d, dtype=data.dtype)
            self.beta.data = xp.zeros(d, dtype=data.dtype)
        return _F.batch_norm(x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data)
