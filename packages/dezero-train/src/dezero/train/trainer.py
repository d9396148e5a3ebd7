"""The Trainer: the mini-batch loop, evaluation and per-epoch records, extended by callbacks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dezero.core import Variable, backend, no_grad, test_mode
from dezero.core import random as _random
from dezero.train import state as _state
from dezero.train.callbacks import Callback, CSVLogger, JSONLogger
from dezero.train.history import History
from dezero.train.progress import Progress, format_epoch_line
from dezero.train.state import StateError
from dezero.train.summary import Summary

__all__ = ["Trainer"]

Metric = Callable[[Any, Any], Any]


_GPU_VALUES = "True, False, 'auto', 'cpu', 'cuda', 'cuda:N', an int N or a Device"


def _resolve_device(gpu: Any) -> backend.Device:
    """The Device ``Trainer(gpu=...)`` names, checked once: False/``"cpu"`` the host,
    True/``"cuda"`` the current GPU (or an error saying why not), ``"auto"`` the current GPU
    when one is usable, ``"cuda:N"``/``N``/a Device that GPU."""
    if gpu is False:
        return backend.CPU
    if gpu is True:
        ok, reason = backend.gpu_status()
        if not ok:
            raise backend.GPUUnavailableError(
                f"Trainer: gpu=True but the GPU is not usable: {reason}. "
                f"Pass gpu='auto' (GPU when usable) or gpu=False to train on the CPU."
            )
        return backend.get_device("cuda", "Trainer")
    if gpu == "auto":
        return backend.get_device("cuda", "Trainer") if backend.gpu_status()[0] else backend.CPU
    named = isinstance(gpu, str) and (
        gpu in ("cpu", "cuda") or (gpu.startswith("cuda:") and gpu[5:].isdigit())
    )
    number = isinstance(gpu, int) and gpu >= 0  # bools were handled above
    if not (named or number or isinstance(gpu, backend.Device)):
        raise ValueError(f"Trainer: gpu must be {_GPU_VALUES}, got {gpu!r}")
    return backend.get_device(gpu, f"Trainer(gpu={gpu!r})")


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


def _split_batch(batch: Any) -> tuple[Any, Any]:
    """``(x, t)`` of a batch; ``t`` is None for inputs only (``x``, ``(x,)``, ``(x, None)``)."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
        raise ValueError(
            f"Trainer: a batch must be (x, t), (x,) or x alone, got a {type(batch).__name__} "
            f"of {len(batch)} items"
        )
    return batch, None


def _check_loss(loss: Any) -> None:
    if not isinstance(loss, Variable):
        raise TypeError(
            f"Trainer: loss_func must return a Variable (its graph is what backward() walks), "
            f"got {type(loss).__name__}"
        )
    if loss.data is None or loss.data.size != 1:
        shape = None if loss.data is None else tuple(loss.data.shape)
        raise ValueError(
            f"Trainer: loss_func must return a scalar (the batch mean), got shape {shape}; "
            f"reduce it, e.g. F.sum(loss) / len(x), so that backward() starts from one number"
        )


