"""Trainer(gpu=...) and --gpu speak the device vocabulary; a run on GPU 1 stays there.

The GPUs are dezero.core.testing.HostGPUBackend's two pretend devices, whose arrays carry
their device number, so a model or a batch left on GPU 0 shows.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import pytest

from dezero.core import backend
from dezero.core.backend import device_of
from dezero.core.testing import HostGPUBackend, isolated_backends
from dezero.data import ArrayDataset, DataLoader
from dezero.nn import functions as F
from dezero.nn.models import MLP
from dezero.nn.optimizers import SGD
from dezero.train import Callback, Trainer
from dezero.train.cli import _gpu_arg
from dezero.train.trainer import _resolve_device


@pytest.fixture
def gpus():
    b = HostGPUBackend(devices=2)
    with isolated_backends(b):
        yield b


def _trainer(gpu, out):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 6)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = MLP((8, 2))
    return Trainer(model, F.softmax_cross_entropy, SGD(lr=0.1).setup(model),
                   DataLoader(ArrayDataset(x[:80], t[:80]), 20, seed=1),
                   DataLoader(ArrayDataset(x[80:], t[80:]), 20, shuffle=False),
                   gpu=gpu, out=out, seed=0, progress=False)


class _CurrentDevice(Callback):
    """Records the pretend GPU's current device at every batch end."""

    def __init__(self, gpus):
        self.gpus, self.seen = gpus, set()

    def on_batch_end(self, trainer, batch, logs):
        self.seen.add(self.gpus.current)


@pytest.mark.parametrize("gpu", ["cuda:1", 1])
def test_training_on_gpu_1_keeps_model_and_batches_there(gpus, tmp_path, gpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = _trainer(gpu, tmp_path / "gpu")
        assert trainer.device == "cuda:1"
        assert trainer.train_loader.device == trainer.test_loader.device == "cuda:1"
        current = _CurrentDevice(gpus)
        trainer.callbacks.append(current)
        gpu_history = trainer.fit(2)
    assert current.seen == {1}  # GPU 1 is current while training (CuPy runs kernels there)
    assert gpus.current == 0  # and no longer afterwards
    for name, p in trainer.model.named_params():
        assert device_of(p) == "cuda:1", name
    cpu_history = _trainer(False, tmp_path / "cpu").fit(2)
    for g, c in zip(gpu_history, cpu_history, strict=True):
        for k in ("loss", "acc", "test_loss", "test_acc"):
            assert math.isclose(g[k], c[k], rel_tol=1e-5, abs_tol=1e-6), (k, g, c)


def test_gpu_values_name_devices(gpus):
    assert _resolve_device(False) is backend.CPU and _resolve_device("cpu") is backend.CPU
    assert _resolve_device(True) == _resolve_device("auto") == _resolve_device("cuda") == "cuda:0"
    assert _resolve_device(0) == "cuda:0"  # GPU 0, not "no GPU"
    assert _resolve_device("cuda:1") == _resolve_device(1) == "cuda:1"
    assert _resolve_device(backend.get_device(1)) == "cuda:1"
    with gpus.use_device(1):
        assert _resolve_device("auto") == _resolve_device(True) == "cuda:1"


@pytest.mark.parametrize(
    ("gpu", "match"),
    [
        ("gpu", "Trainer: gpu must be True, False, 'auto', 'cpu', 'cuda', 'cuda:N'"),
        ("yes", "Trainer: gpu must be"),
        (-1, "Trainer: gpu must be"),
        (1.0, "Trainer: gpu must be"),
        (None, "Trainer: gpu must be"),
        ("cuda:2", r"Trainer\(gpu='cuda:2'\): device 2 does not exist; 2 GPU device"),
    ],
)
def test_bad_gpu_values_are_refused_with_the_accepted_ones(gpus, gpu, match):
    with pytest.raises(ValueError, match=match):
        _resolve_device(gpu)


def test_readme_spelling_without_a_gpu_trains_on_the_cpu_without_a_warning(tmp_path):
    with isolated_backends(), warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = _trainer("auto", tmp_path)
        assert trainer.device == "cpu"
        trainer.fit(1)
        with pytest.raises(backend.GPUUnavailableError, match="dezero-cuda"):
            _resolve_device("cuda:0")


@pytest.mark.parametrize(
    ("arg", "value"),
    [("auto", "auto"), ("true", True), ("FALSE", False), ("cpu", "cpu"), ("cuda", "cuda"),
     ("cuda:1", "cuda:1"), ("1", 1), ("0", 0)],
)
def test_gpu_flag_takes_the_device_vocabulary(arg, value):
    assert _gpu_arg(arg) == value and type(_gpu_arg(arg)) is type(value)


@pytest.mark.parametrize("arg", ["maybe", "gpu", "cuda:", "-1", "cuda:x"])
def test_gpu_flag_refuses_other_words(arg):
    with pytest.raises(argparse.ArgumentTypeError, match="--gpu takes auto, true, false, cpu"):
        _gpu_arg(arg)
