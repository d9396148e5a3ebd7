"""The sine-curve time series of DeZero, for recurrent networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dezero.core.random import make_generator
from dezero.data.dataset import Dataset

__all__ = ["SinCurve"]


class SinCurve(Dataset):
    """A noisy sine (train) or a clean cosine (test) over ``[0, 2π]``, 1,000 points.

    ``data[i]`` is the value at step ``i`` and ``label[i]`` the value at step ``i + 1``,
    each of shape ``(1,)``, float64, 999 pairs. The noise comes from the dataset's own
    generator, seeded with ``seed``.
    """

    num_data = 1000

    def __init__(
        self,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        seed: int | None = 0,
    ) -> None:
        self.seed = seed
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        x = np.linspace(0, 2 * np.pi, self.num_data)
        if self.train:
            noise = make_generator(self.seed).uniform(-0.05, 0.05, size=x.shape)
            y = np.sin(x) + noise
        else:
            y = np.cos(x)
        y = y.astype(np.float64)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]
