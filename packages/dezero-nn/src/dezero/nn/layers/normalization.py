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
    averages, registered as state: saved in [`state_dict`][dezero.nn.layers.Layer.state_dict], never
    optimised. All four are created on the first call, sized by the input's axis 1, in its dtype.

    Args:
        decay: weight of the old running average in each update.
        eps: added to the variance before the square root.
    """

    # Running averages (host or device arrays), None until the first call or a load.
    avg_mean: Any
    avg_var: Any

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

    def _shape_problems(self, shape_of: Any) -> list[str]:
        shapes = {n: shape_of(n) for n in ("gamma", "beta", "avg_mean", "avg_var")}
        given = {n: s for n, s in shapes.items() if s is not None}
        if any(len(s) != 1 for s in given.values()) or len(set(given.values())) > 1:
            return ["gamma, beta, avg_mean and avg_var must be 1-D of one size (channels), "
                    "got " + ", ".join(f"{n} {s}" for n, s in given.items())]
        return []

    def forward(self, x: Any) -> Variable:
        data = x.data if isinstance(x, Variable) else x
        if getattr(data, "ndim", 0) < 2:
            raise ValueError(
                f"BatchNorm: input must be at least 2-D (N, C, ...), got shape "
                f"{tuple(getattr(data, 'shape', ()))}"
            )
        xp = get_array_module(data)
        size = int(data.shape[1])
        # Build only what is missing: a loaded file may have set some of the four.
        if self.avg_mean is None:
            self.avg_mean = xp.zeros(size, dtype=data.dtype)
        if self.avg_var is None:
            self.avg_var = xp.ones(size, dtype=data.dtype)
        if self.gamma.data is None:
            self.gamma.data = xp.ones(size, dtype=data.dtype)
        if self.beta.data is None:
            self.beta.data = xp.zeros(size, dtype=data.dtype)
        return F.batch_norm(x, self.gamma, self.beta, self.avg_mean, self.avg_var,
                            self.decay, self.eps)
