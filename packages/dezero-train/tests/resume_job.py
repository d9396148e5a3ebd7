"""A training job for the resume tests, run in its own process; it can SIGKILL itself.

    python resume_job.py OUT [--kill-at N] [--kill-in-write K] [--resume]

Trains a small dropout MLP with Adam, a StepLR schedule and a shuffled DataLoader,
checkpointing every 4 iterations and at each epoch end. ``--kill-at N`` kills the
process right after update N (after that iteration's checkpoint, if any);
``--kill-in-write K`` kills it in the middle of writing the K-th checkpoint, after
the temporary file is written but before it replaces the previous checkpoint.
At the end the weights go to OUT/final.npz and the history to OUT/final.json.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import numpy as np

import dezero.nn.functions as F
import dezero.nn.layers as L
from dezero.core import files as _files
from dezero.data import ArrayDataset, DataLoader
from dezero.nn import Model
from dezero.nn.optimizers import Adam, StepLR
from dezero.train import Callback, Checkpoint, LRScheduler, Trainer

EPOCHS = 3
EVERY = 4


class Net(Model):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = L.Linear(16)
        self.l2 = L.Linear(3)

    def forward(self, x):
        # Dropout draws from the framework's generator: its state must be restored too.
        return self.l2(F.dropout(F.sigmoid(self.l1(x)), 0.3))


class KillAt(Callback):
    order = 200  # after the Checkpoint (order 100) of the same iteration

    def __init__(self, at: int | None) -> None:
        self.at = at

    def on_batch_end(self, trainer, batch, logs):
        if trainer.iteration == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--kill-at", type=int, default=None)
    ap.add_argument("--kill-in-write", type=int, default=None)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)

    if args.kill_in_write is not None:
        writes = {"n": 0}
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            real_fsync(fd)
            if os.fstat(fd).st_size > 0 and not os.path.isdir(f"/proc/self/fd/{fd}"):
                writes["n"] += 1
                if writes["n"] == args.kill_in_write:
                    os.kill(os.getpid(), signal.SIGKILL)

        _files.os.fsync = fsync  # type: ignore[attr-defined]

    rng = np.random.default_rng(123)
    x = rng.normal(size=(150, 4)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    train = DataLoader(ArrayDataset(x[:130], t[:130]), batch_size=13, shuffle=True, seed=7)
    test = DataLoader(ArrayDataset(x[130:], t[130:]), batch_size=10, shuffle=True, seed=8)
    model = Net()
    opt = Adam(alpha=0.01).setup(model)
    trainer = Trainer(
        model, F.softmax_cross_entropy, opt, train, test, gpu=False, out=out, seed=0,
        progress=False,
        callbacks=[
            LRScheduler(StepLR(opt, step_size=1, gamma=0.5)),
            Checkpoint(every_n_iters=EVERY),
            KillAt(args.kill_at),
        ],
    )
    resume = args.resume and (out / "checkpoint.npz").exists()
    history = trainer.fit(EPOCHS, resume=resume)
    model.save_weights(out / "final.npz")
    history.to_json(out / "final.json")


if __name__ == "__main__":
    main()
