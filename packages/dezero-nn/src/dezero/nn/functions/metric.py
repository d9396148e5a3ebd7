"""Metrics: values reported during training, never differentiated."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable, get_array_module
from dezero.core.variable import _const
from dezero.nn.functions._device import check_same_device

__all__ = ["accuracy"]


def accuracy(y: Any, t: Any) -> Variable:
    """Fraction of rows of ``y`` whose largest score is at the label ``t`` (no gradient).

    Args:
        y: scores of shape ``(N, C)``.
        t: integer labels of shape ``(N,)``.
    Returns:
        A 0-d Variable (``y``'s floating dtype) that takes no part in backprop.
    """
    yd = y.data if isinstance(y, Variable) else y
    td = t.data if isinstance(t, Variable) else t
    ys, ts = tuple(getattr(yd, "shape", ())), tuple(getattr(td, "shape", ()))
    if len(ys) != 2 or ts != (ys[0],):
        raise ValueError(
            f"accuracy: expected y of shape (N, C) and t of shape (N,), got {ys} and {ts}"
        )
    check_same_device("accuracy", "y", yd, t=td)
    xp = get_array_module(yd)
    dtype = yd.dtype if yd.dtype.kind == "f" else xp.float64
    hits = yd.argmax(axis=1) == td
    return _const(xp.asarray(hits.mean(), dtype=dtype))
