"""Checkpoints: exact resume after SIGKILL, atomic writes, refusal of another model's file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dezero.core import random as drandom
from dezero.train import Checkpoint, CheckpointError, Trainer
from dezero.train import checkpoint as ckmod
from dezero.train.checkpoint import read_checkpoint

JOB = Path(__file__).with_name("resume_job.py")


def _run(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(JOB), str(out), *args],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )


def _final(out: Path) -> tuple[dict[str, np.ndarray], list[dict]]:
    with np.load(out / "final.npz", allow_pickle=False) as z:
        weights = {k: z[k] for k in z.files}
    records = json.loads((out / "final.json").read_text())["records"]
    for r in records:
        r.pop("time")  # wall-clock, the one thing allowed to differ
    return weights, records


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    r = _run(out)
    assert r.returncode == 0, r.stderr
    return _final(out)


def _loop(out: Path) -> dict:
    _, meta = read_checkpoint(out / "checkpoint.npz")
    return meta["state"]["loop"]


def _assert_same(out: Path, uninterrupted) -> None:
    weights, records = _final(out)
    ref_w, ref_r = uninterrupted
    assert sorted(weights) == sorted(ref_w) == ["l1.W", "l1.b", "l2.W", "l2.b"]
    for k in ref_w:
        assert weights[k].dtype == ref_w[k].dtype
        assert np.array_equal(weights[k], ref_w[k]), f"{k} differs after resume"
    assert records == ref_r


# 10 batches per epoch, 3 epochs, checkpoints every 4 updates and at each epoch end.
# 3: killed before any checkpoint; 9: mid-epoch, last checkpoint at 8; 10: after the
# epoch's last batch, before its end (evaluation, history); 12: right after a checkpoint;
# 20: checkpoint taken at the last batch of epoch 2 (loader at its end) then killed;
# 27: mid-epoch 3, checkpoint at 24 after the epoch-2 one.
@pytest.mark.parametrize("kill_at", [3, 9, 10, 12, 20, 27])
def test_sigkill_then_resume_is_bit_for_bit_equal(tmp_path, uninterrupted, kill_at):
    r = _run(tmp_path, "--kill-at", str(kill_at))
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    assert not (tmp_path / "final.npz").exists()
    if kill_at >= 4:
        assert _loop(tmp_path)["iteration"] == kill_at // 4 * 4
    r = _run(tmp_path, "--resume")
    assert r.returncode == 0, r.stderr
    _assert_same(tmp_path, uninterrupted)


@pytest.fixture(scope="module")
def uninterrupted_augmented(tmp_path_factory):
    out = tmp_path_factory.mktemp("augmented")
    r = _run(out, "--augment")
    assert r.returncode == 0, r.stderr
    return _final(out)


@pytest.mark.parametrize("kill_at", [9, 20])
def test_resume_with_a_random_augmentation_is_bit_for_bit_equal(
    tmp_path, uninterrupted, uninterrupted_augmented, kill_at
):
    r = _run(tmp_path, "--augment", "--kill-at", str(kill_at))
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    _, meta = read_checkpoint(tmp_path / "checkpoint.npz")
    assert list(meta["state"]["transforms"]["train"]) == ["transform"]  # the flip's generator
    assert _run(tmp_path, "--augment", "--resume").returncode == 0
    _assert_same(tmp_path, uninterrupted_augmented)
    # The flips matter: the augmented run differs from the plain one.
    assert not np.array_equal(uninterrupted_augmented[0]["l1.W"], uninterrupted[0]["l1.W"])


def test_killed_twice_then_resumed(tmp_path, uninterrupted):
    assert _run(tmp_path, "--kill-at", "9").returncode == -signal.SIGKILL
    assert _run(tmp_path, "--resume", "--kill-at", "22").returncode == -signal.SIGKILL
    loop = _loop(tmp_path)
    assert (loop["epoch"], loop["iteration"], loop["iteration_in_epoch"]) == (2, 20, 0)
    assert _run(tmp_path, "--resume").returncode == 0
    _assert_same(tmp_path, uninterrupted)


def test_killed_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, uninterrupted):
    # The 3rd write is the checkpoint of iteration 10 (4, 8, then 10 at the epoch end).
    r = _run(tmp_path, "--kill-in-write", "3")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _loop(tmp_path)["iteration"] == 8
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # the half-done temporary file, never the real name
    assert _run(tmp_path, "--resume").returncode == 0
    _assert_same(tmp_path, uninterrupted)
    # The Checkpoint callback cleared what the killed write left at the next start.
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# ---- in-process checks with the tiny net ------------------------------------------------
def _trainer(tiny, out, n_hidden=8, names=("W1", "b1", "W2", "b2"), **kw):
    x, t = tiny.data(64, seed=1)
    net = tiny.Net(n_hidden=n_hidden, names=names)
    opt = tiny.SGD(lr=0.1).setup(net)
    return Trainer(net, tiny.loss, opt, tiny.ListLoader(x, t, 16), gpu=False, out=out,
                   metrics={"acc": tiny.acc}, progress=False, **kw)


def test_a_failed_write_leaves_the_previous_checkpoint(tiny, tmp_path, monkeypatch):
    tr = _trainer(tiny, tmp_path, callbacks=[Checkpoint()])
    tr.fit(1)
    _, before = read_checkpoint(tmp_path / "checkpoint.npz")

    def crash(f, arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ckmod, "write_npz", crash)
    with pytest.raises(OSError, match="disk full"):
        tr.fit(2)
    monkeypatch.undo()
    _, after = read_checkpoint(tmp_path / "checkpoint.npz")
    assert after == before and after["state"]["loop"]["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


@pytest.mark.parametrize(
    "other, words",
    [
        ({"n_hidden": 5}, ["shape mismatch", "W1", "(2, 8)", "(2, 5)"]),
        ({"names": ("A", "b1", "W2", "b2")}, ["missing parameters ['A']",
                                              "unexpected parameters ['W1']"]),
    ],
)
def test_another_models_checkpoint_is_refused_before_anything_changes(
    tiny, tmp_path, other, words
):
    src = _trainer(tiny, tmp_path / "a", callbacks=[Checkpoint()])
    src.fit(2)
    dst = _trainer(tiny, tmp_path / "b", **other)
    dst.fit(1)
    weights = dst.model.state_dict()
    opt_state = dst.optimizer.state_dict()
    rng = drandom.get_state()
    iteration = dst.iteration
    with pytest.raises(CheckpointError) as info:
        dst.fit(3, resume=tmp_path / "a" / "checkpoint.npz")
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    assert "nothing was changed" in msg
    for k, v in dst.model.state_dict().items():
        assert np.array_equal(v, weights[k])
    assert dst.optimizer.state_dict().keys() == opt_state.keys()
    for k, v in dst.optimizer.state_dict().items():
        assert np.array_equal(v, opt_state[k])
    assert drandom.get_state() == rng
    assert len(dst.history) == 1 and dst.epoch == 1
    assert dst.iteration == iteration


def test_not_a_checkpoint_is_refused(tiny, tmp_path):
    np.savez(tmp_path / "weights.npz", W1=np.zeros((2, 8)))
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    tr = _trainer(tiny, tmp_path)
    with pytest.raises(CheckpointError, match="no '__meta__' entry"):
        tr.load_checkpoint(tmp_path / "weights.npz")
    with pytest.raises(CheckpointError, match="not a .npz"):
        tr.load_checkpoint(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        tr.fit(1, resume=True)


def test_checkpoint_holds_no_pickles_and_documented_layout(tiny, tmp_path):
    tr = _trainer(tiny, tmp_path, callbacks=[Checkpoint(every_n_iters=3)])
    tr.fit(1)
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as z:
        names = sorted(z.files)
        assert all(z[k].dtype != object for k in names)
    assert {"model/W1", "model/b2", "optimizer/t", "optimizer/state/W1/v", "__meta__"} <= set(
        names
    )
    _, meta = read_checkpoint(tmp_path / "checkpoint.npz")
    loop = meta["state"]["loop"]
    assert loop["epoch"] == 1 and loop["iteration"] == 4 and loop["iteration_in_epoch"] == 0
    assert meta["state"]["random"]["dezero"] == drandom.get_state()


def test_callback_state_with_arrays_survives_a_checkpoint(tiny, tmp_path):
    from dezero.train import EarlyStopping

    es = EarlyStopping(monitor="loss", patience=5, restore_best=True)
    src = _trainer(tiny, tmp_path, callbacks=[es, Checkpoint()])
    src.fit(3)
    fresh = EarlyStopping(monitor="loss", patience=5, restore_best=True)
    dst = _trainer(tiny, tmp_path, callbacks=[fresh, Checkpoint()])
    dst.load_checkpoint()
    assert (fresh.best, fresh.best_epoch, fresh.wait) == (es.best, es.best_epoch, es.wait)
    assert fresh.best_epoch >= 1 and sorted(fresh.best_weights) == ["W1", "W2", "b1", "b2"]
    for k, v in es.best_weights.items():
        assert np.array_equal(fresh.best_weights[k], v)
    assert dst.history.records == src.history.records and dst.epoch == 3


def test_resume_at_an_epoch_end_left_early_by_max_iters_matches_an_uninterrupted_run(tmp_path):
    # With max_iters_per_epoch the loop leaves each epoch before the loader's end; an
    # uninterrupted run then starts every epoch with a fresh order, and so must a resume.
    import numpy as np

    from dezero.core import random as R
    from dezero.data import ArrayDataset, DataLoader
    from dezero.nn import functions as F
    from dezero.nn.layers import Linear
    from dezero.nn.optimizers import SGD
    from dezero.train import Checkpoint, Trainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    T = rng.integers(0, 3, 20)

    def make(out):
        R.seed(0)
        model = Linear(3, in_size=4)
        return Trainer(
            model, F.softmax_cross_entropy, SGD(0.1).setup(model),
            DataLoader(ArrayDataset(X, T), 4), gpu=False, out=out, seed=0, progress=False,
            max_iters_per_epoch=2, callbacks=[Checkpoint()],
        )

    a = make(tmp_path / "a")
    a.fit(3)
    make(tmp_path / "b").fit(1)
    c = make(tmp_path / "b")
    c.fit(3, resume=True)
    assert [r["loss"] for r in c.history] == [r["loss"] for r in a.history]
    assert np.array_equal(c.model.W.data, a.model.W.data)
    assert np.array_equal(c.model.b.data, a.model.b.data)


def test_write_state_keeps_names_that_np_savez_takes_as_its_own_arguments(tmp_path):
    # np.savez(f, **arrays) dropped an "allow_pickle" entry and failed on a "file" one.
    state = {"allow_pickle": np.arange(3.0), "file": np.array([[1, 2]], dtype=np.int32), "n": 4}
    ckmod.write_state(tmp_path / "s.npz", state)
    back = ckmod.read_state(tmp_path / "s.npz")
    assert sorted(back) == ["allow_pickle", "file", "n"] and back["n"] == 4
    assert np.array_equal(back["allow_pickle"], np.array([0.0, 1.0, 2.0]))
    assert back["file"].dtype == np.int32 and back["file"].tolist() == [[1, 2]]
