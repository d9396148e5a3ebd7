"""scatter_index and scatter_dataset: equal shards that cover every sample, padding flagged."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from dezero.data import Dataset

__all__ = ["Shard", "scatter_index", "scatter_dataset", "ScatteredDataset"]


class Shard(NamedTuple):
    """One rank's part of ``range(n)``: ``indices`` and which of them are ``padding``."""

    indices: np.ndarray
    padding: np.ndarray


def _check_n(owner: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{owner}: n must be a non-negative int, got {n!r}")
    return int(n)


def _split(order: np.ndarray, rank: int, size: int) -> Shard:
    """Rank ``rank``'s contiguous slice of ``order``, padded from the start of ``order``.

    Every shard has ``ceil(n / size)`` entries; the ``size * ceil(n / size) - n`` slots past
    the end wrap around to the first samples and are flagged as padding. ``n == 0`` gives
    empty shards.
    """
    n = len(order)
    per = math.ceil(n / size) if n else 0
    pos = np.arange(rank * per, (rank + 1) * per)
    padding = pos >= n
    idx = order[pos % n] if n else np.empty(0, np.intp)
    return Shard(np.asarray(idx, np.intp), padding)


def scatter_index(n: int, comm: Any, shuffle: bool = False, seed: int | None = None,
                  epoch: int = 0) -> Shard:
    """This rank's shard of ``range(n)``.

    Shards have equal lengths (``ceil(n / comm.size)``), so every rank runs the same
    number of steps. Together they cover every index; the few extra entries that pad
    the last shards repeat the first indices and are flagged in ``Shard.padding``. With
    ``shuffle``, the order is a permutation drawn from ``seed + epoch``: the same on
    every rank (``seed`` must then be the same everywhere; None takes rank 0's entropy).
    """
    n = _check_n("scatter_index", n)
    if shuffle:
        seed = _common_seed(comm, seed)
        order = np.random.Generator(np.random.PCG64([seed, int(epoch)])).permutation(n)
    else:
        order = np.arange(n)
    return _split(order, comm.rank, comm.size)


def _common_seed(comm: Any, seed: int | None) -> int:
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
        return int(comm.bcast_obj(seed, root=0))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"scatter_dataset: seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


class ScatteredDataset(Dataset):
    """This rank's view of a dataset every rank holds: indices into it, never a copy.

    ``ds[i]`` is ``base[indices[i]]``; a batch of indices is one fancy index into
    ``base`` when ``base`` is array-backed. ``padding`` flags the entries that repeat
    samples only to even out the shard lengths. With ``shuffle``,
    [`set_epoch`][dezero.dist.ScatteredDataset.set_epoch] redraws the global order from
    ``seed + epoch`` (the same on every rank), as a Trainer does at the start of each epoch.
    """

    def __init__(self, base: Any, comm: Any, shuffle: bool, seed: int | None) -> None:
        self.base = base
        self.comm_rank, self.comm_size = comm.rank, comm.size
        self.shuffle = bool(shuffle)
        self.seed = _common_seed(comm, seed) if shuffle else seed
        self.epoch = 0
        super().__init__(train=getattr(base, "train", True))
        self._reshard()

    def _reshard(self) -> None:
        n = len(self.base)
        if self.shuffle:
            gen = np.random.Generator(np.random.PCG64([int(self.seed or 0), self.epoch]))
            order = gen.permutation(n)
        else:
            order = np.arange(n)
        self.indices, self.padding = _split(order, self.comm_rank, self.comm_size)

    def set_epoch(self, epoch: int) -> None:
        """Use the global order of ``epoch`` (only matters with ``shuffle``)."""
        self.epoch = int(epoch)
        if self.shuffle:
            self._reshard()

    @property
    def batchable(self) -> bool:
        return isinstance(self.base, Dataset) and self.base.batchable

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            n = len(self.indices)
            if not -n <= index < n:
                raise IndexError(f"ScatteredDataset[{index}]: index out of range for {n} samples")
            return self.base[int(self.indices[index])]
        return self.base[self.indices[index]]

    def __repr__(self) -> str:
        return (f"ScatteredDataset({type(self.base).__name__}, rank={self.comm_rank}, "
                f"len={len(self)}, padding={int(self.padding.sum())})")


def scatter_dataset(dataset: Any, comm: Any, shuffle: bool = False,
                    seed: int | None = None) -> ScatteredDataset:
    """This rank's shard of ``dataset``, which every rank has loaded itself.

    Nothing is pickled or sent: each rank indexes its own copy (ChainerMN broadcasts
    the data from rank 0; an array-backed dataset is cheaper to load on every rank).
    See [`scatter_index`][dezero.dist.scatter_index] for the shard rules and
    [`ScatteredDataset`][dezero.dist.ScatteredDataset] for per-epoch reshuffling.

    Examples:
        >>> train = scatter_dataset(MNIST(train=True), comm, shuffle=True, seed=0)
        >>> loader = DataLoader(train, 100, shuffle=False)
    """
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"scatter_dataset: dataset must have __len__ and __getitem__, "
            f"got {type(dataset).__name__}"
        )
    return ScatteredDataset(dataset, comm, shuffle, seed)
