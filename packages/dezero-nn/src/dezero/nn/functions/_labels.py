"""Shared checks for the losses and metrics: labels, targets, empty batches, reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Variable, get_array_module
from dezero.core.ops import broadcast_to
from dezero.core.variable import _shape

#: ``batchmean`` is DeZero's meaning (sum divided by the batch size ``len(x)``), the
#: default; the others are PyTorch's.
REDUCTIONS = ("batchmean", "mean", "sum", "none")


def raw(x: Any) -> Any:
    return x.data if isinstance(x, Variable) else x


def check_reduction(fname: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{fname}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
            f"got {reduction!r}"
        )


def check_not_empty(fname: str, name: str, shape: tuple[int, ...]) -> None:
    # An empty batch would give 0/0 = NaN with a RuntimeWarning, which poisons training.
    if shape and 0 in shape:
        raise ValueError(f"{fname}: {name} is an empty batch (shape {shape}); nothing to average")


def class_labels(fname: str, x_shape: tuple[int, ...], t: Any) -> Any:
    """Integer class labels for scores of shape ``(N, C)``: ``(N,)`` or, as DeZero, ``(N, 1)``.

    Returns the labels as a flat array of length ``N``; refuses booleans (they would index
    as a mask), floats, wrong shapes and labels outside ``[0, C)``.
    """
    t = raw(t)
    kind = getattr(getattr(t, "dtype", None), "kind", None)
    if kind not in ("i", "u"):
        raise TypeError(
            f"{fname}: labels t must be an integer array, got "
            f"{getattr(t, 'dtype', type(t).__name__)}"
        )
    if len(x_shape) != 2:
        raise ValueError(f"{fname}: x must be 2-d (N, C), got shape {x_shape}")
    check_not_empty(fname, "x", x_shape)
    n, c = x_shape
    if t.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"{fname}: t must have shape ({n},) to match x of shape {x_shape}, got {t.shape}"
        )
    t = t.reshape(n)
    lo, hi = int(t.min()), int(t.max())
    if lo < 0 or hi >= c:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{fname}: label {bad} is out of range for x of shape {x_shape} "
            f"({c} classes; labels must be in [0, {c}))"
        )
    return t


def target_like(fname: str, x_shape: tuple[int, ...], t: Any) -> Any:
    """``t`` shaped as ``x``, as DeZero does it: reshaped when only the number of axes
    differs (``(N,)`` against ``(N, 1)``), broadcast when it broadcasts to ``x``'s shape.

    Anything else (a broadcast that would grow ``x``) is an error naming both shapes.
    """
    ts = _shape(t)
    if ts == x_shape:
        return t
    size = int(np.prod(x_shape)) if x_shape else 1
    tsize = int(np.prod(ts)) if ts else 1
    if len(ts) != len(x_shape) and tsize == size:
        return t.reshape(x_shape)
    try:
        if np.broadcast_shapes(ts, x_shape) == x_shape:
            if isinstance(t, Variable):
                return broadcast_to(t, x_shape)
            return get_array_module(t).broadcast_to(t, x_shape)
    except ValueError:
        pass
    raise ValueError(f"{fname}: t of shape {ts} does not fit x of shape {x_shape}")

