"""Trainer: the loop against a hand-written one, modes, devices, callbacks and their order."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest

from dezero.core import Variable, backend
from dezero.train import (
    Callback,
    Checkpoint,
    CSVLogger,
    EarlyStopping,
    History,
    JSONLogger,
    LRScheduler,
    TerminateOnNaN,
    Trainer,
)


def _make(tiny, epochs_data=120, batch=16, seed=0, **kw):
    x, t = tiny.data(epochs_data, seed=1)
    xt, tt = tiny.data(60, seed=2)
    net = tiny.Net(seed=seed)
    opt = tiny.SGD(lr=0.1).setup(net)
    kw.setdefault("progress", False)
    kw.setdefault("gpu", False)
    trainer = Trainer(
        net, tiny.loss, opt, tiny.ListLoader(x, t, batch), tiny.ListLoader(xt, tt, 20),
        metrics={"acc": tiny.acc}, **kw,
    )
    return trainer, net, opt, (x, t, xt, tt)


def test_history_equals_a_hand_written_loop(tiny, tmp_path):
    trainer, net, _, (x, t, xt, tt) = _make(tiny, out=tmp_path)
    history = trainer.fit(3)

    ref = tiny.Net(seed=0)
    opt = tiny.SGD(lr=0.1).setup(ref)
    expected = []
    for epoch in range(1, 4):
        s_loss = s_acc = 0.0
        for i in range(0, len(x), 16):
            xb, tb = x[i:i + 16], t[i:i + 16]
            y = ref(xb)
            loss = tiny.loss(y, tb)
            ref.cleargrads()
            loss.backward()
            opt.update()
            s_loss += float(loss.data) * len(tb)
            s_acc += tiny.acc(y, tb) * len(tb)
        y = ref(xt)  # the whole test set at once: same means as 3 batches of 20
        expected.append({
            "epoch": epoch, "loss": s_loss / len(x), "acc": s_acc / len(x),
            "test_loss": float(tiny.loss(y, tt).data), "test_acc": tiny.acc(y, tt),
        })
    assert len(history) == 3
    for got, want in zip(history, expected):
        assert got["epoch"] == want["epoch"]
        for k in ("loss", "acc", "test_loss", "test_acc"):
            assert math.isclose(got[k], want[k], rel_tol=1e-12, abs_tol=1e-12), (k, got, want)
        assert got["time"] > 0
        assert got["lr"] == 0.1
    for (name, p), (_, q) in zip(net.named_params(), ref.named_params()):
        assert np.array_equal(p.data, q.data), name
    # The net learned something: the loss went down.
    assert history["loss"][2] < history["loss"][0]


def test_cleargrads_comes_before_backward_and_update(tiny, tmp_path, monkeypatch):
    trainer, net, opt, _ = _make(tiny, out=tmp_path)
    events: list[str] = []
    orig_backward = Variable.backward

    def backward(self, *a, **k):
        events.append("backward")
        return orig_backward(self, *a, **k)

    monkeypatch.setattr(Variable, "backward", backward)
    orig_clear, orig_update = net.cleargrads, opt.update
    net.cleargrads = lambda: (events.append("cleargrads"), orig_clear())[1]
    opt.update = lambda: (events.append("update"), orig_update())[1]
    trainer.fit(1)
    assert events == ["cleargrads", "backward", "update"] * 8
    assert all(opt.updates_seen_grads)


def test_evaluation_runs_without_graph_in_test_mode_and_changes_nothing(tiny, tmp_path):
    trainer, net, opt, (_, _, xt, tt) = _make(tiny, out=tmp_path)
    trainer.fit(1)
    train_calls = [c for c in net.calls if c[0] == "forward"][:8]
    eval_calls = [c for c in net.calls if c[0] == "forward"][8:]
    assert train_calls == [("forward", True, True)] * 8
    assert eval_calls == [("forward", False, False)] * 3
    before = net.state_dict()
    t_before = opt.t
    result = trainer.evaluate(tiny.ListLoader(xt, tt, 7))
    assert set(result) == {"loss", "acc"}
    y = net(xt)
    assert math.isclose(result["loss"], float(tiny.loss(y, tt).data), rel_tol=1e-12)
    assert math.isclose(result["acc"], tiny.acc(y, tt), rel_tol=1e-12)
    for k, v in net.state_dict().items():
        assert np.array_equal(v, before[k])
    assert opt.t == t_before
    assert all(p.grad is None or p.grad is not None for p in net.params())


def test_gpu_true_without_a_gpu_fails_at_once_with_the_reason(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "gpu_status", lambda: (False, "CuPy is installed but no device"))
    with pytest.raises(backend.GPUUnavailableError, match="CuPy is installed but no device"):
        _make(tiny, out=tmp_path, gpu=True)
    trainer, *_ = _make(tiny, out=tmp_path, gpu="auto")
    assert trainer.device == "cpu"
    with pytest.raises(ValueError, match="gpu must be"):
        _make(tiny, out=tmp_path, gpu="yes")


def test_gpu_true_on_this_machine_follows_the_registry(tiny, tmp_path):
    from dezero.train.trainer import _resolve_device

    ok, reason = backend.gpu_status()
    if ok:  # a usable GPU: gpu=True and "auto" pick it
        assert _resolve_device(True) == _resolve_device("auto") == "gpu"
        return
    with pytest.raises(backend.GPUUnavailableError) as info:
        _make(tiny, out=tmp_path, gpu=True)
    assert reason in str(info.value)
    assert _resolve_device("auto") == "cpu"


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


def test_terminate_on_nan_stops_with_a_clear_message(tiny, tmp_path, capsys):
    trainer, *_ = _make(tiny, out=tmp_path, progress="lines", callbacks=[TerminateOnNaN()])

    def poisoned(y, t):
        loss = tiny.loss(y, t)
        return loss * np.float64("nan") if trainer.iteration == 9 else loss

    trainer.loss_func = poisoned
    history = trainer.fit(5)
    assert len(history) == 1  # epoch 1 complete (8 batches), epoch 2 stopped at batch 2
    assert trainer.iteration == 10
    assert trainer.stop_reason is not None
    assert "loss became nan at epoch 2, batch 2 (iteration 10)" in trainer.stop_reason
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


def test_epoch_line_format(tiny, tmp_path, capsys):
    trainer, *_ = _make(tiny, out=tmp_path, progress="lines")
    trainer.fit(2)
    lines = capsys.readouterr().out.strip().splitlines()
    pat = re.compile(
        r"^epoch (\d)/2  loss \d+\.\d{4}  acc \d\.\d{4}  test_loss \d+\.\d{4}  "
        r"test_acc \d\.\d{4}  time \d+\.\d{2}s$"
    )
    assert [pat.match(line).group(1) for line in lines] == ["1", "2"]
    rec = trainer.history[0]
    assert f"loss {rec['loss']:.4f}" in lines[0]


def test_progress_bar_mode_draws_a_bar(tiny, tmp_path, capsys, monkeypatch):
    from dezero.train.progress import Progress

    shown: list[float] = []
    monkeypatch.setattr(Progress, "set_loss", lambda self, v: shown.append(v))
    trainer, *_ = _make(tiny, out=tmp_path, progress="bar")
    trainer.postfix_every = 2
    trainer.fit(1)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "/8" in err
    assert len(shown) == 4  # batches 2, 4, 6, 8: running means, read every 2 batches
    assert math.isclose(shown[-1], trainer.history[0]["loss"], rel_tol=1e-12)


def test_silent_mode_prints_nothing(tiny, tmp_path, capsys):
    trainer, *_ = _make(tiny, out=tmp_path, progress=False)
    trainer.fit(1)
    assert capsys.readouterr() == ("", "")


def test_max_iters_per_epoch_cuts_epochs(tiny, tmp_path):
    trainer, net, opt, _ = _make(tiny, out=tmp_path, max_iters_per_epoch=3)
    trainer.fit(2)
    assert trainer.iteration == 6 and opt.t == 6
    assert len(trainer.history) == 2


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


def test_invalid_arguments_are_named(tiny, tmp_path):
    trainer, *_ = _make(tiny, out=tmp_path)
    with pytest.raises(ValueError, match="max_epoch must be a positive int"):
        trainer.fit(0)
    with pytest.raises(TypeError, match="callbacks must be Callback instances"):
        _make(tiny, out=tmp_path, callbacks=[object()])
    with pytest.raises(ValueError, match="every_n_iters"):
        Checkpoint(every_n_iters=0)
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
