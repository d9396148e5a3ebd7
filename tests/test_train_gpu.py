"""The Trainer on the GPU: same history as on the CPU, checkpoints hold host arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import backend
from dezero.data import ArrayDataset, DataLoader
from dezero.nn.models import MLP
from dezero.nn.optimizers import MomentumSGD
from dezero.train import Checkpoint, Trainer
from dezero.train.checkpoint import read_checkpoint


def _run(gpu, out, epochs=2, resume=None, model_cls=MLP, callbacks=None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20)).astype(np.float32)
    t = (x[:, :3].sum(axis=1) > 0).astype(np.int64)
    model = model_cls((32, 2))
    tr = Trainer(model, F.softmax_cross_entropy, MomentumSGD(lr=0.1).setup(model),
                 DataLoader(ArrayDataset(x[:160], t[:160]), 20, seed=1),
                 DataLoader(ArrayDataset(x[160:], t[160:]), 20, shuffle=False),
                 gpu=gpu, out=out, seed=0, progress=False,
                 callbacks=[Checkpoint(every_n_iters=5)] if callbacks is None else callbacks)
    tr.fit(epochs, resume=resume)
    return tr


@pytest.mark.gpu
def test_gpu_training_matches_cpu_and_resumes_across_devices(tmp_path):
    gpu = _run(True, tmp_path / "gpu")
    assert gpu.device == "cuda:0"
    assert backend.backend_of(gpu.model.l0.W.data).is_gpu
    cpu = _run(False, tmp_path / "cpu")
    for g, c in zip(gpu.history, cpu.history):
        for k in ("loss", "acc", "test_loss", "test_acc"):
            assert math.isclose(g[k], c[k], rel_tol=1e-4, abs_tol=1e-5), (k, g, c)
    arrays, _ = read_checkpoint(tmp_path / "gpu" / "checkpoint.npz")
    assert all(type(a) is np.ndarray for a in arrays.values())
    # A GPU checkpoint resumes on the CPU.
    more = _run(False, tmp_path / "gpu", epochs=3, resume=True)
    assert len(more.history) == 3


class _DropoutMLP(MLP):
    """An MLP with dropout after its hidden layer: the masks are drawn on the GPU."""

    def forward(self, x):
        return self.l1(F.dropout(F.relu(self.l0(x)), 0.3))


class _StopAfter(Checkpoint):
    """Save a checkpoint at update ``n`` (mid-epoch), then stop the run there."""

    def __init__(self, n):
        super().__init__(every_n_iters=n)
        self.n = n

    def on_batch_end(self, trainer, batch, logs):
        super().on_batch_end(trainer, batch, logs)
        if trainer.iteration == self.n:
            trainer.stop("interrupted for the test")


@pytest.mark.gpu
def test_resume_with_gpu_dropout_is_bit_exact(tmp_path):
    # GPU dropout masks come from the framework's generator on the device; a checkpoint
    # saves its state, so a run stopped mid-epoch and resumed draws the same masks.
    full = _run(True, tmp_path / "full", 3, model_cls=_DropoutMLP, callbacks=[])
    _run(True, tmp_path / "cut", 3, model_cls=_DropoutMLP, callbacks=[_StopAfter(13)])
    resumed = _run(True, tmp_path / "cut", 3, resume=True, model_cls=_DropoutMLP, callbacks=[])
    for name, p in full.model.named_params():
        q = dict(resumed.model.named_params())[name]
        assert np.array_equal(backend.to_cpu(p.data), backend.to_cpu(q.data)), name
    assert [r["loss"] for r in full.history] == [r["loss"] for r in resumed.history]
