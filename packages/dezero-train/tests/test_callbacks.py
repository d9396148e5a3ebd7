"""Callbacks: event order, early stopping, NaN stops, logs and learning-rate schedules."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from dezero.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    JSONLogger,
    LRScheduler,
    TerminateOnNaN,
)


def _make(tiny, **kw):
    return tiny.make(**kw)


class Recorder(Callback):
    def __init__(self, name, log, order=0):
        self.name, self.log, self.order = name, log, order

    def on_train_begin(self, trainer):
        self.log.append((self.name, "train_begin"))

    def on_train_end(self, trainer):
        self.log.append((self.name, "train_end"))

    def on_epoch_begin(self, trainer, epoch):
        self.log.append((self.name, "epoch_begin", epoch))

    def on_batch_end(self, trainer, batch, logs):
        self.log.append((self.name, "batch_end", batch, trainer.iteration))

    def on_epoch_end(self, trainer, epoch, logs):
        assert trainer.history[-1] is not None and trainer.history[-1]["epoch"] == epoch
        self.log.append((self.name, "epoch_end", epoch))


def test_callback_events_come_in_order(tiny, tmp_path):
    log: list[tuple] = []
    late = Recorder("late", log, order=100)
    early = Recorder("early", log)
    trainer, *_ = _make(tiny, epochs_data=48, out=tmp_path, callbacks=[late, early])
    trainer.fit(2)
    want: list[tuple] = [("early", "train_begin"), ("late", "train_begin")]
    it = 0
    for e in (1, 2):
        want += [("early", "epoch_begin", e), ("late", "epoch_begin", e)]
        for b in (1, 2, 3):
            it += 1
            want += [("early", "batch_end", b, it), ("late", "batch_end", b, it)]
        want += [("early", "epoch_end", e), ("late", "epoch_end", e)]
    want += [("early", "train_end"), ("late", "train_end")]
    assert log == want


class StopAtEpochBegin(Recorder):
    def on_epoch_begin(self, trainer, epoch):
        super().on_epoch_begin(trainer, epoch)
        if epoch == 2:
            trainer.stop("enough")


def test_a_stop_at_epoch_begin_runs_no_batch_of_that_epoch(tiny, tmp_path):
    log: list[tuple] = []
    stopper, after = StopAtEpochBegin("stop", log), Recorder("after", log)
    trainer, net, *_ = _make(tiny, epochs_data=48, out=tmp_path, callbacks=[stopper, after])
    trainer.fit(3)
    # Epoch 1 whole (3 batches); epoch 2 begins for every callback and stops at once.
    assert net.calls.count(("forward", True, True)) == 3
    assert (trainer.epoch, trainer.iteration, trainer.iteration_in_epoch) == (1, 3, 0)
    assert trainer.stop_training and trainer.stop_reason == "enough"
    assert [r["epoch"] for r in trainer.history] == [1]
    assert log[-4:] == [("stop", "epoch_begin", 2), ("after", "epoch_begin", 2),
                        ("stop", "train_end"), ("after", "train_end")]


class Inject(Callback):
    """Put a scripted value into each epoch's record, to drive EarlyStopping exactly."""

    def __init__(self, values, snapshots):
        self.values, self.snapshots = values, snapshots

    def on_epoch_end(self, trainer, epoch, logs):
        logs["score"] = self.values[epoch - 1]
        self.snapshots[epoch] = trainer.model.state_dict()


def test_early_stopping_stops_after_patience_and_restores_best(tiny, tmp_path, capsys):
    snaps: dict[int, dict] = {}
    es = EarlyStopping(monitor="score", patience=3, mode="min", restore_best=True)
    trainer, net, *_ = _make(
        tiny, out=tmp_path, progress="lines",
        callbacks=[Inject([5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 1.0], snaps), es],
    )
    history = trainer.fit(7)
    assert len(history) == 5  # no improvement in epochs 3, 4, 5
    assert es.best == 4.0 and es.best_epoch == 2 and es.stopped_epoch == 5
    for k, v in net.state_dict().items():
        assert np.array_equal(v, snaps[2][k]), k
    assert not np.array_equal(snaps[2]["W1"], snaps[5]["W1"])
    assert "EarlyStopping: score has not improved for 3 epochs" in capsys.readouterr().out


