"""DeZero's ``dezero.dataloaders``: DataLoader and SeqDataLoader with DeZero's protocol.

The loader is its own iterator: ``next(loader)`` / ``loader.next()`` hand out batches,
``loader.iteration`` counts them, ``loader.max_iter`` is the number per epoch, and at
the end of an epoch it raises StopIteration and calls ``reset()``, which draws the next
order with ``np.random.permutation`` from NumPy's global generator (DeZero's draw; the
first order is drawn when the loader is created). ``gpu=True`` hands out GPU arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dezero.data import dataloader as _DL

__all__ = ["DataLoader", "SeqDataLoader"]


class DataLoader(_DL.DataLoader):
    """DeZero's DataLoader (a native DataLoader, so native code takes it too).

    Args:
        dataset: a Dataset (or any sequence of ``(x, t)`` pairs).
        batch_size: samples per batch; the last batch may be smaller.
        shuffle: draw a new order every epoch from NumPy's global generator.
        gpu: hand out batches on the GPU.
    """

    def __init__(self, dataset: Any, batch_size: int, shuffle: bool = True,
                 gpu: bool = False) -> None:
        super().__init__(dataset, batch_size, shuffle=shuffle, seed=0)
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / self.batch_size)
        if gpu:
            self.to_gpu()
        self.reset()

    @property
    def gpu(self) -> bool:
        """Whether batches go to a GPU; setting it is ``to_gpu()`` or ``to_cpu()``."""
        return self.device.is_gpu

    @gpu.setter
    def gpu(self, value: bool) -> None:
        if value:
            self.to_gpu()
        else:
            self.to_cpu()

    def reset(self) -> None:
        """Start a new epoch: ``iteration = 0`` and a new order (if shuffling)."""
        self.iteration = 0
        n = len(self.dataset)
        self.index = np.random.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self) -> Any:
        return self

    def _batch_index(self) -> np.ndarray:
        i, bs = self.iteration, self.batch_size
        return self.index[i * bs:(i + 1) * bs]

    def __next__(self) -> tuple[Any, Any]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        idx = self._batch_index()
        if getattr(self.dataset, "batchable", False):
            x, t = self.dataset[idx]  # one fancy index, transforms on the batch
        else:
            batch = [self.dataset[int(i)] for i in idx]
            x = np.array([b[0] for b in batch])
            t = np.array([b[1] for b in batch])
        self.iteration += 1
        return self._to_device((x, t))

    def next(self) -> tuple[Any, Any]:
        """The next batch (``next(loader)``)."""
        return self.__next__()

    def __len__(self) -> int:
        return self.max_iter


class SeqDataLoader(DataLoader):
    """DeZero's loader for time series: ``batch_size`` streams, each moving one step per
    batch (stream ``i`` at ``i * (n // batch_size) + iteration``), ``ceil(n / batch_size)``
    batches per epoch as in DeZero."""

    def __init__(self, dataset: Any, batch_size: int, gpu: bool = False) -> None:
        super().__init__(dataset, batch_size, shuffle=False, gpu=gpu)

    def _batch_index(self) -> np.ndarray:
        jump = self.data_size // self.batch_size
        return (np.arange(self.batch_size) * jump + self.iteration) % self.data_size
