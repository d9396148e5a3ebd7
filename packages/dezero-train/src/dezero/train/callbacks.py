"""Callbacks: code run on the Trainer's events (logging, checkpoints, early stop, schedules)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dezero.core.files import remove_stale_temporaries

if TYPE_CHECKING:
    from dezero.train.trainer import Trainer

__all__ = [
    "Callback",
    "CSVLogger",
    "JSONLogger",
    "Checkpoint",
    "EarlyStopping",
    "LRScheduler",
    "TerminateOnNaN",
]


class Callback:
    """Base class: override the events you need.

    Events, in the order the Trainer calls them: ``on_train_begin``,
    then per epoch ``on_epoch_begin``, per batch ``on_loss`` (the loss is computed,
    nothing updated yet: a ``trainer.stop()`` there skips the update) and
    ``on_batch_end`` after the update,
    ``on_epoch_end`` after evaluation and the history record; finally ``on_train_end``.
    Callbacks run sorted by `order` (stable), so a [`Checkpoint`][dezero.train.Checkpoint]
    (order 100) saves the state the others left.

    A callback with state that must survive a resume returns it from
    [`state_dict`][dezero.train.Callback.state_dict] (JSON-able values, or NumPy arrays, possibly in
    nested dicts), validates a saved one in
    [`check_state_dict`][dezero.train.Callback.check_state_dict] (raise, change nothing) and takes
    it back in [`load_state_dict`][dezero.train.Callback.load_state_dict], which then cannot fail.
    """

    order: int = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch (also when resuming)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last epoch, or after a stop."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Before the first batch of ``epoch`` (1-based); not repeated on a mid-epoch resume."""

    def on_loss(self, trainer: Trainer, batch: int, logs: Mapping[str, Any]) -> None:
        """Batch ``batch``'s loss is known, before ``backward()`` and the update.

        ``logs["loss"]`` is the loss Variable; calling ``trainer.stop(reason)`` here skips
        this batch's update.
        """

    def on_batch_end(self, trainer: Trainer, batch: int, logs: Mapping[str, Any]) -> None:
        """After update number ``batch`` (1-based within the epoch).

        ``logs["loss"]`` is the batch's loss Variable: reading its value waits for the device.
        """

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        """After ``epoch`` is recorded; ``logs`` is its history record."""

    def state_dict(self) -> dict[str, Any]:
        """This callback's state for a checkpoint; the base class has none (``{}``)."""
        return {}

    def check_state_dict(self, state: Mapping[str, Any]) -> None:
        """Raise ``ValueError``/``TypeError`` if ``state`` cannot be loaded; change nothing."""

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what [`state_dict`][dezero.train.Callback.state_dict] returned (after
        [`check_state_dict`][dezero.train.Callback.check_state_dict])."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class CSVLogger(Callback):
    """Rewrite ``<out>/<filename>`` from the history after every epoch (atomically)."""

    def __init__(self, filename: str | os.PathLike[str] = "history.csv") -> None:
        self.filename = filename

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        trainer.history.to_csv(trainer.out / self.filename)


class JSONLogger(Callback):
    """Rewrite ``<out>/<filename>`` from the history after every epoch (atomically)."""

    def __init__(self, filename: str | os.PathLike[str] = "history.json") -> None:
        self.filename = filename

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        trainer.history.to_json(trainer.out / self.filename)