class Trainer:
    """Runs the training loop DeZero users otherwise write by hand.

    Per mini-batch: forward, loss, ``model.cleargrads()``, ``loss.backward()``,
    ``optimizer.update()``. At each epoch end: evaluation of ``test_loader`` under
    ``no_grad()`` and ``test_mode()``, one record in `history`, one printed line.

    Args:
        model: a ``dezero.nn`` Layer/Model (``cleargrads``, ``state_dict``, ``to_gpu``).
        loss_func: ``loss_func(y, t)`` returning a scalar Variable (the batch mean). For
            loaders that yield inputs only (``x``, ``(x,)`` or ``(x, None)``: an autoencoder's
            data) it is called as ``loss_func(y, x)``, and so are the metrics.
        optimizer: a ``dezero.nn.optimizers`` optimizer; set up on ``model`` if not yet.
        train_loader: a re-iterable loader of ``(x, t)`` batches.
        test_loader: evaluated at each epoch end when given.
        gpu: ``False`` (CPU), ``True`` (the current GPU, or an error saying why not),
            ``"auto"`` (the GPU when usable, else the CPU), or a device name:
            ``"cpu"``, ``"cuda"``, ``"cuda:N"``, an int ``N``, a Device. `device` is
            where training runs (``"cpu"``, ``"cuda:0"``...); model and loaders go there.
        out: folder for plots, logs and checkpoints.
        seed: seeds the framework's generator and the loaders (those with ``seed()``).
        metrics: ``{"acc": F.accuracy}`` by default (for batches with targets); a dict
            name -> ``fn(y, t)`` returning a number, a 0-d array or a scalar Variable.
        callbacks: [`Callback`][dezero.train.Callback] objects.
        progress: ``True`` (bar on a terminal + epoch lines), ``"bar"``, ``"lines"``, ``False``.
        max_iters_per_epoch: cut each epoch after this many batches (quick runs).
        comm: a ``dezero.dist`` communicator: train data-parallel (needs
            ``dezero-train[dist]``); see the README's "Scaling out".

    Examples:
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
        gpu: Any = "auto",
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
        self._metrics_given = metrics is not None
        # Stable sort: checkpoints (order 100) see the state every other callback left.
        self.callbacks: list[Callback] = sorted(callbacks or (), key=lambda c: c.order)
        self.max_iters_per_epoch = max_iters_per_epoch
        #: What this run was set up with, saved in checkpoints: resuming with another value
        #: of any of these is refused, naming the setting. Add your own (JSON values).
        self.settings: dict[str, Any] = {
            "model": type(model).__name__,
            "optimizer": type(optimizer).__name__,
            "lr": self.lr,
            "seed": seed,
        }

        if getattr(optimizer, "target", None) is None and hasattr(optimizer, "setup"):
            optimizer.setup(model)
        self.comm = comm
        self._dist: Any = None
        if comm is not None:
            from dezero.train._distributed import Distributed

            # Wraps the optimizer (rank 0's start, averaged gradients); adds the world size
            # to the settings, so a resume under another world size is refused.
            self._dist = Distributed(self, comm)
            if not self._dist.is_root:  # only rank 0 shows progress and writes history files
                progress = False
                self.callbacks = [c for c in self.callbacks
                                  if not isinstance(c, (CSVLogger, JSONLogger))]
        self.progress = Progress(progress)
        if seed is not None:
            self.seed(seed)
        if self.device.is_gpu:
            model.to_gpu(self.device)
            for loader in (train_loader, test_loader):
                if loader is not None and hasattr(loader, "to_gpu"):
                    loader.to_gpu(self.device)

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
        self.summary = Summary()  # this epoch's training loss and metrics so far
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
        With ``max_epoch`` epochs already done it says that nothing is left to do.
        """
        if not isinstance(max_epoch, int) or isinstance(max_epoch, bool) or max_epoch < 1:
            raise ValueError(f"Trainer.fit: max_epoch must be a positive int, got {max_epoch!r}")
        if resume:
            self.load_checkpoint(None if resume is True else resume)
        if self.epoch >= max_epoch:
            self.progress.message(
                f"Trainer.fit: {self.epoch} epochs are already done (max_epoch={max_epoch}); "
                f"nothing left to do"
            )
            return self.history
        self.max_epoch = max_epoch
        self.stop_training = False
        self.stop_reason = None
        if self._dist is not None:
            self._dist.pending_stop = None  # as a stop asked before fit() is forgotten
        for cb in self.callbacks:
            cb.on_train_begin(self)
        if self._dist is not None:
            self._dist.begin_fit(self)  # where the ranks agree on stops; one asked so far
        try:
            with backend.using_device(self.device):  # GPU libraries run on the current one
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
            if self._stop_now("on_epoch_begin"):
                return  # before any batch: nothing of this epoch was done
        total = self._iters_per_epoch()
        limit = self.max_iters_per_epoch
        self.progress.begin_epoch(epoch, self.max_epoch, total, self.iteration_in_epoch)
        self._epoch_start = time.perf_counter()
        model, loss_func, optimizer = self.model, self.loss_func, self.optimizer
        show_loss = self.progress._bar is not None
        # A resume at the very end of an epoch's batches goes straight to the epoch end.
        batches = self.train_loader if total is None or self.iteration_in_epoch < total else ()
        for batch in batches:
            x, t = _split_batch(batch)
            y = model(x)
            target = x if t is None else t
            n = len(target)  # samples: the labels' count (x may be a tuple of inputs)
            loss = loss_func(y, target)
            _check_loss(loss)
            logs = {"loss": loss, "batch_size": n}
            for cb in self.callbacks:  # before backward: a callback may refuse this step
                cb.on_loss(self, self.iteration_in_epoch + 1, logs)
            if self._stop_now("on_loss"):
                break
            model.cleargrads()
            loss.backward()
            optimizer.update()
            self.summary.add(self._measure(y, target, loss, t is None), n)
            self.iteration += 1
            self.iteration_in_epoch += 1
            self.progress.update()
            if show_loss and self.iteration_in_epoch % self.postfix_every == 0:
                self.progress.set_loss(self.summary.means()["loss"])
            for cb in self.callbacks:
                cb.on_batch_end(self, self.iteration_in_epoch, logs)
            if self._stop_now("on_batch_end"):
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
        record.update(self._reduced(self.summary).means())
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
        self._stop_now("on_epoch_end")  # fit's loop reads stop_training

    def _measure(self, y: Any, t: Any, loss: Any, inputs_only: bool) -> dict[str, Any]:
        """The batch's loss and metrics, left on their device."""
        values = {"loss": loss}
        # The default accuracy needs labels; metrics the user chose run on any batch.
        if self.metrics and (self._metrics_given or not inputs_only):
            with no_grad():
                for name, fn in self.metrics.items():
                    values[name] = fn(y, t)
        return values

    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Mean loss and metrics over ``loader``, under ``no_grad()`` and ``test_mode()``.

        Nothing is updated: parameters and gradients stay as they are. Distributed, a
        scattered test set is evaluated exactly: padding left out, (sum, count) reduced.
        """
        summary = Summary()
        batches = loader if self._dist is None else self._dist.eval_batches(loader)
        with no_grad(), test_mode(), backend.using_device(self.device):
            for batch in batches:
                x, t = _split_batch(batch)
                y = self.model(x)
                target = x if t is None else t
                loss = self.loss_func(y, target)
                _check_loss(loss)
                summary.add(self._measure(y, target, loss, t is None), len(target))
        summary = self._reduced(summary)
        if not summary:
            raise ValueError("Trainer.evaluate: the loader yielded no batches")
        return summary.means()

    def _reduced(self, summary: Summary) -> Summary:
        """The summary over every process: here, this one's.

        The one place a data-parallel trainer sums the (sum, count) pairs across ranks,
        so that its means equal a single process's over the whole data.
        """
        if self._dist is not None:
            return self._dist.reduced(summary)
        return summary

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch; ``reason`` is printed.

        Data-parallel (``comm=``), a stop asked on any rank stops every rank at the same
        point: at the next place where the ranks agree (right after the callback event
        that asked, or, for a stop from outside the callbacks, at the latest after the
        epoch), with ``stop_reason`` ``"rank <r>: <reason>"`` everywhere. Until then
        `stop_training` stays False, so every rank's callbacks see the same state.
        """
        if self._dist is not None:
            self._dist.request_stop(reason)
            return
        self._set_stop(reason)

    def _set_stop(self, reason: str) -> None:
        self.stop_training = True
        self.stop_reason = reason
        self.progress.message(reason)

    def _stop_now(self, point: str) -> bool:
        """Whether the loop stops after event ``point``; data-parallel, the ranks' agreement."""
        if self._dist is not None:
            self._dist.agree_stop(self, point)
        return self.stop_training

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

        if self._dist is not None:  # rank 0 the shared state, each rank its own
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

    # ---- state: everything a checkpoint holds -----------------------------------------
    def _loaders(self) -> list[tuple[str, Any]]:
        return [("train", self.train_loader), ("test", self.test_loader)]

    def state_dict(self) -> dict[str, Any]:
        """The run's full state, nested by component: JSON values and NumPy arrays.

        Keys: ``loop`` (epoch, iteration, the partial epoch's sums), ``model``,
        ``optimizer``, ``loaders``, ``transforms`` (random transforms of the loaders'
        datasets), ``random`` (the framework's generators), ``callbacks``, ``history``
        and ``settings``. [`load_state_dict`][dezero.train.Trainer.load_state_dict] takes it back
        exactly.
        """
        loaders = {
            name: loader.state_dict() if callable(getattr(loader, "state_dict", None)) else None
            for name, loader in self._loaders()
        }
        train_state = loaders["train"]
        if self.iteration_in_epoch == 0 and isinstance(train_state, dict) and (
            "position" in train_state
        ):
            # At an epoch boundary the loop may have left the loader's epoch early
            # (max_iters_per_epoch, a stop): an uninterrupted run starts the next epoch with
            # a fresh order, so the state records this epoch as complete.
            train_state["position"] = len(self.train_loader)  # type: ignore[arg-type]
        elapsed = self._time_before + time.perf_counter() - self._epoch_start
        return {
            "loop": {
                "epoch": self.epoch,
                "iteration": self.iteration,
                "iteration_in_epoch": self.iteration_in_epoch,
                "summary": self.summary.state_dict(),
                "time": elapsed if self.iteration_in_epoch else 0.0,
            },
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "loaders": loaders,
            "transforms": {name: _state.transforms_state(loader)
                           for name, loader in self._loaders()},
            "random": _state.random_state(),
            "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()}
                          for cb in self.callbacks],
            "history": self.history.state_dict(),
            "settings": dict(self.settings),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a [`state_dict`][dezero.train.Trainer.state_dict]. Every component is checked
        before any is changed.

        Raises [`StateError`][dezero.train.StateError] naming the component and the
        problem (another model, a missing optimizer entry, a malformed generator state, a
        different setting...); the trainer, model, optimizer, loaders, callbacks, history
        and random state are then exactly as they were.
        """
        self._checked_state(state)()

    def _checked_state(self, state: Mapping[str, Any]) -> _state.Apply:
        """Check every component of ``state``; return the step that applies them all."""
        if not isinstance(state, Mapping):
            raise StateError(f"Trainer.load_state_dict: expected a dict, got {type(state)}")
        need = ("loop", "model", "optimizer", "loaders", "random", "callbacks", "history")
        missing = [k for k in need if k not in state]
        if missing:
            raise StateError(f"Trainer.load_state_dict: the state lacks {missing}")
        _state.check_settings(self.settings, state.get("settings", {}))
        loaders = state["loaders"]
        transforms = state.get("transforms", {})
        if not isinstance(loaders, Mapping) or not isinstance(transforms, Mapping):
            raise StateError("Trainer.load_state_dict: loaders and transforms must be dicts")
        checks: list[tuple[str, Callable[[], _state.Apply]]] = [
            ("model", lambda: _state.check_model_state(self.model, state["model"])),
            # A wrapping optimizer (dezero.dist's data-parallel one) by the one it wraps.
            ("optimizer", lambda: _state.check_optimizer_state(
                getattr(self.optimizer, "actual_optimizer", self.optimizer),
                state["optimizer"], state["model"])),
        ]

        def loader_checks(n: str, ld: Any) -> list[tuple[str, Callable[[], _state.Apply]]]:
            return [
                (f"loaders[{n!r}]", lambda: _state.check_loader_state(
                    f"loaders[{n!r}]", ld, loaders.get(n))),
                (f"transforms[{n!r}]", lambda: _state.check_transforms_state(
                    f"transforms[{n!r}]", ld, transforms.get(n, {}))),
            ]

        for name, loader in self._loaders():
            checks += loader_checks(name, loader)
        checks += [
            ("random", lambda: _state.check_random_state(state["random"])),
            ("callbacks", lambda: _state.check_callbacks_state(self.callbacks,
                                                               state["callbacks"])),
            ("loop", lambda: self._check_history_and_loop(state["history"], state["loop"])),
        ]
        steps = []
        for what, check in checks:
            try:
                steps.append(check())
            except StateError:
                raise
            except (TypeError, ValueError, KeyError, AttributeError) as e:  # a malformed value
                raise StateError(f"{what}: malformed state ({type(e).__name__}: {e})") from e

        def apply_all() -> None:  # every check has passed: nothing below can be refused
            for apply in steps:
                apply()

        return apply_all

    def _check_history_and_loop(self, history: Any, loop: Any) -> _state.Apply:
        if not isinstance(loop, Mapping):
            raise StateError(f"loop: expected a dict, got {loop!r:.60}")
        epoch = _state.check_int("loop: epoch", loop.get("epoch"))
        iteration = _state.check_int("loop: iteration", loop.get("iteration"))
        # Every epoch done took at least one update, and so did each batch of this one.
        in_epoch = _state.check_int("loop: iteration_in_epoch", loop.get("iteration_in_epoch"),
                                    0, min(iteration - epoch, self._iters_per_epoch() or iteration))
        elapsed = loop.get("time")
        if not isinstance(elapsed, (int, float)) or not 0 <= elapsed < float("inf"):
            raise StateError(f"loop: time must be a finite number >= 0, got {elapsed!r}")
        try:
            Summary.check_state_dict(loop.get("summary"))
        except ValueError as e:
            raise StateError(f"loop: {e}") from e
        records = history.get("records") if isinstance(history, Mapping) else None
        if not isinstance(records, list) or len(records) != epoch:
            raise StateError(f"history: expected a list of {epoch} records (one per epoch done)")
        for i, r in enumerate(records):
            if not isinstance(r, dict) or r.get("epoch") != i + 1 or not all(
                v is None or isinstance(v, (int, float, str)) for v in r.values()
            ):
                raise StateError(
                    f"history: record {i} must be a dict of numbers and strings with "
                    f"epoch={i + 1}, got {str(r)[:80]}"
                )

        def apply() -> None:
            self.history.load_state_dict(history)
            self.epoch, self.iteration, self.iteration_in_epoch = epoch, iteration, in_epoch
            self._reset_partial()
            self.summary.load_state_dict(loop["summary"])
            self._time_before = float(elapsed)

        return apply
