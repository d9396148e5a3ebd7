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
        assert _resolve_device(True) == _resolve_device("auto") == backend.get_device("cuda")
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


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the poisoned backward
@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_terminate_on_nan_stops_with_a_clear_message(tiny, tmp_path, capsys, bad):
    trainer, *_ = _make(tiny, out=tmp_path, progress="lines", callbacks=[TerminateOnNaN()])

    def poisoned(y, t):
        loss = tiny.loss(y, t)
        return loss * np.float64(bad) if trainer.iteration == 9 else loss

    trainer.loss_func = poisoned
    history = trainer.fit(5)
    assert len(history) == 1  # epoch 1 complete (8 batches), epoch 2 stopped at batch 2
    assert trainer.iteration == 10
    assert trainer.stop_reason is not None
    assert f"loss became {bad} at epoch 2, batch 2 (iteration 10)" in trainer.stop_reason
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


# ---- with dezero.nn and dezero.data, the packages the Trainer is made for ----------------
def _nn_problem(n_train=800, n_test=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, 5)).astype(np.float32)
    t = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x[:n_train], t[:n_train], x[n_train:], t[n_train:]


def _nn_trainer(out, seed=0, loader_seeds=(123, 456), callbacks=(), lr=0.1):
    import dezero.nn.functions as F
    from dezero.data import ArrayDataset, DataLoader
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import SGD

    x, t, xt, tt = _nn_problem()
    model = MLP((8, 2))
    train = DataLoader(ArrayDataset(x, t), 100, seed=loader_seeds[0])
    test = DataLoader(ArrayDataset(xt, tt), 50, shuffle=True, seed=loader_seeds[1])
    return Trainer(model, F.softmax_cross_entropy, SGD(lr=lr).setup(model), train, test,
                   gpu=False, out=out, seed=seed, progress=False, callbacks=list(callbacks))


def test_seed_seeds_the_framework_generator_and_both_loaders(tmp_path):
    from dezero.core import random as drandom
    from dezero.data import ArrayDataset, DataLoader

    ids = ArrayDataset(np.zeros((20, 1), np.float32), np.arange(20))
    train, test = DataLoader(ids, 5, seed=123), DataLoader(ids, 5, seed=456)
    next(iter(train))  # mid-epoch: the seed must start a fresh epoch
    net = _nn_trainer(tmp_path).model
    Trainer(net, lambda y, t: y, object(), train, test, gpu=False, out=tmp_path, seed=11,
            metrics={}, progress=False)
    # Independent references: the generators are PCG64 streams of the seed.
    ref = np.random.Generator(np.random.PCG64(11))
    assert drandom.get_generator().random(4).tolist() == ref.random(4).tolist()
    got_train = np.concatenate([tb for _, tb in train])
    got_test = np.concatenate([tb for _, tb in test])
    assert got_train.tolist() == np.random.Generator(np.random.PCG64(11)).permutation(20).tolist()
    assert got_test.tolist() == np.random.Generator(np.random.PCG64(12)).permutation(20).tolist()


def test_same_seed_same_run_whatever_the_loaders_were_built_with(tmp_path):
    runs = []
    for i, (seed, loader_seeds) in enumerate([(3, (1, 2)), (3, (77, 88)), (4, (1, 2))]):
        tr = _nn_trainer(tmp_path / str(i), seed=seed, loader_seeds=loader_seeds)
        tr.fit(2)
        runs.append((tr.model.state_dict(), [{k: v for k, v in r.items() if k != "time"}
                                             for r in tr.history]))
    (w0, h0), (w1, h1), (w2, h2) = runs
    assert h0 == h1 and all(np.array_equal(w0[k], w1[k]) for k in w0)
    assert not all(np.array_equal(w0[k], w2[k]) for k in w0)  # another seed, another run


def test_float32_metrics_are_recorded_to_their_precision(tmp_path):
    from dezero.core import no_grad

    tr = _nn_trainer(tmp_path, callbacks=[CSVLogger()])
    history = tr.fit(2)
    _, _, xt, tt = _nn_problem()
    with no_grad():
        k = int((tr.model(xt).data.argmax(axis=1) == tt).sum())
    # An accuracy is a count over the samples: exactly that fraction, no float32 residue
    # such as 0.8309999942779541 (independent count with the final weights).
    assert history[-1]["test_acc"] == k / 200
    assert tr.evaluate(tr.test_loader)["acc"] == k / 200
    for rec in history:
        assert rec["acc"] * 800 == round(rec["acc"] * 800)  # k/800 for some whole k
        for key in ("loss", "test_loss"):
            assert float(f"{rec[key]:.7g}") == rec[key]  # 7 significant digits, as float32
    with open(tmp_path / "history.csv", newline="") as f:
        for row in csv.DictReader(f):
            assert all(len(row[k].lstrip("0.")) <= 7 for k in ("acc", "test_acc")), row


def test_float64_metrics_keep_full_precision():
    from dezero.train.trainer import _mean

    total = np.float64(0.49382716049382713)
    assert _mean(total, 4, narrow=False) == float(total) / 4  # every digit kept
    assert _mean(total, 4, narrow=True) == 0.1234568
    assert _mean(np.float64(np.float32(0.83)) * 100, 100, narrow=True) == 0.83
    assert _mean(np.float64(np.float32(0.83)) * 100, 100, narrow=False) != 0.83
    assert math.isnan(_mean(float("nan"), 1, narrow=True))


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
def test_lr_schedules_step_once_per_epoch(tmp_path, make, closed_form):
    tr = _nn_trainer(tmp_path)
    tr.callbacks.append(LRScheduler(make(tr.optimizer)))
    tr.fit(5)
    # Epoch e (1-based) trains with the rate of schedule epoch e - 1; the history says so.
    for e, got in enumerate(tr.history["lr"]):
        assert math.isclose(got, closed_form(e), rel_tol=1e-12, abs_tol=1e-15), (e, got)
    assert math.isclose(tr.optimizer.lr, closed_form(5), rel_tol=1e-12, abs_tol=1e-15)


class _TTY:
    """A stderr that says it is a terminal, keeping what is written."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, s):
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_default_bar_on_a_terminal_plain_lines_otherwise(tiny, tmp_path, capsys,
                                                                   monkeypatch):
    import sys

    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    trainer, *_ = _make(tiny, out=tmp_path / "a", progress=True)
    trainer.fit(1)
    drawn = "".join(tty.parts)
    assert "epoch 1/1" in drawn and "/8" in drawn  # tqdm's bar: 8 batches
    assert capsys.readouterr().out.startswith("epoch 1/1  loss ")
    monkeypatch.undo()

    trainer, *_ = _make(tiny, out=tmp_path / "b", progress=True)
    trainer.fit(1)
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("epoch 1/1  loss ") and out.count("\n") == 1
