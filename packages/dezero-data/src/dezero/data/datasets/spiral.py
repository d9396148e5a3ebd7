"""The spiral toy dataset of DeZero: three interleaved arms in 2-D."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dezero.data.dataset import Dataset

__all__ = ["Spiral", "get_spiral"]

NUM_DATA, NUM_CLASS, INPUT_DIM = 100, 3, 2


def get_spiral(train: bool = True, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The spiral data ``(x, t)``: ``x`` float32 ``(300, 2)``, ``t`` int64 ``(300,)``.

    With the default seed (1984 for train, 2020 for test) the values are exactly
    DeZero's. The draws come from a private ``RandomState`` (the generator DeZero
    used), never from NumPy's global one.
    """
    if seed is None:
        seed = 1984 if train else 2020
    rs = np.random.RandomState(seed)
    rate = np.arange(NUM_DATA) / NUM_DATA
    noise = rs.randn(NUM_CLASS, NUM_DATA) * 0.2  # drawn class by class, point by point, as DeZero
    theta = np.arange(NUM_CLASS)[:, None] * 4.0 + 4.0 * rate + noise
    radius = np.broadcast_to(rate, theta.shape)
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=-1)
    x = x.reshape(-1, INPUT_DIM).astype(np.float32)
    t = np.repeat(np.arange(NUM_CLASS, dtype=np.int64), NUM_DATA)
    order = rs.permutation(NUM_DATA * NUM_CLASS)
    return x[order], t[order]


class Spiral(Dataset):
    """DeZero's spiral dataset: 300 points in 2-D, 3 classes.

    ``seed=None`` gives DeZero's exact values (seed 1984 for train, 2020 for test);
    another seed draws another spiral. NumPy's global random state is never used.
    """

    def __init__(
        self,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        seed: int | None = None,
    ) -> None:
        self.seed = seed
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train, self.seed)
