"""MultiNodeBatchNorm: batch statistics computed over the batches of every rank."""

from __future__ import annotations

from typing import Any

from dezero.core import Config, Function, Parameter, Variable, get_array_module
from dezero.core.ops import reshape, sum
from dezero.nn import functions as F
from dezero.nn.layers import Layer

__all__ = ["MultiNodeBatchNorm", "allreduce_sum"]


class AllreduceSum(Function):
    """``y = sum over ranks of x`` on every rank; its gradient is the same sum of ``gy``.

    Rank ``r``'s loss reaches every rank's ``x`` through ``y``, so the gradient for
    ``x`` on rank ``s`` sums the ``gy`` of all ranks: the backward is itself an
    allreduce, and differentiable again.
    """

    def __init__(self, comm: Any) -> None:
        self.comm = comm

    def forward(self, x: Any) -> Any:
        return self.comm.allreduce(x)

    def backward(self, gy: Variable) -> Variable:
        return AllreduceSum(self.comm)(gy)


def allreduce_sum(x: Any, comm: Any) -> Variable:
    """Differentiable sum of ``x`` over the ranks of ``comm`` (a collective)."""
    return AllreduceSum(comm)(x)


class MultiNodeBatchNorm(Layer):
    """BatchNorm whose batch mean and variance are those of the union of all ranks' batches.

    In training each forward makes two small collectives (the sums and the squared
    deviations), and the backward two more; the result, gradients included, equals a
    BatchNorm over the concatenated batch in one process. The running averages are
    updated from the global statistics, so they stay identical on every rank. In
    ``test_mode`` it normalises with the running averages and communicates nothing.
    ChainerMN calls this ``MultiNodeBatchNormalization``.

    Args:
        comm: the communicator; every rank must call the layer the same number of times.
        decay: weight of the old running value, as in
            [`dezero.nn.layers.BatchNorm`][dezero.nn.layers.BatchNorm].
        eps: added to the variance, as in
            [`dezero.nn.layers.BatchNorm`][dezero.nn.layers.BatchNorm].
    """

    # Running averages (host or device arrays), None until the first call or a load.
    avg_mean: Any
    avg_var: Any

    def __init__(self, comm: Any, decay: float = 0.9, eps: float = 2e-5) -> None:
        super().__init__()
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"MultiNodeBatchNorm: invalid decay: {decay} (must be in [0, 1])")
        if not eps > 0:
            raise ValueError(f"MultiNodeBatchNorm: invalid eps: {eps} (must be positive)")
        self.comm = comm
        self.decay = float(decay)
        self.eps = float(eps)
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")
        self.register_state("avg_mean", None)
        self.register_state("avg_var", None)

    def forward(self, x: Any) -> Variable:
        data = x.data if isinstance(x, Variable) else x
        if data.ndim not in (2, 4):
            raise ValueError(
                f"MultiNodeBatchNorm: x must be 2-D (N, C) or 4-D (N, C, H, W), got shape "
                f"{tuple(data.shape)}"
            )
        xp = get_array_module(data)
        c = int(data.shape[1])
        if self.avg_mean is None or self.gamma.data is None:
            # Deterministic initial values: the same on every rank without communication.
            self.avg_mean = xp.zeros(c, dtype=data.dtype)
            self.avg_var = xp.ones(c, dtype=data.dtype)
            self.gamma.data = xp.ones(c, dtype=data.dtype)
            self.beta.data = xp.zeros(c, dtype=data.dtype)
        if not Config.train:
            return F.batch_norm(x, self.gamma, self.beta, self.avg_mean, self.avg_var,
                                self.decay, self.eps)
        axes = (0,) if data.ndim == 2 else (0, 2, 3)
        gshape = (1, c) if data.ndim == 2 else (1, c, 1, 1)
        m_local = data.size // c
        m = int(self.comm.allreduce_obj(m_local))
        mean = allreduce_sum(sum(x, axes, keepdims=True), self.comm) / m
        xc = x - mean
        var = allreduce_sum(sum(xc * xc, axes, keepdims=True), self.comm) / m
        y = xc * (var + self.eps) ** -0.5 * reshape(self.gamma, gshape) + reshape(self.beta, gshape)
        d = self.decay
        adjust = m / max(m - 1, 1)
        self.avg_mean *= d
        self.avg_mean += (1 - d) * mean.data.reshape(c)
        self.avg_var *= d
        self.avg_var += ((1 - d) * adjust) * var.data.reshape(c)
        return y
