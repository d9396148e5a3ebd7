"""DataLoader and SeqDataLoader: coverage, order, determinism, resume, devices, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dezero.core.backend import GPUUnavailableError, gpu_status, to_cpu
from dezero.data import ArrayDataset, DataLoader, Dataset, SeqDataLoader


def _ids(n=103):
    """A dataset whose sample i is [i, 2i] with label i: batches reveal their indices."""
    return ArrayDataset(np.stack([np.arange(n), 2 * np.arange(n)], axis=1), np.arange(n))


def _epoch(loader):
    return [t.tolist() for _, t in loader]


@pytest.mark.parametrize("n, bs", [(103, 10), (100, 10), (5, 7), (1, 1)])
def test_every_sample_once_per_epoch(n, bs):
    loader = DataLoader(_ids(n), bs, seed=0)
    assert len(loader) == math.ceil(n / bs)
    for _ in range(3):
        batches = _epoch(loader)
        assert len(batches) == len(loader)
        assert all(len(b) == bs for b in batches[:-1]) and 1 <= len(batches[-1]) <= bs
        assert sorted(sum(batches, [])) == list(range(n))


def test_x_matches_t_and_shuffles_each_epoch():
    loader = DataLoader(_ids(), 10, seed=1)
    for x, t in loader:
        np.testing.assert_array_equal(x, np.stack([t, 2 * t], axis=1))
    a, b = _epoch(loader), _epoch(loader)
    assert a != b  # a new order every epoch
    assert _epoch(DataLoader(_ids(), 10, shuffle=False)) == [
        list(range(i, min(i + 10, 103))) for i in range(0, 103, 10)
    ]


def test_same_seed_same_order():
    a, b = DataLoader(_ids(), 10, seed=42), DataLoader(_ids(), 10, seed=42)
    assert [_epoch(a) for _ in range(2)] == [_epoch(b) for _ in range(2)]
    assert _epoch(DataLoader(_ids(), 10, seed=43)) != _epoch(DataLoader(_ids(), 10, seed=42))


def test_drop_last():
    loader = DataLoader(_ids(103), 10, drop_last=True, seed=0)
    assert len(loader) == 10
    batches = _epoch(loader)
    assert len(batches) == 10 and all(len(b) == 10 for b in batches)
    assert len(set(sum(batches, []))) == 100


@pytest.mark.parametrize("stop_at", [0, 3, 11])
def test_restored_state_gives_the_same_remaining_order(stop_at):
    ref = DataLoader(_ids(), 10, seed=7)
    _epoch(ref)  # one full epoch first, so the state is not the initial one
    stream = sum((_epoch(ref) for _ in range(3)), [])  # batches of the next three epochs

    run = DataLoader(_ids(), 10, seed=7)
    _epoch(run)
    it = iter(run)
    seen = [next(it)[1].tolist() for _ in range(stop_at)]
    state = json.loads(json.dumps(run.state_dict()))  # must survive JSON

    resumed = DataLoader(_ids(), 10, seed=999)  # a different seed: the state must override it
    resumed.load_state_dict(state)
    rest, after = _epoch(resumed), _epoch(resumed)
    # Mid-epoch the rest of that epoch follows; at its very end (11 of 11) the next one does.
    assert len(rest) == (11 - stop_at or 11) and len(after) == 11
    assert seen + rest + after == stream[: len(seen) + len(rest) + len(after)]


def test_break_then_new_for_starts_a_new_epoch():
    loader = DataLoader(_ids(), 10, seed=0)
    for _ in loader:
        break
    assert sorted(sum(_epoch(loader), [])) == list(range(103))
    assert loader.epoch == 2


def test_epoch_counter_and_position():
    loader = DataLoader(_ids(20), 10, seed=0)
    assert loader.epoch == 0
    it = iter(loader)
    next(it)
    assert (loader.epoch, loader.position) == (0, 1)
    next(it)
    assert (loader.epoch, loader.position) == (1, 2)


def test_load_state_dict_rejects_other_loader():
    state = DataLoader(_ids(), 10, seed=0).state_dict()
    with pytest.raises(ValueError, match="batch_size=10 .this loader: 20."):
        DataLoader(_ids(), 20).load_state_dict(state)
    with pytest.raises(KeyError, match="missing keys"):
        DataLoader(_ids(), 10).load_state_dict({"type": "DataLoader"})


def test_falls_back_to_per_sample_for_sequences_and_custom_getitem():
    pairs = [(np.full(3, i), i) for i in range(9)]
    x, t = next(iter(DataLoader(pairs, 4, shuffle=False)))
    assert x.shape == (4, 3) and t.tolist() == [0, 1, 2, 3]

    class Doubler(Dataset):
        def prepare(self):
            self.data = np.arange(6)

        def __getitem__(self, i):
            return np.array([self.data[i] * 2]), None

    x, t = next(iter(DataLoader(Doubler(), 3, shuffle=False)))
    assert x.tolist() == [[0], [2], [4]] and t is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=0), "DataLoader: batch_size must be a positive int, got 0"),
        (dict(batch_size=2.5), "got 2.5"),
        (dict(batch_size=True), "got True"),
        (
            dict(batch_size=200, drop_last=True),
            "drop_last=True with batch_size=200 > len.dataset.=103",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(_ids(), **kwargs)


def test_empty_dataset():
    with pytest.raises(ValueError, match="DataLoader: dataset is empty"):
        DataLoader(ArrayDataset(np.zeros((0, 2))), 4)


def test_device(xp):
    # The workspace's device fixture: NumPy always, CuPy where a GPU backend is usable.
    loader = DataLoader(_ids(), 10, seed=0)
    if xp is not np:
        assert loader.to_gpu() is loader
        x, t = next(iter(loader))
        assert isinstance(x, xp.ndarray) and isinstance(t, xp.ndarray)
        assert to_cpu(x).tolist() == np.stack([to_cpu(t), 2 * to_cpu(t)], axis=1).tolist()
        assert loader.to_cpu() is loader
    x, t = next(iter(loader))
    assert isinstance(x, np.ndarray) and isinstance(t, np.ndarray)
    assert x.tolist() == np.stack([t, 2 * t], axis=1).tolist()


def test_to_gpu_without_gpu_fails_at_once():
    ok, _ = gpu_status()
    if ok:
        pytest.skip("a GPU is usable here")
    loader = DataLoader(_ids(), 10)
    with pytest.raises(GPUUnavailableError, match="DataLoader.to_gpu"):
        loader.to_gpu()
    assert loader.device == "cpu"


def test_seq_dataloader_streams():
    n, bs = 103, 4
    loader = SeqDataLoader(_ids(n), bs)
    jump = n // bs
    assert len(loader) == jump
    batches = _epoch(loader)
    # Naive reference: stream i reads i*jump, i*jump+1, ... one step per batch.
    want = [[i * jump + k for i in range(bs)] for k in range(jump)]
    assert batches == want
    assert _epoch(loader) == want  # re-iterable, no shuffling


def test_seq_dataloader_resume_and_errors():
    loader = SeqDataLoader(_ids(40), 4)
    it = iter(loader)
    next(it), next(it)
    other = SeqDataLoader(_ids(40), 4)
    other.load_state_dict(loader.state_dict())
    assert [t.tolist() for _, t in other][0] == [2, 12, 22, 32]
    with pytest.raises(ValueError, match="batch_size=5 streams need at least 5 samples"):
        SeqDataLoader(_ids(3), 5)
    with pytest.raises(ValueError, match="SeqDataLoader: batch_size must be a positive int"):
        SeqDataLoader(_ids(3), 0)


def test_seed_method_restarts_the_order_from_the_new_seed():
    from dezero.data import DataLoader
    from dezero.data.dataset import ArrayDataset

    ds = ArrayDataset(np.arange(20, dtype=np.float32).reshape(20, 1), np.arange(20))
    a = DataLoader(ds, batch_size=5, seed=1)
    next(iter(a))  # consume part of an epoch, then re-seed
    a.seed(7)
    b = DataLoader(ds, batch_size=5, seed=7)
    got = [t for _, t in a]
    want = [t for _, t in b]
    assert len(got) == 4
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    # Independent reference: the order is a permutation drawn from PCG64(7).
    perm = np.random.Generator(np.random.PCG64(7)).permutation(20)
    assert np.array_equal(np.concatenate(got), perm)


def test_batches_follow_a_model_onto_gpu_1_checked_once():
    from dezero.core import Parameter
    from dezero.core.backend import device_of
    from dezero.core.testing import HostGPUBackend, isolated_backends

    gpus = HostGPUBackend(devices=2)
    with isolated_backends(gpus):
        w = Parameter(np.ones(2)).to_gpu("cuda:1")  # the model lives on the second GPU
        for loader in (DataLoader(_ids(), 10, seed=0), SeqDataLoader(_ids(), 10)):
            checks = gpus.checks
            assert loader.to_gpu(device_of(w)) is loader
            assert loader.device == "cuda:1"
            assert repr(loader).endswith("device='cuda:1')")
            batches = list(loader)
            assert gpus.checks == checks  # a Device is not checked again, nor is each batch
            for x, t in batches:
                assert device_of(x) == device_of(t) == "cuda:1"
                assert np.asarray(x).tolist() == np.stack([t, 2 * t], axis=1).tolist()
            assert loader.to_gpu(0).device == "cuda:0"
            assert gpus.checks == checks + 1  # a name is checked once, at to_gpu()
            assert device_of(next(iter(loader))[0]) == "cuda:0"
            assert loader.to_cpu().device == "cpu"
            assert type(next(iter(loader))[0]) is np.ndarray


def test_to_gpu_refuses_bad_devices_and_keeps_its_device():
    from dezero.core.testing import HostGPUBackend, isolated_backends

    with isolated_backends(HostGPUBackend(devices=2)):
        loader = DataLoader(_ids(), 10)
        with pytest.raises(ValueError, match="DataLoader.to_gpu: device 2 does not exist"):
            loader.to_gpu("cuda:2")
        with pytest.raises(ValueError, match="DataLoader.to_gpu: device must be .*'gpu'"):
            loader.to_gpu("gpu")
        with pytest.raises(ValueError, match="DataLoader.to_gpu: device must be a GPU"):
            loader.to_gpu("cpu")
        assert loader.device == "cpu"
# ---------------------------------------------------------------- randomness (issue 10 §6)


def _aug_dataset(seed):
    from dezero.data import ArrayDataset
    from dezero.data import transforms as T

    xs = np.arange(60 * 36, dtype=np.float32).reshape(60, 1, 6, 6)
    aug = T.Compose([T.RandomCrop(4, padding=1, seed=seed), T.RandomHorizontalFlip(seed=seed)])
    return ArrayDataset(xs, np.arange(60), transform=aug)


def test_resume_mid_epoch_with_seeded_augmentation():
    import json

    run = DataLoader(_aug_dataset(1), 10, seed=3)
    it = iter(run)
    for _ in range(2):
        next(it)
    state = json.loads(json.dumps(run.state_dict()))
    rest = [x for x, _ in it]
    resumed = DataLoader(_aug_dataset(99), 10, seed=42)  # other seeds: the state overrides
    resumed.load_state_dict(state)
    got = [x for x, _ in resumed]
    assert len(got) == len(rest) == 4
    for a, b in zip(got, rest):
        np.testing.assert_array_equal(a, b)


def test_bad_transform_state_leaves_the_loader_unchanged():
    loader = DataLoader(_aug_dataset(1), 10, seed=3)
    state = loader.state_dict()
    state["transforms"]["transform"]["transforms"][0]["rng_state"] = "garbage"
    before = loader.state_dict()
    with pytest.raises(ValueError, match="dataset.transform"):
        loader.load_state_dict(state)
    assert loader.state_dict() == before


def test_unseeded_loader_follows_the_framework_seed_without_drawing_from_it():
    from dezero.core import random

    random.seed(5)
    a = _epoch(DataLoader(_ids(), 10))
    after_a = random.get_generator().random()
    random.seed(5)
    b = _epoch(DataLoader(_ids(), 10))
    assert a == b and sum(a, []) != list(range(103))
    # Creating a loader draws nothing: the next framework number is the first of PCG64(5).
    assert after_a == np.random.Generator(np.random.PCG64(5)).random()
