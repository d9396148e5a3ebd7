"""Dataset: single samples, batches gathered in one step, subclasses in DeZero's style."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.data import ArrayDataset, Dataset
from dezero.data.transforms import Compose, Flatten, Normalize, ToFloat


class Squares(Dataset):
    def prepare(self):
        self.data = np.arange(10).reshape(10, 1) ** 2
        self.label = np.arange(10) % 3


def test_subclass_with_prepare():
    ds = Squares(transform=lambda x: x + 1, target_transform=lambda t: t * 10)
    assert len(ds) == 10
    x, t = ds[3]
    assert x.tolist() == [10] and t == 0
    xs, ts = ds[np.array([3, 4])]
    assert xs.tolist() == [[10], [17]] and ts.tolist() == [0, 10]


def test_batch_equals_stacked_samples():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(30, 1, 4, 4), dtype=np.uint8)
    ds = ArrayDataset(
        data, np.arange(30), transform=Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
    )
    idx = rng.permutation(30)[:7]
    xs, ts = ds[idx]
    ref_x = np.stack([ds[int(i)][0] for i in idx])
    np.testing.assert_array_equal(xs, ref_x)
    assert ts.tolist() == idx.tolist()
    xs2, _ = ds[2:5]
    np.testing.assert_array_equal(xs2, np.stack([ds[i][0] for i in (2, 3, 4)]))


def test_unlabelled_and_errors():
    ds = ArrayDataset(np.zeros((4, 2)))
    assert ds[0][1] is None and ds[np.array([0, 1])][1] is None
    with pytest.raises(IndexError, match=r"ArrayDataset\[4\]: index out of range for 4 samples"):
        ds[4]
    with pytest.raises(TypeError, match="1-D integer array"):
        ds[np.array([0.5])]
    with pytest.raises(ValueError, match="data has 4 samples but label has 3"):
        ArrayDataset(np.zeros((4, 2)), np.zeros(3))
    assert len(Dataset()) == 0


def test_overridden_getitem_is_not_batchable():
    class PerSample(Dataset):
        def prepare(self):
            self.data = np.arange(5)

        def __getitem__(self, i):
            return self.data[i] * 2, None

    assert not PerSample().batchable
    assert ArrayDataset(np.zeros(3)).batchable
