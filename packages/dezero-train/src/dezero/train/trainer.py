"""The Trainer: the mini-batch loop, evaluation and per-epoch records, extended by callbacks."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dezero.core import backend, no_grad, test_mode
from dezero.core import random as _random
from dezero.train.callbacks import Callback, CSVLogger, JSONLogger
from dezero.train.history import History
from dezero.train.progress import Progress, format_epoch_line

__all__ = ["Trainer"]

Metric = Callable[[Any, Any], Any]


def _resolve_device(gpu: bool | str) -> str:
    if gpu is False:
        return "cpu"
    if gpu is True:
        ok, reason = backend.gpu_status()
        if not ok:
            raise backend.GPUUnavailableError(
                f"Trainer: gpu=True but the GPU is not usable: {reason}. "
                f"Pass gpu='auto' (GPU when usable) or gpu=False to train on the CPU."
            )
        return "gpu"
    if gpu == "auto":
        return "gpu" if backend.gpu_status()[0] else "cpu"
    raise ValueError(f"Trainer: gpu must be True, False or 'auto', got {gpu!r}")


def _default_metrics() -> dict[str, Metric]:
    from dezero.nn import functions as F  # the nn package is only needed for the default

    return {"acc": F.accuracy}


def _metrics_dict(metrics: Mapping[str, Metric] | Sequence[Metric] | None) -> dict[str, Metric]:
    if metrics is None:
        return _default_metrics()
    if isinstance(metrics, Mapping):
        out = dict(metrics)
    else:
        out = {getattr(m, "__name__", f"metric{i}"): m for i, m in enumerate(metrics)}
    for name, fn in out.items():
        if not callable(fn):
            raise TypeError(f"Trainer: metric {name!r} is not callable: {fn!r}")
        if name == "loss" or name.startswith("test_"):
            raise ValueError(f"Trainer: metric name {name!r} is reserved")
    return out


def _weighted(value: Any, n: int) -> Any:
    """``value * n`` in float64, left on its device (no host synchronisation)."""
    data = getattr(value, "data", value)
    if hasattr(data, "astype"):
        return data.astype("float64") * n
    return float(data) * n


def _is_narrow(value: Any) -> bool:
    """Whether ``value`` is a float32 (or narrower) array: ~7 significant digits hold."""
    dtype = getattr(getattr(value, "data", value), "dtype", None)
    return dtype is not None and dtype.kind == "f" and dtype.itemsize <= 4


def _mean(total: Any, seen: int, narrow: bool) -> float:
    """The epoch mean as a Python float, shown to the precision its inputs had.

    float32 batch values summed in float64 give means such as 0.8309999942779541 for an
    accuracy of 0.831; keeping 7 significant digits (what float32 carries) records 0.831.
    The sums themselves stay exact (checkpoints hold them), so a resumed run rounds the
    same numbers the same way. float64 values are kept in full.
    """
    v = float(total / seen)
    return float(f"{v:.7g}") if narrow and math.isfinite(v) else v


class Trainer:
    """Runs the training loop DeZero users otherwise write by hand.

    Per mini-batch: forward, loss, ``model.cleargrads()``, ``loss.backward()``,
    ``optimizer.update()``. At each epoch end: evaluation of ``test_loader`` under
    ``no_grad()`` and ``test_mode()``, one record in :attr:`history`, one printed line.

    Args:
        model: a ``dezero.nn`` Layer/Model (``cleargrads``, ``state_dict``, ``to_gpu``).
        loss_func: ``loss_func(y, t)`` returning a scalar Variable (the batch mean).
        optimizer: a ``dezero.nn.optimizers`` optimizer; set up on ``model`` if not yet.
        train_loader: a re-iterable loader of ``(x, t)`` batches.
        test_loader: evaluated at each epoch end when given.
        gpu: ``False`` (CPU), ``True`` (GPU or an error saying why not), ``"auto"``.
        out: folder for plots, logs and checkpoints.
        seed: seeds the framework's generator and the loaders (those with ``seed()``).
        metrics: ``{"acc": F.accuracy}`` by default; a dict name -> ``fn(y, t)``.
        callbacks: :class:`~dezero.train.callbacks.Callback` objects.
        progress: ``True`` (bar on a terminal + epoch lines), ``"bar"``, ``"lines"``, ``False``.
        max_iters_per_epoch: cut each epoch after this many batches (quick runs).
        comm: a ``dezero.dist`` communicator: train data-parallel (needs
            ``dezero-train[dist]``); see the README's "Scaling out".

    Example:
        >>> trainer = Trainer(model, F.softmax_cross_entropy, SGD().setup(model), loader)
        >>> history = trainer.fit(5)
        >>> trainer.plot()
    """

    #: Batches between two refreshes of the bar's running loss (each one reads the device).
    postfix_every: int = 20

    def __init__(
        self,
        model: Any,
        loss_func: Callable[[Any, Any], Any],
        optimizer: Any,
        train_loader: Iterable[Any],
        test_loader: Iterable[Any] | None = None,
        gpu: bool | str = "auto",
        out: str | os.PathLike[str] = "results",
        seed: int | None = None,
        metrics: Mapping[str, Metric] | Sequence[Metric] | None = None,
        callbacks: Sequence[Callback] | None = None,
        progress: bool | str = True,
        max_iters_per_epoch: int | None = None,
        comm: Any = None,
    ) -> None:
        if not callable(loss_func):
            raise TypeError(f"Trainer: loss_func must be callable, got {loss_func!r}")
        if max_iters_per_epoch is not None and (
            not isinstance(max_iters_per_epoch, int) or max_iters_per_epoch < 1
        ):
            raise ValueError(
                f"Trainer: max_iters_per_epoch must be a positive int or None, "
                f"got {max_iters_per_epoch!r}"
            )
        for cb in callbacks or ():
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"Trainer: callbacks must be Callback instances, got {type(cb).__name__}"
                )
        self.device = _resolve_device(gpu)
        self.model = model
        self.loss_func = loss_func
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.test_loader = test_loader
        self.out = Path(out)
        self.metrics = _metrics_dict(metrics)
        # Stable sort: checkpoints (order 100) see the state every other callback left.
        self.callbacks: list[Callback] = sorted(callbacks or (), key=lambda c: c.order)
        self.max_iters_per_epoch = max_iters_per_epoch

        if getattr(optimizer, "target", None) is None and hasattr(optimizer, "setup"):
            optimizer.setup(model)
        self.comm = comm
        self._dist: Any = None
        if comm is not None:
            from dezero.train._distributed import Distributed

            self._dist = Distributed(self, comm)  # wraps the optimizer: rank 0's start
            if not self._dist.is_root:  # only rank 0 shows progress and writes history files
                progress = False
                self.callbacks = [c for c in self.callbacks
                                  if not isinstance(c, (CSVLogger, JSONLogger))]
        self.progress = Progress(progress)
        if seed is not None:
            self.seed(seed)
        if self.device == "gpu":
            model.to_gpu()
            for loader in (train_loader, test_loader):
                if loader is not None and hasattr(loader, "to_gpu"):
                    loader.to_gpu()

        self.history = History()
        self.max_epoch = 0
        self.epoch = 0  # completed epochs
        self.iteration = 0  # parameter updates since the start of training
        self.iteration_in_epoch = 0  # batches done in the current epoch
        self.stop_training = False
        self.stop_reason: str | None = None
        self._reset_partial()

    # ---- set-up ---------------------------------------------------------------------
    def seed(self, n: int) -> None:
        """Seed the framework's generator (initializers, dropout) and the loaders."""
        if self._dist is not None:
            self._dist.seed(self, n)  # the framework's generator gets n + rank
            return
        _random.seed(n)
        for i, loader in enumerate((self.train_loader, self.test_loader)):
            fn = getattr(loader, "seed", None)
            if callable(fn):
                fn(n + i)  # distinct streams for the two loaders

    def _reset_partial(self) -> None:
        self._sums: dict[str, Any] = {"loss": 0.0, **dict.fromkeys(self.metrics, 0.0)}
        self._narrow: dict[str, bool] = {}  # per column: were its batch values float32?
        self._seen = 0
        self._time_before = 0.0  # seconds spent on this epoch before a resume
        self._epoch_start = time.perf_counter()

    def _iters_per_epoch(self) -> int | None:
        try:
            n: int | None = len(self.train_loader)  # type: ignore[arg-type]
        except TypeError:
            n = None
        if self.max_iters_per_epoch is not None:
            n = self.max_iters_per_epoch if n is None else min(n, self.max_iters_per_epoch)
        return n

    @property
    def lr(self) -> float | None:
        """The optimizer's current learning rate (attribute named by ``lr_name``)."""
        name = getattr(self.optimizer, "lr_name", None)
        value = getattr(self.optimizer, name, None) if name else None
        return float(value) if isinstance(value, (int, float)) else None

    # ---- the loop -------------------------------------------------------------------
    def fit(self, max_epoch: int, resume: bool | str | os.PathLike[str] | None = None) -> History:
        """Train until ``max_epoch`` epochs are done (or a callback stops); return the history.

        ``resume=True`` continues from ``<out>/checkpoint.npz``, ``resume=path`` from
        that file: weights, optimizer, epoch and batch position, history, callbacks,
        loaders and random state come back, so the result equals an uninterrupted run.
        """
        if not isinstance(max_epoch, int) or isinstance(max_epoch, bool) or max_epoch < 1:
            raise ValueError(f"Trainer.fit: max_epoch must be a positive int, got {max_epoch!r}")
        if resume:
            self.load_checkpoint(None if resume is True else resume)
        self.max_epoch = max_epoch
        self.stop_training = False
        self.stop_reason = None
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            while self.epoch < max_epoch and not self.stop_training:
                self._run_epoch()
        finally:
            self.progress.close()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _run_epoch(self) -> None:
        epoch = self.epoch + 1  # 1-based, as printed
        if self._dist is not None:
            self._dist.begin_epoch(self)
        if self.iteration_in_epoch == 0:
            for cb in self.callbacks:
                cb.on_epoch_begin(self, epoch)
        total = self._iters_per_epoch()
        limit = self.max_iters_per_epoch
        self.progress.begin_epoch(epoch, self.max_epoch, total, self.iteration_in_epoch)
        self._epoch_start = time.perf_counter()
        model, loss_func, optimizer = self.model, self.loss_func, self.optimizer
        show_loss = self.progress._bar is not None
        # A resume at the very end of an epoch's batches goes straight to the epoch end.
        batches = self.train_loader if total is None or self.iteration_in_epoch < total else ()
        for x, t in batches:
            y = model(x)
            loss = loss_func(y, t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            self._accumulate(loss, y, t)
            self.iteration += 1
            self.iteration_in_epoch += 1
            self.progress.update()
            if show_loss and self.iteration_in_epoch % self.postfix_every == 0:
                self.progress.set_loss(float(self._sums["loss"] / self._seen))
            logs = {"loss": loss, "batch_size": len(t)}
            for cb in self.callbacks:
                cb.on_batch_end(self, self.iteration_in_epoch, logs)
            if self.stop_training:
                break
            if limit is not None and self.iteration_in_epoch >= limit:
                break
        finished = self.iteration_in_epoch > 0 and not (
            self.stop_training and (total is None or self.iteration_in_epoch < total)
        )
        if not finished:  # stopped mid-epoch: a partial epoch is not a record
            self.progress.end_epoch(None)
            if self.iteration_in_epoch == 0 and not self.stop_training:
                raise ValueError(
                    "Trainer.fit: train_loader yielded no batches (empty dataset, or "
                    "batch_size larger than the dataset with drop_last=True?)"
                )
            return
        record: dict[str, Any] = {"epoch": epoch}
        record.update(self._partial_logs())
        if self.test_loader is not None:
            test = self.evaluate(self.test_loader)
            record.update({f"test_{k}": v for k, v in test.items()})
        # Wall-clock seconds; microseconds are noise, not information.
        record["time"] = round(self._time_before + (time.perf_counter() - self._epoch_start), 6)
        lr = self.lr
        if lr is not None:
            record["lr"] = lr
        self.history.append(record)
        self.epoch += 1
        self.iteration_in_epoch = 0
        self._reset_partial()
        self.progress.end_epoch(format_epoch_line(epoch, self.max_epoch, record))
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, record)

    def _accumulate(self, loss: Any, y: Any, t: Any) -> None:
        # Sums stay on the loss's device; they are read once, at the epoch end.
        n = len(t)
        sums = self._sums
        first = self._seen == 0
        sums["loss"] = sums["loss"] + _weighted(loss, n)
        if first:
            self._narrow["loss"] = _is_narrow(loss)
        if self.metrics:
            with no_grad():
                for name, fn in self.metrics.items():
                    value = fn(y, t)
                    sums[name] = sums[name] + _weighted(value, n)
                    if first:
                        self._narrow[name] = _is_narrow(value)
        self._seen += n

    def _partial_logs(self) -> dict[str, float]:
        narrow = self._narrow
        if self._dist is not None:
            return self._dist.reduce_means(self._sums, self._seen, narrow)
        return {k: _mean(v, self._seen, narrow.get(k, False)) for k, v in self._sums.items()}

    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Mean loss and metrics over ``loader``, under ``no_grad()`` and ``test_mode()``.

        Nothing is updated: parameters and gradients stay as they are. Distributed, a
        scattered test set is evaluated exactly: padding left out, (sum, count) reduced.
        """
        if self._dist is not None:
            result = self._dist.evaluate(self, loader)
            if result is not None:
                return result
        sums: dict[str, Any] = {"loss": 0.0, **dict.fromkeys(self.metrics, 0.0)}
        narrow: dict[str, bool] = {}
        seen = 0
        with no_grad(), test_mode():
            for x, t in loader:
                y = self.model(x)
                n = len(t)
                loss = self.loss_func(y, t)
                sums["loss"] = sums["loss"] + _weighted(loss, n)
                narrow["loss"] = _is_narrow(loss)
                for name, fn in self.metrics.items():
                    value = fn(y, t)
                    sums[name] = sums[name] + _weighted(value, n)
                    narrow[name] = _is_narrow(value)
                seen += n
        if seen == 0:
            raise ValueError("Trainer.evaluate: the loader yielded no batches")
        return {k: _mean(v, seen, narrow.get(k, False)) for k, v in sums.items()}

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch; ``reason`` is printed."""
        self.stop_training = True
        self.stop_reason = reason
        self.progress.message(reason)

    # ---- outputs --------------------------------------------------------------------
    def plot(self, path: str | os.PathLike[str] | None = None, show: bool | None = None) -> Path:
        """Draw loss and accuracy per epoch (train and test) to a PNG; return its path.

        The default path is ``<out>/history.png``. ``show=None`` shows the figure only in
        an interactive session with a display.
        """
        from dezero.train.plot import plot_history

        if self._dist is not None and not self._dist.is_root:
            return self.out / "history.png" if path is None else Path(path)  # rank 0 draws
        return plot_history(self.history, self.out / "history.png" if path is None else path,
                            show=show)

    def save_checkpoint(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write everything needed to continue to ``path`` (``<out>/checkpoint.npz``)."""
        from dezero.train.checkpoint import save_checkpoint

        if self._dist is not None:
            return self._dist.save_checkpoint(
                self, self.out / "checkpoint.npz" if path is None else path)
        return save_checkpoint(self, self.out / "checkpoint.npz" if path is None else path)

    def load_checkpoint(self, path: str | os.PathLike[str] | None = None) -> None:
        """Restore a checkpoint; a checkpoint of another model is refused, nothing changed."""
        from dezero.train.checkpoint import load_checkpoint

        if self._dist is not None:
            self._dist.load_checkpoint(self, self.out / "checkpoint.npz" if path is None else path)
            return
        load_checkpoint(self, self.out / "checkpoint.npz" if path is None else path)

    # ---- checkpoint support ---------------------------------------------------------
    def _loop_state(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "iteration_in_epoch": self.iteration_in_epoch,
            "partial": {
                "sums": {k: float(v) for k, v in self._sums.items()},
                "narrow": sorted(k for k, v in self._narrow.items() if v),
                "seen": self._seen,
                "time": (
                    self._time_before + time.perf_counter() - self._epoch_start
                    if self.iteration_in_epoch
                    else 0.0
                ),
            },
        }

    def _load_loop_state(self, state: Mapping[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.iteration = int(state["iteration"])
        self.iteration_in_epoch = int(state["iteration_in_epoch"])
        partial = state["partial"]
        self._reset_partial()
        for k in self._sums:
            self._sums[k] = float(partial["sums"].get(k, math.nan))
        self._narrow = {k: True for k in partial.get("narrow", ())}
        self._seen = int(partial["seen"])
        self._time_before = float(partial["time"])