def test_early_stopping_auto_mode_and_missing_monitor(tiny, tmp_path):
    assert EarlyStopping(monitor="test_acc").mode == "max"
    assert EarlyStopping(monitor="test_loss").mode == "min"
    trainer, *_ = _make(tiny, out=tmp_path, callbacks=[EarlyStopping(monitor="nope")])
    with pytest.raises(KeyError, match="monitor 'nope' is not in the epoch record"):
        trainer.fit(1)


class Snapshot(Callback):
    def __init__(self):
        self.weights = {}

    def on_batch_end(self, trainer, batch, logs):
        self.weights[trainer.iteration] = trainer.model.state_dict()


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_terminate_on_nan_stops_before_the_bad_update(tiny, tmp_path, capsys, bad):
    snap = Snapshot()
    stopper = TerminateOnNaN()
    trainer, net, opt, _ = _make(tiny, out=tmp_path, progress="lines", callbacks=[stopper, snap])

    def poisoned(y, t):
        loss = tiny.loss(y, t)
        return loss * np.float64(bad) if trainer.iteration == 9 else loss

    trainer.loss_func = poisoned
    history = trainer.fit(5)
    assert len(history) == 1  # epoch 1 complete (8 batches), epoch 2 stopped at batch 2
    assert trainer.iteration == 9 and opt.t == 9  # the 10th update was never applied
    for k, v in net.state_dict().items():
        assert np.all(np.isfinite(v)) and np.array_equal(v, snap.weights[9][k]), k
    assert stopper.stopped
    assert trainer.stop_reason is not None
    assert f"loss became {bad} at epoch 2, batch 2 (iteration 10)" in trainer.stop_reason
    assert "not applied" in trainer.stop_reason
    assert "TerminateOnNaN" in capsys.readouterr().out


def test_csv_and_json_logs_hold_the_history(tiny, tmp_path):
    trainer, *_ = _make(tiny, out=tmp_path, callbacks=[CSVLogger(), JSONLogger("h.json")])
    history = trainer.fit(2)
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert list(rows[0]) == ["epoch", "loss", "acc", "test_loss", "test_acc", "time", "lr"]
    for row, rec in zip(rows, history):
        for k in ("loss", "acc", "test_loss", "test_acc", "time", "lr"):
            assert float(row[k]) == rec[k]  # repr round-trips floats exactly
    data = json.loads((tmp_path / "h.json").read_text())
    assert data["records"] == history.records
    assert History.from_json(tmp_path / "h.json").records == history.records


class HalveSchedule:
    """A schedule object of dezero.nn's kind: drives optimizer.<lr_name>, state as JSON."""

    def __init__(self, optimizer):
        self.optimizer, self.epoch, self.base = optimizer, 0, optimizer.lr

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.base * 0.5 ** self.epoch

    def state_dict(self):
        return {"epoch": self.epoch, "base": self.base}

    def load_state_dict(self, s):
        self.epoch, self.base = s["epoch"], s["base"]


def test_lr_scheduler_steps_per_epoch_and_history_records_the_rate(tiny, tmp_path):
    trainer, net, opt, _ = _make(tiny, out=tmp_path)
    trainer.callbacks.append(LRScheduler(HalveSchedule(opt)))
    trainer.fit(3)
    assert trainer.history["lr"] == [0.1, 0.05, 0.025]
    assert opt.lr == 0.0125


@pytest.mark.parametrize(
    "make, closed_form",
    [
        (lambda opt: __import__("dezero.nn.optimizers", fromlist=["StepLR"]).StepLR(
            opt, step_size=2, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 2)),
        (lambda opt: __import__("dezero.nn.optimizers", fromlist=["x"]).ExponentialLR(
            opt, gamma=0.9), lambda e: 0.1 * 0.9 ** e),
        (lambda opt: __import__("dezero.nn.optimizers", fromlist=["x"]).CosineLR(
            opt, t_max=4), lambda e: 0.1 * (1 + math.cos(math.pi * min(e, 4) / 4)) / 2),
    ],
    ids=["step", "exponential", "cosine"],
)
def test_lr_schedules_step_once_per_epoch(nn, tmp_path, make, closed_form):
    tr = nn.trainer(tmp_path)
    tr.callbacks.append(LRScheduler(make(tr.optimizer)))
    tr.fit(5)
    # Epoch e (1-based) trains with the rate of schedule epoch e - 1; the history says so.
    for e, got in enumerate(tr.history["lr"]):
        assert math.isclose(got, closed_form(e), rel_tol=1e-12, abs_tol=1e-15), (e, got)
    assert math.isclose(tr.optimizer.lr, closed_form(5), rel_tol=1e-12, abs_tol=1e-15)


