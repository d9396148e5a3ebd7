"""BatchNorm (batch normalisation, running averages kept as saved state) and LayerNorm."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Parameter, Variable, get_array_module
from dezero.core import backend as _backend
from dezero.nn import functions as F
from dezero.nn.layers._util import check_size
from dezero.nn.layers.layer import Layer

__all__ = ["BatchNorm", "LayerNorm"]


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


class LayerNorm(Layer):
    """Layer normalisation over the last axis (PyTorch's ``LayerNorm(D)``), the same in
    training and test mode; built on [`layer_norm`][dezero.nn.functions.layer_norm].

    ``gamma`` (ones) and ``beta`` (zeros) are Parameters of shape ``(D,)``.

    Args:
        normalized_size: ``D``, the size of the last axis; when None, ``gamma`` and ``beta``
            are created on the first call from the input's last dimension (their ``data``
            is None until then).
        eps: added to the variance before the square root.
        dtype: dtype of the parameters.

    Examples:
        >>> ln = LayerNorm()
        >>> y = ln(np.array([[1.0, 3.0]], np.float32))   # gamma and beta become (2,)
        >>> y.data.round(4)
        array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, normalized_size: int | None = None, eps: float = 1e-5,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        check_size("LayerNorm", "normalized_size", normalized_size, allow_none=True)
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) \
                or not eps > 0:
            raise ValueError(f"LayerNorm: eps must be a positive number, got {eps!r}")
        self.normalized_size = None if normalized_size is None else int(normalized_size)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"LayerNorm: dtype must be a float dtype, got {self.dtype}")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")
        if self.normalized_size is not None:
            self._init_params()

    def _init_params(self, like: Any = None) -> None:
        d = int(self.normalized_size)  # type: ignore[arg-type]
        g, b = np.ones(d, self.dtype), np.zeros(d, self.dtype)
        if like is not None:
            g, b = _backend.on_device_of(g, like), _backend.on_device_of(b, like)
        self.gamma.data, self.beta.data = g, b

    def _shape_problems(self, shape_of: Any) -> list[str]:
        want = None if self.normalized_size is None else (self.normalized_size,)
        given = {n: s for n in ("gamma", "beta") if (s := shape_of(n)) is not None}
        shapes = set(given.values())
        if any(len(s) != 1 for s in shapes) or len(shapes) > 1 or (
                want is not None and shapes and shapes != {want}):
            return [f"gamma and beta must both have shape "
                    f"{want if want is not None else '(normalized_size,)'}, got "
                    + ", ".join(f"{n} {s}" for n, s in given.items())]
        return []

    def _loaded(self) -> None:
        for p in (self.gamma, self.beta):
            if p.data is not None:
                self.normalized_size = int(p.data.shape[0])

    def forward(self, x: Any) -> Variable:
        data = x.data if isinstance(x, Variable) else x
        shape = tuple(getattr(data, "shape", ()))
        if len(shape) < 1:
            raise ValueError(
                f"LayerNorm: input must have at least 1 dimension (..., normalized_size), "
                f"got shape {shape}"
            )
        if self.gamma.data is None or self.beta.data is None:
            if self.normalized_size is None:
                self.normalized_size = int(shape[-1])
            self._init_params(like=data)
        if shape[-1] != self.normalized_size:
            raise ValueError(
                f"LayerNorm: input's last axis must be normalized_size="
                f"{self.normalized_size}, got shape {shape}"
            )
        return F.layer_norm(x, self.gamma, self.beta, self.eps)

    def __repr__(self) -> str:
        return f"LayerNorm(normalized_size={self.normalized_size}, eps={self.eps})"
