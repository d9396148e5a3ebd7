"""Data-parallel training for the Trainer (``Trainer(..., comm=comm)``), over dezero.dist.

Kept apart from trainer.py: the Trainer calls in here at a few points (seeding, epoch
start, agreed stops, metric reduction, evaluation, outputs, checkpoints) when it has a
communicator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero.core import backend
from dezero.core import random as _random
from dezero.data import DataLoader
from dezero.train.callbacks import Callback
from dezero.train.summary import Summary

if TYPE_CHECKING:
    from dezero.train.trainer import Trainer

__all__ = ["Distributed", "abort_peers", "register"]

#: The parts of ``Trainer.state_dict()`` that differ between ranks: each rank saves its own.
PER_RANK = ("loaders", "transforms", "random")
#: ... and, of its ``loop`` entry, the partial epoch's local sums and time.
PER_RANK_LOOP = ("summary", "time")

_active: list[Any] = []  # the communicator of the running distributed Trainer, if any


def register(comm: Any) -> None:
    """Remember ``comm`` so that `abort_peers` can end the job after an error."""
    if not _active or _active[-1] is not comm:
        _active.append(comm)


def abort_peers(code: int = 1) -> None:
    """End every rank of a distributed run (after an error handled on this rank only)."""
    if _active and _active[-1].size > 1:
        _active[-1].abort(code)


#: The events inside the loop after which a callback's stop may need agreeing.
_STOP_HOOKS = ("on_epoch_begin", "on_loss", "on_batch_end")


def _rank_file(path: Path, rank: int, iteration: int) -> Path:
    return path.with_name(f"{path.name}.rank{rank}.it{iteration}.npz")


class Distributed:
    """What changes when a Trainer trains data-parallel over ``comm``.

    - The optimizer is wrapped by
      [`dezero.dist.create_multi_node_optimizer`][dezero.dist.create_multi_node_optimizer] (unless
      it already is): rank 0's starting point everywhere, averaged gradients.
    - ``trainer.settings["world_size"]``: a resume under another world size is refused.
    - ``seed(n)``: the framework's generator (dropout) gets ``n + rank``, each random
      transform a generator from ``(n, rank, ...)``; the loaders get what a single
      process gives them. The order of a scattered
      training set is drawn from the seed given to ``scatter_dataset`` plus the epoch.
    - Only rank 0 shows progress, writes the history files, plots and weights.
    - Metrics are reduced as (sum, count) pairs over the ranks (``Trainer._reduced``);
      evaluation of a scattered test set leaves out its padding.
    - A stop asked on any rank stops every rank at the same point (`agree_stop`).
    """

    def __init__(self, trainer: Trainer, comm: Any) -> None:
        from dezero.dist import MultiNodeOptimizer, create_multi_node_optimizer

        self.comm = comm
        self.rank, self.size = int(comm.rank), int(comm.size)
        if not isinstance(trainer.optimizer, MultiNodeOptimizer):
            trainer.optimizer = create_multi_node_optimizer(trainer.optimizer, comm)
        trainer.settings["world_size"] = self.size
        #: This rank's ``trainer.stop(reason)`` not agreed yet.
        self.pending_stop: str | None = None
        #: The events after which the ranks agree on stops in this ``fit()``.
        self.stop_points: frozenset[str] = frozenset(("on_epoch_end",))
        register(comm)

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def seed(self, trainer: Trainer, n: int) -> None:
        from dezero.train.state import random_transforms

        _random.seed(n + self.rank)
        for i, loader in enumerate((trainer.train_loader, trainer.test_loader)):
            fn = getattr(loader, "seed", None)
            if callable(fn):
                fn(n + i)
            # Augmentation differs per rank: each random transform's generator from
            # (seed, rank, loader, transform), even where every rank built it alike.
            for j, (_, t) in enumerate(random_transforms(loader)):
                reseed = getattr(t, "reseed", None)
                if callable(reseed):
                    reseed([n, self.rank, i, j])
                elif isinstance(getattr(t, "rng", None), np.random.Generator):
                    t.rng = np.random.Generator(np.random.PCG64([n, self.rank, i, j]))

    def begin_epoch(self, trainer: Trainer) -> None:
        """The global order of this epoch for a scattered (shuffled) training set."""
        dataset = getattr(trainer.train_loader, "dataset", None)
        fn = getattr(dataset, "set_epoch", None)
        if callable(fn):
            fn(trainer.epoch)

    # ---- stops: every rank stops at the same point ----------------------------------------
    def request_stop(self, reason: str) -> None:
        """``trainer.stop(reason)`` on this rank: held until the next agreement point."""
        self.pending_stop = str(reason)

    def begin_fit(self, trainer: Trainer) -> None:
        """After ``on_train_begin``: agree where stops are agreed in this ``fit()``.

        The points are the batch and epoch-begin events that some callback, on any rank,
        overrides (a callback might stop there), plus every epoch end. Each is one small
        collective, the same on every rank; an event no callback overrides costs nothing.
        A stop asked in ``on_train_begin`` travels with this exchange.
        """
        hooks = {name for name in _STOP_HOOKS
                 if any(getattr(type(cb), name) is not getattr(Callback, name)
                        for cb in trainer.callbacks)}
        gathered = self.comm.allgather_obj((sorted(hooks), self.pending_stop))
        self.stop_points = frozenset(
            ["on_epoch_end", *(name for names, _ in gathered for name in names)])
        self._apply(trainer, [reason for _, reason in gathered])

    def agree_stop(self, trainer: Trainer, point: str) -> None:
        """After event ``point``: if any rank asked to stop, every rank stops here.

        One collective (every rank's pending reason) at each of `stop_points`; at
        other events a pending stop waits, so no rank ever leaves the loop alone. All
        ranks end with the same ``stop_reason``, ``"rank <r>: <reason>"`` (the lowest rank
        that asked), and the same counters.
        """
        if point in self.stop_points:
            self._apply(trainer, self.comm.allgather_obj(self.pending_stop))

    def _apply(self, trainer: Trainer, reasons: list[str | None]) -> None:
        for r, reason in enumerate(reasons):
            if reason is not None:
                self.pending_stop = None
                trainer._set_stop(f"rank {r}: {reason}")
                return

    def reduced(self, summary: Summary) -> Summary:
        """Every rank's (sum, count) pairs added in rank order: the same result on every rank."""
        total = Summary()
        for state in self.comm.allgather_obj(summary.state_dict()):
            part = Summary()
            part.load_state_dict(state)
            total.merge(part)
        return total

    def eval_batches(self, loader: Iterable[Any]) -> Iterable[Any]:
        """The batches of ``loader``; of a scattered test set, without its padding."""
        dataset = getattr(loader, "dataset", None)
        padding = getattr(dataset, "padding", None)
        if padding is None:
            return loader  # every rank holds the whole test set, or an unpadded shard
        return self._unpadded(loader, dataset, np.asarray(padding))

    @staticmethod
    def _unpadded(loader: Any, dataset: Any, padding: np.ndarray) -> Iterator[Any]:
        bs = int(getattr(loader, "batch_size", 100))
        positions = np.flatnonzero(~padding)
        device = loader.device if isinstance(loader, DataLoader) else backend.CPU
        for s in range(0, len(positions), bs):
            x, t = dataset[positions[s : s + bs]]
            yield backend.to_device(x, device), backend.to_device(t, device)

    # ---- checkpoints -----------------------------------------------------------------
    def save_checkpoint(self, trainer: Trainer, path: str | os.PathLike[str]) -> Path:
        """After a barrier, each rank writes its own state, then rank 0 the shared one.

        A rank's file (``<path>.rank<r>.it<iteration>.npz``) holds the state entries that
        differ between ranks (loaders, random transforms, random state, the partial
        epoch's sums); the shared file is rank 0's whole ``state_dict()``. All are written
        atomically; each rank removes its older files only after the new shared file is
        complete, so a job killed at any moment leaves a consistent set behind.
        """
        from dezero.train.checkpoint import write_state

        path = Path(path)
        self.comm.barrier()
        state = trainer.state_dict()
        own = {k: state[k] for k in PER_RANK}
        own["loop"] = {k: state["loop"][k] for k in PER_RANK_LOOP}
        own.update(rank=self.rank, world_size=self.size, iteration=trainer.iteration)
        mine = _rank_file(path, self.rank, trainer.iteration)
        write_state(mine, own)
        self.comm.barrier()
        if self.is_root:
            write_state(path, state)
        self.comm.barrier()
        pattern = re.compile(re.escape(path.name) + rf"\.rank{self.rank}\.it(\d+)\.npz$")
        for old in path.parent.glob(f"{path.name}.rank{self.rank}.it*.npz"):
            if old != mine and pattern.match(old.name):
                old.unlink(missing_ok=True)
        return path

    def _checked_state(self, trainer: Trainer, path: Path) -> Any:
        """The shared state with this rank's own entries, checked; its apply step."""
        from dezero.train.checkpoint import CheckpointError, read_state
        from dezero.train.state import check_settings

        state = read_state(path)
        if not isinstance(state, dict) or not isinstance(state.get("loop"), dict):
            raise CheckpointError(f"{str(path)!r} holds no trainer state")
        check_settings(trainer.settings, state.get("settings", {}))  # the world size first
        mine = _rank_file(path, self.rank, int(state["loop"].get("iteration", -1)))
        if not mine.is_file():
            raise CheckpointError(f"it has no state for rank {self.rank} ({mine.name} is missing)")
        own = read_state(mine)
        if not isinstance(own, dict) or (own.get("rank"), own.get("world_size")) != (
            self.rank, self.size
        ):
            raise CheckpointError(f"{mine.name} is not rank {self.rank}'s of {self.size}")
        merged = {**state, **{k: own.get(k) for k in PER_RANK}}
        merged["loop"] = {**state["loop"], **{k: own["loop"].get(k) for k in PER_RANK_LOOP}}
        return trainer._checked_state(merged)

    def load_checkpoint(self, trainer: Trainer, path: str | os.PathLike[str]) -> None:
        """Every rank checks the shared file and its own; all apply, or all refuse."""
        from dezero.train.checkpoint import CheckpointError

        path = Path(path)
        apply, problem = None, None
        try:
            apply = self._checked_state(trainer, path)
        except (ValueError, OSError, KeyError, TypeError, AttributeError) as e:
            problem = str(e)  # CheckpointError and StateError are ValueErrors
        # Every rank must agree, or some would apply and wait while others raise.
        problems = self.comm.allgather_obj(problem)
        bad = [(r, p) for r, p in enumerate(problems) if p]
        if bad:
            r, p = bad[0]
            raise CheckpointError(
                f"load_checkpoint: cannot resume from {str(path)!r} (rank {r} of {self.size}): "
                f"{p}; nothing was changed"
            )
        assert apply is not None
        apply()
