"""Exact evaluation over a scattered dataset: metrics reduced as (sum, count) pairs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core import no_grad, test_mode

__all__ = ["allreduce_sums", "evaluate"]


def allreduce_sums(
    comm: Any, sums: Mapping[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Sum ``{name: (sum, count)}`` over the ranks in one collective (float64).

    Every rank must pass the same names. Dividing a reduced sum by its reduced count
    gives the mean over every sample of every rank, not a mean of per-rank means.
    """
    names = sorted(sums)
    vec = np.array([v for k in names for v in sums[k]], np.float64)
    total = comm.allreduce(vec)
    return {k: (float(total[2 * i]), float(total[2 * i + 1])) for i, k in enumerate(names)}


def evaluate(
    model: Callable[[Any], Any],
    dataset: Any,
    comm: Any,
    metrics: Mapping[str, Callable[[Any, Any], Any]],
    batch_size: int = 100,
) -> dict[str, float]:
    """Mean of each metric over the whole (scattered) dataset, as one process would get.

    ``dataset`` is a [`ScatteredDataset`][dezero.dist.ScatteredDataset]; each rank evaluates its
    shard without the padding entries, in batches, in ``test_mode`` without a graph.
    Each metric ``f(y, t)`` returns a batch mean, which is weighted by the batch's size
    into a sum; sums and counts are reduced over ranks, then divided. Ranks may have a
    different number of batches: the only collective is the final reduction.

    Examples:
        >>> evaluate(model, test, comm, {"loss": F.softmax_cross_entropy,
        ...                              "accuracy": F.accuracy})
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"evaluate: batch_size must be a positive int, got {batch_size!r}")
    if not metrics:
        raise ValueError("evaluate: metrics is empty")
    padding = getattr(dataset, "padding", None)
    positions = np.arange(len(dataset)) if padding is None else np.flatnonzero(~padding)
    sums = {k: 0.0 for k in metrics}
    count = 0
    with test_mode(), no_grad():
        for s in range(0, len(positions), batch_size):
            idx = positions[s : s + batch_size]
            x, t = dataset[idx]
            y = model(x)
            for k, f in metrics.items():
                v = f(y, t)
                sums[k] += float(_backend.to_cpu(getattr(v, "data", v))) * len(idx)
            count += len(idx)
    reduced = allreduce_sums(comm, {k: (v, count) for k, v in sums.items()})
    return {k: (s / c if c else float("nan")) for k, (s, c) in reduced.items()}
