"""Metrics: values reported during training, never differentiated."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable, get_array_module
from dezero.core.variable import _const
from dezero.nn.functions._device import check_same_device
from dezero.nn.functions._labels import class_labels

__all__ = ["accuracy"]


def accuracy(y: Any, t: Any) -> Variable:
    """Fraction of rows of ``y`` whose largest score is at the label ``t`` (no gradient).

    Args:
        y: scores of shape ``(N, C)``.
        t: integer labels of shape ``(N,)`` (or ``(N, 1)``), each in ``[0, C)``: checked
            exactly as [`softmax_cross_entropy`][dezero.nn.functions.softmax_cross_entropy] checks
            them.

    Returns:
        A 0-d Variable (``y``'s floating dtype) that takes no part in backprop.

    Examples:
        >>> y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> round(float(F.accuracy(y, np.array([1, 1, 1])).data), 4)
        0.6667
    """
    yd = y.data if isinstance(y, Variable) else y
    check_same_device("accuracy", "y", yd, t=t.data if isinstance(t, Variable) else t)
    # The same label checks as softmax_cross_entropy: integer labels in [0, C), shape (N,)
    # (or DeZero's (N, 1)), no empty batch.
    td = class_labels("accuracy", tuple(getattr(yd, "shape", ())), t)
    xp = get_array_module(yd)
    dtype = yd.dtype if yd.dtype.kind == "f" else xp.float64
    hits = yd.argmax(axis=1) == td
    return _const(xp.asarray(hits.mean(), dtype=dtype))
