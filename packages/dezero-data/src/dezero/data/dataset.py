"""The Dataset base class: samples and labels, with transforms, by index or by batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dezero.data.transforms import apply_batch

__all__ = ["Dataset", "ArrayDataset"]

Transform = Callable[[Any], Any]


class Dataset:
    """A dataset of samples ``data`` and optional labels ``label``.

    Subclasses fill ``self.data`` (and ``self.label``) in [`prepare`][dezero.data.Dataset.prepare],
    as in DeZero. ``dataset[i]`` is one ``(x, t)`` pair; ``dataset[indices]`` with an integer array
    (or a slice) is a whole batch ``(xs, ts)``, gathered with one fancy index and transformed in one
    go. ``t`` is ``None`` for datasets without labels.

    Args:
        train: the training part (True) or the test part (False).
        transform: applied to each ``x`` (see [`dezero.data.transforms`][dezero.data.transforms]).
        target_transform: applied to each ``t``.
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data: Any = None
        self.label: Any = None
        self.prepare()

    def prepare(self) -> None:
        """Load ``self.data`` and ``self.label`` (subclasses override)."""

    @property
    def batchable(self) -> bool:
        """Whether ``self[indices]`` gathers a batch in one step (array-backed, not overridden)."""
        return self.data is not None and type(self).__getitem__ is Dataset.__getitem__

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        if self.data is None:
            raise TypeError(
                f"{type(self).__name__}.__getitem__: the dataset holds no data (prepare() set none)"
            )
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            n = len(self.data)
            if not -n <= index < n:
                raise IndexError(
                    f"{type(self).__name__}[{index}]: index out of range for {n} samples"
                )
            x = self.data[index]
            if self.transform is not None:
                x = self.transform(x)
            if self.label is None:
                return x, None
            t = self.label[index]
            if self.target_transform is not None:
                t = self.target_transform(t)
            return x, t
        if not (type(index) is np.ndarray and index.ndim == 1 and index.dtype.kind in "iu"):
            index = _batch_index(index, type(self).__name__)  # the loader's indices skip this
        idx = index
        xs = apply_batch(self.transform, self.data[idx])
        if self.label is None:
            return xs, None
        return xs, apply_batch(self.target_transform, self.label[idx])

    def __len__(self) -> int:
        if self.data is None:
            return 0
        return len(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(train={self.train}, len={len(self)})"


def _batch_index(index: Any, owner: str) -> Any:
    if isinstance(index, slice):
        return index
    idx = index if isinstance(index, np.ndarray) else np.asarray(index)
    if idx.ndim != 1 or not (idx.dtype.kind in "iu" or idx.size == 0):
        raise TypeError(
            f"{owner}.__getitem__: index must be an int, a slice or a 1-D integer array, "
            f"got {type(index).__name__} of dtype {idx.dtype} and shape {idx.shape}"
        )
    return idx if idx.dtype.kind in "iu" else idx.astype(np.intp)


class ArrayDataset(Dataset):
    """A Dataset over arrays you already hold: ``ArrayDataset(x, t)``.

    Examples:
        >>> ds = ArrayDataset(np.zeros((10, 3)), np.arange(10))
        >>> xs, ts = ds[np.array([0, 5])]
    """

    def __init__(
        self,
        data: Any,
        label: Any = None,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        if label is not None and len(label) != len(data):
            raise ValueError(
                f"ArrayDataset: data has {len(data)} samples but label has {len(label)}"
            )
        self._init_data, self._init_label = data, label
        super().__init__(train=True, transform=transform, target_transform=target_transform)

    def prepare(self) -> None:
        self.data, self.label = self._init_data, self._init_label