class Checkpoint(Callback):
    """Save a resumable checkpoint to ``<out>/<filename>``.

    Args:
        filename: one file, replaced atomically each time (the previous one stays valid
            until the new one is complete).
        every_n_iters: also save every this many updates (mid-epoch included).
        every_epoch: save at every epoch end.
    """

    order = 100

    def __init__(
        self,
        filename: str | os.PathLike[str] = "checkpoint.npz",
        every_n_iters: int | None = None,
        every_epoch: bool = True,
    ) -> None:
        if every_n_iters is not None and (not isinstance(every_n_iters, int) or every_n_iters < 1):
            raise ValueError(
                f"Checkpoint: every_n_iters must be a positive int or None, got {every_n_iters!r}"
            )
        self.filename = filename
        self.every_n_iters = every_n_iters
        self.every_epoch = every_epoch

    def on_train_begin(self, trainer: Trainer) -> None:
        # A process killed while writing (SIGKILL, power loss) leaves its temporary file.
        remove_stale_temporaries(trainer.out / self.filename)

    def on_batch_end(self, trainer: Trainer, batch: int, logs: Mapping[str, Any]) -> None:
        n = self.every_n_iters
        if n is not None and trainer.iteration % n == 0 and not trainer.stop_training:
            trainer.save_checkpoint(trainer.out / self.filename)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.every_epoch:
            trainer.save_checkpoint(trainer.out / self.filename)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: a history column (``"test_loss"``, ``"test_acc"``, ``"loss"``...).
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for names containing ``acc``).
        min_delta: smallest change that counts as an improvement.
        restore_best: at the end of training, put back the weights of the best epoch.
    """

    def __init__(
        self,
        monitor: str = "test_loss",
        patience: int = 3,
        mode: str = "auto",
        min_delta: float = 0.0,
        restore_best: bool = False,
    ) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive int, got {patience!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, Any] | None = None

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping: monitor {self.monitor!r} is not in the epoch record; "
                f"available: {sorted(logs)}"
            )
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop(
                f"EarlyStopping: {self.monitor} has not improved for {self.wait} epochs "
                f"(best {self.best:.4f} at epoch {self.best_epoch}); stopping after epoch {epoch}"
            )

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best": self.best, "best_epoch": self.best_epoch,
            "wait": self.wait, "stopped_epoch": self.stopped_epoch,
        }
        if self.best_weights is not None:
            state["best_weights"] = dict(self.best_weights)
        return state

    def check_state_dict(self, state: Mapping[str, Any]) -> None:
        for k in ("best_epoch", "wait", "stopped_epoch"):
            if not _is_int(state.get(k)):
                raise ValueError(f"EarlyStopping: {k} must be an int >= 0, got {state.get(k)!r}")
        if state.get("best") is not None and not _is_number(state["best"]):
            raise ValueError(f"EarlyStopping: best must be a number, got {state['best']!r}")
        weights = state.get("best_weights")
        if weights is not None and not isinstance(weights, Mapping):
            raise ValueError("EarlyStopping: best_weights must be a dict of arrays")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best = state["best"]
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_weights = dict(state["best_weights"]) if "best_weights" in state else None


class LRScheduler(Callback):
    """Step a ``dezero.nn.optimizers`` schedule (StepLR, ExponentialLR, CosineLR...) per epoch.

    The schedule drives the optimizer attribute named by ``optimizer.lr_name``; the
    Trainer records that value per epoch (column ``lr``). The current learning rate
    and the schedule's own state are saved in checkpoints.
    """

    def __init__(self, schedule: Any) -> None:
        if not callable(getattr(schedule, "step", None)):
            raise TypeError(
                f"LRScheduler: schedule must have a step() method, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self._trainer: Trainer | None = None
        self._pending_lr: float | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self._trainer = trainer
        if self._pending_lr is not None:  # a checkpoint loaded before the trainer was known
            setattr(trainer.optimizer, trainer.optimizer.lr_name, self._pending_lr)
            self._pending_lr = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        self.schedule.step()

    def _optimizer(self) -> Any:
        opt = getattr(self.schedule, "optimizer", None)
        if opt is None and self._trainer is not None:
            opt = self._trainer.optimizer
        return opt

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if callable(getattr(self.schedule, "state_dict", None)):
            state["schedule"] = self.schedule.state_dict()
        opt = self._optimizer()
        name = getattr(opt, "lr_name", None)
        if name is not None:
            state["lr"] = float(getattr(opt, name))
        return state

    def check_state_dict(self, state: Mapping[str, Any]) -> None:
        lr = state.get("lr")
        if lr is not None and (not _is_number(lr) or not math.isfinite(lr) or lr < 0):
            raise ValueError(f"LRScheduler: lr must be a finite number >= 0, got {lr!r}")
        if "schedule" in state and not isinstance(state["schedule"], Mapping):
            raise ValueError("LRScheduler: schedule state must be a dict")
        check = getattr(self.schedule, "check_state_dict", None)
        if "schedule" in state and callable(check):
            check(state["schedule"])

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "schedule" in state and callable(getattr(self.schedule, "load_state_dict", None)):
            self.schedule.load_state_dict(state["schedule"])
        opt = self._optimizer()
        name = getattr(opt, "lr_name", None)
        if "lr" in state and name is not None:
            setattr(opt, name, state["lr"])
        elif "lr" in state:
            self._pending_lr = float(state["lr"])


class TerminateOnNaN(Callback):
    """Stop as soon as a batch's loss is NaN or infinite, before that batch's update.

    The weights stay those of the last finite step, so a checkpoint or the saved weights
    are usable. Reads the loss on the host every batch (a device synchronisation on the GPU).
    `stopped` tells whether it stopped the run.
    """

    def __init__(self) -> None:
        self.stopped = False

    def on_loss(self, trainer: Trainer, batch: int, logs: Mapping[str, Any]) -> None:
        loss = logs["loss"]
        data = getattr(loss, "data", loss)
        value = float(data.reshape(())) if hasattr(data, "reshape") else float(data)
        if not math.isfinite(value):
            self.stopped = True
            trainer.stop(
                f"TerminateOnNaN: the loss became {value} at epoch {trainer.epoch + 1}, "
                f"batch {batch} (iteration {trainer.iteration + 1}); that update was not "
                f"applied and training stopped. Try a smaller learning rate, or check the "
                f"inputs for NaN/Inf."
            )
