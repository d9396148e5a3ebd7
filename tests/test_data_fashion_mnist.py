"""Integration: the full, real Fashion-MNIST through dezero.data, found on disk with no network.

Debian's ``dataset-fashion-mnist`` package (installed by ``.ci/run``) puts the four
files in ``/usr/share/datasets/fashion-mnist``; ``FashionMNIST`` must find them there
through its normal search, verify their checksums and load them.
"""

from __future__ import annotations

import numpy as np
import pytest

from dezero.data import DataLoader
from dezero.data.datasets import FashionMNIST
from dezero.data.download import system_dirs


@pytest.fixture(autouse=True)
def _default_search_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("DEZERO_DATASETS", raising=False)
    monkeypatch.delenv("DEZERO_SYSTEM_DATASETS", raising=False)
    if not any(
        (d / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file() for d in system_dirs()
    ):
        pytest.skip(
            "Fashion-MNIST is not installed in a system dataset directory "
            "(apt-get install dataset-fashion-mnist)"
        )


@pytest.mark.parametrize("train, n", [(True, 60_000), (False, 10_000)])
def test_full_fashion_mnist_from_system_dir(train, n):
    ds = FashionMNIST(train=train, download=False)
    assert len(ds) == n
    assert ds.data.shape == (n, 1, 28, 28) and ds.data.dtype == np.uint8
    assert ds.label.shape == (n,) and ds.label.dtype == np.int64
    assert ds.label.min() == 0 and ds.label.max() == 9
    assert np.bincount(ds.label, minlength=10).tolist() == [n // 10] * 10
    assert 0 < ds.data.mean() < 255 and ds.data.max() == 255

    x, t = ds[0]
    assert x.shape == (784,) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x, ds.data[0].reshape(-1) / 255.0, rtol=1e-6)

    loader = DataLoader(ds, batch_size=1000, seed=0)
    counts = np.zeros(10, dtype=np.int64)
    for xb, tb in loader:
        assert xb.dtype == np.float32 and xb.shape[1] == 784
        counts += np.bincount(tb, minlength=10)
    assert counts.tolist() == [n // 10] * 10
