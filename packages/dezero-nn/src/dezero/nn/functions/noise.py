"""Noise: inverted dropout."""

from __future__ import annotations

from typing import Any

from dezero.core import Config, Function, Variable, backend, random
from dezero.core.variable import _const, as_variable

__all__ = ["dropout"]


class Dropout(Function):
    def __init__(self, ratio: float) -> None:
        self.ratio = ratio

    def forward(self, x: Any) -> Any:
        # Drawn on x's own device, from the framework's generator whatever the device.
        u = random.uniform(x.shape, x.dtype, device=backend.device_of(x))
        # Inverted dropout: keep with probability 1 - ratio, scaled so E[y] = x.
        # In place on a mask of x's dtype: no promotion rule (NumPy's or CuPy's) can widen it.
        mask = (u >= self.ratio).astype(x.dtype)
        mask *= 1 / (1 - self.ratio)
        self.mask = mask
        return x * self.mask

    def backward(self, gy: Variable) -> Variable:
        return gy * _const(self.mask)


def dropout(x: Any, dropout_ratio: float = 0.5) -> Variable:
    """Inverted dropout: in training, zero each element with probability ``dropout_ratio``
    and scale the rest by ``1 / (1 - dropout_ratio)``; in ``test_mode()``, the identity.

    The mask is drawn on ``x``'s device by
    [`dezero.core.random.uniform`][dezero.core.random.uniform], so it is fixed by the framework's
    generator on every device: ``dezero.core.seed(n)``, or restoring
    [`dezero.core.random.get_state`][dezero.core.random.get_state], repeats it (a GPU's masks differ
    from the CPU's for the same state).

    Args:
        x: a floating-point Variable or array.
        dropout_ratio: the probability of dropping, in ``[0, 1)``.

    Returns:
        A Variable of ``x``'s shape and dtype.

    Examples:
        >>> y = F.dropout(np.ones(8), 0.5)
        >>> bool(np.isin(y.data, [0.0, 2.0]).all())  # dropped, or scaled by 1 / (1 - 0.5)
        True
        >>> from dezero.core import test_mode
        >>> with test_mode():
        ...     F.dropout(np.ones(2)).data
        array([1., 1.])
    """
    if not 0 <= dropout_ratio < 1:
        raise ValueError(f"dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
    if not Config.train:
        return as_variable(x)
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind != "f":
        raise TypeError(f"dropout: x must be a floating-point array, got {dtype}")
    return Dropout(float(dropout_ratio))(x)
