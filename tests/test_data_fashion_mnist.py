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

pytestmark = pytest.mark.requires_system("fashion-mnist")

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def _default_search_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("DEZERO_DATASETS", raising=False)
    monkeypatch.delenv("DEZERO_SYSTEM_DATASETS", raising=False)
    # Skipped where Debian's package is absent, failed instead under DEZERO_REQUIRE_SYSTEM=1
    # (CI): see the root conftest.py.
    assert any((d / "fashion-mnist" / FILES[0]).is_file() for d in system_dirs())


def test_found_in_the_system_dir_with_no_network(monkeypatch):
    # The files come from the Debian directory, never from a mirror: every download fails.
    import dezero.data.download as dl

    def no_network(*args, **kwargs):
        raise AssertionError("FashionMNIST tried to download although the files are installed")

    monkeypatch.setattr(dl, "_download", no_network)
    ds = FashionMNIST(train=False)
    assert len(ds) == 10_000


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
