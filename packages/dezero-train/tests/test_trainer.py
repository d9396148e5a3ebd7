"""Trainer: the loop against a hand-written one, modes, devices, seeding and records."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from dezero.core import Variable, backend
from dezero.train import Checkpoint, CSVLogger, EarlyStopping, Trainer


def _make(tiny, **kw):
    return tiny.make(**kw)


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


def test_max_iters_per_epoch_cuts_epochs(tiny, tmp_path):
    trainer, net, opt, _ = _make(tiny, out=tmp_path, max_iters_per_epoch=3)
    trainer.fit(2)
    assert trainer.iteration == 6 and opt.t == 6
    assert len(trainer.history) == 2


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


def test_seed_seeds_the_framework_generator_and_both_loaders(nn, tmp_path):
    from dezero.core import random as drandom
    from dezero.data import ArrayDataset, DataLoader

    ids = ArrayDataset(np.zeros((20, 1), np.float32), np.arange(20))
    train, test = DataLoader(ids, 5, seed=123), DataLoader(ids, 5, seed=456)
    next(iter(train))  # mid-epoch: the seed must start a fresh epoch
    net = nn.trainer(tmp_path).model
    Trainer(net, lambda y, t: y, object(), train, test, gpu=False, out=tmp_path, seed=11,
            metrics={}, progress=False)
    # Independent references: the generators are PCG64 streams of the seed.
    ref = np.random.Generator(np.random.PCG64(11))
    assert drandom.get_generator().random(4).tolist() == ref.random(4).tolist()
    got_train = np.concatenate([tb for _, tb in train])
    got_test = np.concatenate([tb for _, tb in test])
    assert got_train.tolist() == np.random.Generator(np.random.PCG64(11)).permutation(20).tolist()
    assert got_test.tolist() == np.random.Generator(np.random.PCG64(12)).permutation(20).tolist()


def test_same_seed_same_run_whatever_the_loaders_were_built_with(nn, tmp_path):
    runs = []
    for i, (seed, loader_seeds) in enumerate([(3, (1, 2)), (3, (77, 88)), (4, (1, 2))]):
        tr = nn.trainer(tmp_path / str(i), seed=seed, loader_seeds=loader_seeds)
        tr.fit(2)
        runs.append((tr.model.state_dict(), [{k: v for k, v in r.items() if k != "time"}
                                             for r in tr.history]))
    (w0, h0), (w1, h1), (w2, h2) = runs
    assert h0 == h1 and all(np.array_equal(w0[k], w1[k]) for k in w0)
    assert not all(np.array_equal(w0[k], w2[k]) for k in w0)  # another seed, another run


def test_float32_metrics_are_recorded_to_their_precision(nn, tmp_path):
    from dezero.core import no_grad

    tr = nn.trainer(tmp_path, callbacks=[CSVLogger()])
    history = tr.fit(2)
    _, _, xt, tt = nn.problem()
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
    from dezero.train.summary import Summary

    def mean(total, n, narrow):
        s = Summary()
        s.add({"v": np.float32(0) if narrow else np.float64(0)}, 0)  # sets the column's dtype
        s.sums["v"], s.counts["v"] = total, n
        return s.means()["v"]

    total = np.float64(0.49382716049382713)
    assert mean(total, 4, narrow=False) == float(total) / 4  # every digit kept
    assert mean(total, 4, narrow=True) == 0.1234568
    assert mean(np.float64(np.float32(0.83)) * 100, 100, narrow=True) == 0.83
    assert mean(np.float64(np.float32(0.83)) * 100, 100, narrow=False) != 0.83
    assert math.isnan(mean(float("nan"), 1, narrow=True))


def test_metrics_may_return_numpy_scalars_0d_arrays_and_variables(tiny, tmp_path):
    from dezero.core import Variable as V

    kinds = {
        "py": tiny.acc,
        "np_scalar": lambda y, t: np.float64(tiny.acc(y, t)),
        "zero_d": lambda y, t: np.array(tiny.acc(y, t)),
        "one_elem": lambda y, t: np.array([tiny.acc(y, t)]),
        "variable": lambda y, t: V(np.array(tiny.acc(y, t))),
    }
    trainer, *_ = _make(tiny, out=tmp_path)
    trainer.metrics = kinds
    history = trainer.fit(2)
    for name in kinds:
        assert history[name] == history["py"], name
        assert history[f"test_{name}"] == history["test_py"], name


def test_a_non_scalar_loss_is_refused_before_backward(tiny, tmp_path):
    trainer, net, opt, _ = _make(tiny, out=tmp_path)
    before = net.state_dict()

    def per_sample(y, t):
        return y[np.arange(len(t)), t]  # one loss per sample, not reduced

    trainer.loss_func = per_sample
    with pytest.raises(ValueError, match=r"loss_func must return a scalar.*shape \(16,\)"):
        trainer.fit(1)
    assert opt.t == 0
    for k, v in net.state_dict().items():
        assert np.array_equal(v, before[k])
    with pytest.raises(TypeError, match="loss_func must return a Variable"):
        trainer.loss_func = lambda y, t: 0.5
        trainer.fit(1)


@pytest.mark.parametrize("form", ["x", "(x,)", "(x, None)"])
def test_loaders_of_inputs_only_train_an_autoencoder(tmp_path, form):
    import dezero.nn.functions as F
    from dezero.core import random as drandom
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import SGD

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    xs = [x[i:i + 10] for i in range(0, 40, 10)]
    batches = {"x": xs, "(x,)": [(b,) for b in xs], "(x, None)": [(b, None) for b in xs]}[form]

    drandom.seed(0)
    model = MLP((3, 6))
    tr = Trainer(model, F.mean_squared_error, SGD(lr=0.05).setup(model), batches,
                 test_loader=batches, gpu=False, out=tmp_path, progress=False)
    history = tr.fit(3)
    assert history.columns == ["epoch", "loss", "test_loss", "time", "lr"]

    # Hand-written reference: the same model, initialised from the same seed.
    drandom.seed(0)
    ref = MLP((3, 6))
    opt = SGD(lr=0.05).setup(ref)
    for epoch in range(3):
        total = 0.0
        for b in xs:
            loss = F.mean_squared_error(ref(b), b)
            ref.cleargrads()
            loss.backward()
            opt.update()
            total += float(loss.data) * len(b)
        assert math.isclose(history[epoch]["loss"], total / 40, rel_tol=1e-12)
    for k, v in ref.state_dict().items():
        assert np.array_equal(tr.model.state_dict()[k], v), k
    assert history["loss"][-1] < history["loss"][0]
