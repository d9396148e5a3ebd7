"""BatchNorm: batch normalisation with running averages kept as saved state."""

from __future__ import annotations

from typing import Any

from dezero.core import Parameter, Variable, get_array_module
from dezero.nn import functions as F
from dezero.nn.layers.layer import Layer

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalisation over axis 0 (and the spatial axes of 4-D input).

    ``gamma`` and ``beta`` are Parameters; ``avg_mean`` and ``avg_var`` are running
    averages, registered as state: saved in :meth:`state_dict`, never optimised. All four
    are created on the first call, sized by the input's axis 1, in its dtype.

    Args:
        decay: weight of the old running average in each update.
        eps: added to the variance before the square root.
    """

    def __init__(self, decay: float = 0.9, eps: float = 2e-5) -> None:
        super().__init__()
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"BatchNorm: invalid decay: {decay} (must be in [0, 1])")
        if not eps > 0:
            raise ValueError(f"BatchNorm: invalid eps: {eps} (must be positive)")
        self.decay = float(decay)
        self.eps = float(eps)
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")
        self.register_state("avg_mean", None)
        self.register_state("avg_var", None)

    def forward(self, x: Any) -> Variable:
        data = x.data if isinstance(x, Variable) else x
        if self.avg_mean is None or self.gamma.data is None:
            xp = get_array_module(data)
            size = int(data.shape[1])
            self.avg_mean = xp.zeros(size, dtype=data.dtype)
            self.avg_var = xp.ones(size, dtype=data.dtype)
            self.gamma.data = xp.ones(size, dtype=data.dtype)
            self.beta.data = xp.zeros(size, dtype=data.dtype)
        return F.batch_norm(x, self.gamma, self.beta, self.avg_mean, self.avg_var,
                            self.decay, self.eps)
