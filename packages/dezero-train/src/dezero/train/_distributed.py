"""Data-parallel training for the Trainer (``Trainer(..., comm=comm)``), over dezero.dist.

Kept apart from trainer.py: the Trainer calls in here at a few points (seeding, epoch
start, metric reduction, evaluation, outputs, checkpoints) when it has a communicator.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero.core import backend, no_grad, test_mode
from dezero.core import random as _random
from dezero.core.files import atomic_write_text

if TYPE_CHECKING:
    from dezero.train.trainer import Trainer

__all__ = ["Distributed", "abort_peers", "register"]

RANK_FORMAT = "dezero-train rank state 1"

_active: list[Any] = []  # the communicator of the running distributed Trainer, if any


def register(comm: Any) -> None:
    """Remember ``comm`` so that :func:`abort_peers` can end the job after an error."""
    if not _active or _active[-1] is not comm:
        _active.append(comm)


def abort_peers(code: int = 1) -> None:
    """End every rank of a distributed run (after an error handled on this rank only)."""
    if _active and _active[-1].size > 1:
        _active[-1].abort(code)


def _rank_file(path: Path, rank: int, iteration: int) -> Path:
    return path.with_name(f"{path.name}.rank{rank}.it{iteration}.json")


class Distributed:
    """What changes when a Trainer trains data-parallel over ``comm``.

    - The optimizer is wrapped by :func:`dezero.dist.create_multi_node_optimizer`
      (unless it already is): rank 0's starting point everywhere, averaged gradients.
    - ``seed(n)``: the framework's generator (dropout, augmentation) gets ``n + rank``;
      the loaders get what a single process gives them. The order of a scattered
      training set is drawn from the seed given to ``scatter_dataset`` plus the epoch.
    - Only rank 0 shows progress, writes the history files, plots and weights.
    - Epoch metrics are reduced as (sum, count) over the ranks; evaluation of a
      scattered test set leaves out its padding.
    """

    def __init__(self, trainer: Trainer, comm: Any) -> None:
        from dezero.dist import MultiNodeOptimizer, create_multi_node_optimizer

        self.comm = comm
        self.rank, self.size = int(comm.rank), int(comm.size)
        if not isinstance(trainer.optimizer, MultiNodeOptimizer):
            trainer.optimizer = create_multi_node_optimizer(trainer.optimizer, comm)
        register(comm)

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def seed(self, trainer: Trainer, n: int) -> None:
        _random.seed(n + self.rank)
        for i, loader in enumerate((trainer.train_loader, trainer.test_loader)):
            fn = getattr(loader, "seed", None)
            if callable(fn):
                fn(n + i)

    def begin_epoch(self, trainer: Trainer) -> None:
        """The global order of this epoch for a scattered (shuffled) training set."""
        dataset = getattr(trainer.train_loader, "dataset", None)
        fn = getattr(dataset, "set_epoch", None)
        if callable(fn):
            fn(trainer.epoch)

    def reduce_means(self, sums: dict[str, Any], seen: int,
                     narrow: dict[str, bool]) -> dict[str, float]:
        """Means over every rank's samples: sums and counts reduced, then divided."""
        from dezero.train.trainer import _mean

        names = list(sums)
        vec = np.array([float(backend.to_cpu(sums[k])) for k in names] + [float(seen)],
                       np.float64)
        total = self.comm.allreduce(vec)
        count = float(total[-1])
        return {k: _mean(total[i], count, narrow.get(k, False))  # type: ignore[arg-type]
                for i, k in enumerate(names)}

    def evaluate(self, trainer: Trainer, loader: Any) -> dict[str, float] | None:
        """Exact evaluation of a scattered test set; None when ``loader`` is not one."""
        from dezero.train.trainer import _is_narrow, _weighted

        dataset = getattr(loader, "dataset", None)
        padding = getattr(dataset, "padding", None)
        if padding is None:
            return None  # every rank holds the whole test set: each result is already exact
        bs = int(getattr(loader, "batch_size", 100))
        positions = np.flatnonzero(~np.asarray(padding))
        sums: dict[str, Any] = {"loss": 0.0, **dict.fromkeys(trainer.metrics, 0.0)}
        narrow: dict[str, bool] = {}
        seen = 0
        on_gpu = getattr(loader, "device", "cpu") == "gpu"
        with no_grad(), test_mode():
            for s in range(0, len(positions), bs):
                x, t = dataset[positions[s : s + bs]]
                if on_gpu:
                    x, t = backend.to_gpu(x), backend.to_gpu(t)
                y = trainer.model(x)
                n = len(t)
                loss = trainer.loss_func(y, t)
                sums["loss"] = sums["loss"] + _weighted(loss, n)
                narrow["loss"] = _is_narrow(loss)
                for name, fn in trainer.metrics.items():
                    value = fn(y, t)
                    sums[name] = sums[name] + _weighted(value, n)
                    narrow[name] = _is_narrow(value)
                seen += n
        # Ranks whose shard is empty know nothing of the dtypes: take rank 0's.
        narrow = self.comm.bcast_obj(narrow, root=0)
        if self.comm.allreduce_obj(seen) == 0:
            raise ValueError("Trainer.evaluate: the scattered test set is empty on every rank")
        return self.reduce_means(sums, seen, narrow)

    # ---- checkpoints -----------------------------------------------------------------
    def save_checkpoint(self, trainer: Trainer, path: str | os.PathLike[str]) -> Path:
        """Rank 0 writes the shared state; each rank its generators, loaders and sums.

        Every rank's file is named after the iteration, and older ones are removed only
        after the new shared checkpoint is complete, so a job killed at any moment
        leaves a consistent set behind.
        """
        from dezero.train.checkpoint import save_checkpoint

        path = Path(path)
        self.comm.barrier()
        loaders = {
            name: loader.state_dict() if callable(getattr(loader, "state_dict", None)) else None
            for name, loader in (("train", trainer.train_loader), ("test", trainer.test_loader))
        }
        state = {
            "format": RANK_FORMAT,
            "rank": self.rank,
            "world_size": self.size,
            "iteration": trainer.iteration,
            "loop": trainer._loop_state(),
            "loaders": loaders,
            "random": _random.get_state(),
        }
        mine = _rank_file(path, self.rank, trainer.iteration)
        atomic_write_text(mine, json.dumps(state))
        self.comm.barrier()
        if self.is_root:
            save_checkpoint(trainer, path)
        self.comm.barrier()
        pattern = re.compile(re.escape(path.name) + rf"\.rank{self.rank}\.it(\d+)\.json$")
        for old in path.parent.glob(f"{path.name}.rank{self.rank}.it*.json"):
            if old != mine and pattern.match(old.name):
                old.unlink(missing_ok=True)
        return path

    def load_checkpoint(self, trainer: Trainer, path: str | os.PathLike[str]) -> None:
        """Every rank reads the shared checkpoint, then its own file; refuses another size."""
        from dezero.train.checkpoint import CheckpointError, load_checkpoint, read_checkpoint

        path = Path(path)
        _, meta = read_checkpoint(path)
        iteration = int(meta.get("iteration", -1))
        mine = _rank_file(path, self.rank, iteration)
        ranks_found = sorted({int(m.group(1)) for p in path.parent.glob(f"{path.name}.rank*.it"
                                                                   f"{iteration}.json")
                        if (m := re.search(r"\.rank(\d+)\.it", p.name))})
        written_by = len(ranks_found)
        problem = None
        if not mine.is_file():
            problem = (f"it has no state for rank {self.rank} (written by {written_by} "
                       f"rank(s), this run has {self.size})")
        else:
            state = json.loads(mine.read_text())
            if state.get("format") != RANK_FORMAT:
                problem = f"{mine.name} has format {state.get('format')!r}"
            elif int(state["world_size"]) != self.size:
                problem = (f"it was written by {state['world_size']} ranks, this run has "
                           f"{self.size}: resume with the same world size")
        # Every rank must agree, or some would load and wait while others raise.
        problems = self.comm.allgather_obj(problem)
        bad = [(r, p) for r, p in enumerate(problems) if p]
        if bad:
            r, p = bad[0]
            raise CheckpointError(
                f"load_checkpoint: cannot resume from {str(path)!r} on rank {r}: {p}; "
                f"nothing was changed"
            )
        load_checkpoint(trainer, path)
        for name, loader in (("train", trainer.train_loader), ("test", trainer.test_loader)):
            if state["loaders"].get(name) is not None and loader is not None:
                loader.load_state_dict(state["loaders"][name])
        _random.set_state(state["random"])
        trainer._load_loop_state(state["loop"])
