"""A data-parallel Trainer job for test_dist_train.py, run under mpiexec; it can SIGKILL itself.

    python dist_train_job.py OUT [--kill-at N] [--resume] [--equiv] [--out-per-rank]
                                 [--nan-at N] [--stop-in EVENT --stop-at N]
                                 [--checkpoint-every N] [--raise-at N]

Default: a dropout MLP with Adam and a StepLR schedule on a shuffled, scattered dataset,
checkpointing every 3 iterations and at each epoch end; ``--kill-at N`` kills rank 0
right after update N. ``--equiv``: float64, no dropout, SGD, unshuffled shards, so a test
can rebuild the same steps in one process. ``--nan-at N``: rank 1's loss is NaN at
update N, with TerminateOnNaN. ``--stop-in EVENT --stop-at N``: rank 1 alone calls
``trainer.stop`` in event EVENT of a callback that only it has (``on_batch_end`` after
update N, ``on_epoch_begin`` or ``on_epoch_end`` of epoch N), or, for EVENT ``signal``,
from a SIGUSR1 handler that its loss function triggers while computing update N; the
ranks then save a checkpoint. ``--checkpoint-every N``: with ``--equiv``, a Checkpoint
every N updates. ``--raise-at N``: rank 1's loss function raises at update N. Each rank
writes OUT/final.rank<r>.npz (weights), OUT/history.rank<r>.json and OUT/stop.rank<r>.json
(iteration, stop reason) at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import numpy as np

import dezero.nn.functions as F
import dezero.nn.layers as L
from dezero.data import ArrayDataset, DataLoader
from dezero.data.transforms import RandomHorizontalFlip
from dezero.dist import create_communicator, scatter_dataset
from dezero.nn import Model
from dezero.nn.optimizers import SGD, Adam, StepLR
from dezero.train import Callback, Checkpoint, CSVLogger, LRScheduler, TerminateOnNaN, Trainer

EPOCHS = 3


class Net(Model):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.dropout = dropout
        self.l1 = L.Linear(16, dtype=np.float64)
        self.l2 = L.Linear(3, dtype=np.float64)

    def forward(self, x):
        h = F.tanh(self.l1(x))
        if self.dropout:
            h = F.dropout(h, self.dropout)  # per rank: the framework's seed is seed + rank
        return self.l2(h)


class KillAt(Callback):
    order = 200  # after the Checkpoint (order 100) of the same iteration

    def __init__(self, at: int | None, rank: int) -> None:
        self.at, self.rank = at, rank

    def on_batch_end(self, trainer, batch, logs):
        if trainer.iteration == self.at and self.rank == 0:
            os.kill(os.getpid(), signal.SIGKILL)


def stopper(event: str, at: int, rank: int) -> Callback:
    """A callback overriding only ``event``, where rank 1 alone stops (a local condition)."""

    def hook(self, trainer, number, *logs):
        n = trainer.iteration if event == "on_batch_end" else number  # else: the epoch
        if rank == 1 and n == at:
            trainer.stop(f"{event} {at} on rank 1 alone")

    return type("StopOnRank1", (Callback,), {event: hook})()


def data(n: int, seed: int, transform=None) -> ArrayDataset:
    g = np.random.default_rng(seed)
    return ArrayDataset(g.standard_normal((n, 5)), g.integers(0, 3, n), transform=transform)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--kill-at", type=int, default=None)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--equiv", action="store_true")
    ap.add_argument("--out-per-rank", action="store_true")
    ap.add_argument("--nan-at", type=int, default=None)
    ap.add_argument("--stop-in", default=None)
    ap.add_argument("--stop-at", type=int, default=None)
    ap.add_argument("--checkpoint-every", type=int, default=None)
    ap.add_argument("--raise-at", type=int, default=None)
    args = ap.parse_args()
    comm = create_communicator("mpi")
    out = Path(args.out)
    trainer_out = out / f"rank{comm.rank}" if args.out_per_rank else out
    if args.equiv:
        train = scatter_dataset(data(48, 1), comm)
        model, opt, cbs = Net(0.0), SGD(lr=0.3), [CSVLogger("history.csv")]
        if args.checkpoint_every:
            cbs.append(Checkpoint("checkpoint.npz", every_n_iters=args.checkpoint_every))
        if args.stop_in not in (None, "signal") and comm.rank == 1:
            # On rank 1 only: the ranks agree after the events that any rank's callbacks have.
            cbs.append(stopper(args.stop_in, args.stop_at, comm.rank))
    else:
        # The same transform seed on every rank: Trainer(seed=, comm=) makes them differ.
        flip = RandomHorizontalFlip(seed=7)
        train = scatter_dataset(data(50, 1, flip), comm, shuffle=True, seed=5)
        model = Net(0.3)
        opt = Adam(alpha=0.01)
        cbs = [LRScheduler(StepLR(opt, step_size=1, gamma=0.5)),
               Checkpoint("checkpoint.npz", every_n_iters=3), KillAt(args.kill_at, comm.rank)]
    test = scatter_dataset(data(11, 2), comm)
    loss_func = F.softmax_cross_entropy
    if args.nan_at is not None:
        cbs = [TerminateOnNaN()]

        def loss_func(y, t):
            loss = F.softmax_cross_entropy(y, t)
            if comm.rank == 1 and trainer.iteration + 1 == args.nan_at:
                loss = loss * np.nan
            return loss

    if args.stop_in == "signal" or args.raise_at is not None:
        # A stop (or an error) from outside the callbacks, e.g. a scheduler's signal.
        signal.signal(signal.SIGUSR1, lambda *_: trainer.stop("SIGUSR1 on rank 1 alone"))

        def loss_func(y, t):
            if comm.rank == 1 and trainer.iteration + 1 == (args.stop_at or args.raise_at):
                if args.raise_at is not None:
                    raise RuntimeError(f"a bad batch on rank 1 at update {args.raise_at}")
                os.kill(os.getpid(), signal.SIGUSR1)
            return F.softmax_cross_entropy(y, t)

    trainer = Trainer(model, loss_func, opt,
                      DataLoader(train, 4, shuffle=not args.equiv, seed=9),
                      DataLoader(test, 4, shuffle=False),
                      gpu=False, out=trainer_out, seed=3, callbacks=cbs, progress=False,
                      comm=comm)
    history = trainer.fit(EPOCHS, resume=args.resume)
    if args.stop_in is not None:
        trainer.save_checkpoint()  # every rank, at the point where they all stopped
    trainer.plot()
    np.savez(out / f"final.rank{comm.rank}.npz", **model.state_dict())
    records = [{k: v for k, v in r.items() if k != "time"} for r in history]
    (out / f"history.rank{comm.rank}.json").write_text(json.dumps(records))
    flips = getattr(train.base.transform, "rng", None)
    (out / f"stop.rank{comm.rank}.json").write_text(json.dumps({
        "iteration": trainer.iteration, "reason": trainer.stop_reason,
        "flip_state": None if flips is None else flips.bit_generator.state["state"]["state"],
    }))


if __name__ == "__main__":
    main()
