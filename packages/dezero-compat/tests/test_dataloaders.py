"""dezero.compat.dataloaders: DeZero's iterator protocol and NumPy-global shuffling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.compat import DataLoader, SeqDataLoader
from dezero.compat.datasets import Dataset
from dezero.core.testing import HostGPUBackend, isolated_backends


class _Range(Dataset):
    def prepare(self):
        self.data = np.arange(10, dtype=np.float32).reshape(10, 1)
        self.label = np.arange(10)


def test_shuffled_order_is_numpys_global_permutation():
    np.random.seed(0)
    loader = DataLoader(_Range(), batch_size=4)
    rs = np.random.RandomState(0)
    order = rs.permutation(10)
    assert loader.max_iter == math.ceil(10 / 4) == len(loader)
    batches = [t for _, t in loader]
    np.testing.assert_array_equal(np.concatenate(batches), order)
    assert [len(b) for b in batches] == [4, 4, 2]
    # StopIteration reset the loader: iteration 0 and the next permutation of the generator.
    assert loader.iteration == 0
    np.testing.assert_array_equal(loader.index, rs.permutation(10))


def test_next_reset_iteration():
    loader = DataLoader(_Range(), batch_size=3, shuffle=False)
    x, t = loader.next()
    assert x.shape == (3, 1) and t.tolist() == [0, 1, 2] and loader.iteration == 1
    x, t = next(loader)
    assert t.tolist() == [3, 4, 5] and loader.iteration == 2
    loader.reset()
    assert loader.iteration == 0 and next(loader)[1].tolist() == [0, 1, 2]
    assert iter(loader) is loader
    assert loader.gpu is False


def test_gpu_attribute_follows_and_moves_the_device():
    # DeZero's loader has a plain ``gpu`` flag: True after to_gpu(), and setting it moves
    # the batches. A pretend GPU (host memory, its own array type) stands in for CuPy.
    pairs = [(np.full(2, i, np.float32), i % 2) for i in range(4)]
    with isolated_backends(HostGPUBackend()):
        loader = DataLoader(pairs, batch_size=2, shuffle=False, gpu=True)
        assert loader.gpu is True
        x, t = next(loader)
        assert isinstance(x, HostGPUBackend.Array) and isinstance(t, HostGPUBackend.Array)
        loader.gpu = False
        assert loader.gpu is False
        x, t = next(loader)
        assert type(x) is np.ndarray and type(t) is np.ndarray
        np.testing.assert_array_equal(x, [[2, 2], [3, 3]])
        assert t.tolist() == [0, 1]
        loader.reset()
        loader.gpu = True
        x, _ = next(loader)
        assert isinstance(x, HostGPUBackend.Array)
        np.testing.assert_array_equal(np.asarray(x), [[0, 0], [1, 1]])


def test_plain_sequence_of_pairs():
    pairs = [(np.full(2, i, np.float32), i % 2) for i in range(5)]
    loader = DataLoader(pairs, batch_size=2, shuffle=False)
    x, t = loader.next()
    np.testing.assert_array_equal(x, [[0, 0], [1, 1]])
    assert t.tolist() == [0, 1]


def test_seq_data_loader_streams_as_dezero():
    loader = SeqDataLoader(_Range(), batch_size=3)
    jump = 10 // 3
    assert loader.max_iter == 4  # ceil(10 / 3): DeZero's epoch
    got = [t.tolist() for _, t in loader]
    want = [[(i * jump + k) % 10 for i in range(3)] for k in range(4)]
    assert got == want


def test_gpu_flag_gives_device_batches_or_a_clear_error():
    from dezero.core.backend import GPUUnavailableError

    try:
        import dezero.cuda

        usable = dezero.cuda.gpu_enable()
    except ImportError:
        usable = False
    if usable:
        x, t = DataLoader(_Range(), batch_size=2, gpu=True).next()
        assert type(x) is not np.ndarray and x.shape == (2, 1)
    else:
        with pytest.raises(GPUUnavailableError):
            DataLoader(_Range(), batch_size=2, gpu=True)
