"""Trainer.state_dict/load_state_dict: every component checked before any is applied."""

from __future__ import annotations

import copy
import zipfile

import numpy as np
import pytest

from dezero.train import Checkpoint, CheckpointError, EarlyStopping, Trainer
from dezero.train.state import StateError


def _equal(a, b) -> bool:
    """Deep equality of nested dicts/lists holding arrays (NaN equal to NaN)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    return a == b or (a != a and b != b)


def _snapshot(trainer):
    s = trainer.state_dict()
    s["loop"].pop("time")
    return s


def _adam_trainer(out, seed=0, **kw):
    import dezero.nn.functions as F
    from dezero.data import ArrayDataset, DataLoader
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import Adam

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    t = (x[:, 0] > 0).astype(np.int64)
    model = MLP((6, 2))
    return Trainer(
        model, F.softmax_cross_entropy, Adam().setup(model),
        DataLoader(ArrayDataset(x[:40], t[:40]), 8), DataLoader(ArrayDataset(x[40:], t[40:]), 10),
        gpu=False, out=out, seed=seed, progress=False,
        callbacks=[EarlyStopping(monitor="loss", patience=9, restore_best=True), Checkpoint()],
        **kw,
    )


@pytest.fixture
def saved(tmp_path):
    """A trainer two and a half epochs in, and the state of another one at epoch 1."""
    src = _adam_trainer(tmp_path / "src", max_iters_per_epoch=None)
    src.fit(1)
    state = src.state_dict()
    dst = _adam_trainer(tmp_path / "dst")
    dst.fit(2)
    for _ in range(2):  # and some batches into epoch 3, so the partial sums are not empty
        next(iter(dst.train_loader))
    return state, dst


def _breakers():
    def drop_one_adam_entry(s):
        del s["optimizer"]["state/l1.W/v"]

    def misshape_adam_entry(s):
        s["optimizer"]["state/l0.b/m"] = np.zeros(5, np.float32)

    def wrong_dtype_adam_entry(s):
        s["optimizer"]["state/l0.b/m"] = s["optimizer"]["state/l0.b/m"].astype(np.float64)

    def negative_epoch(s):
        s["loop"]["epoch"] = -1

    def string_iteration(s):
        s["loop"]["iteration"] = "5"

    def partial_beyond_epoch(s):
        s["loop"]["iteration_in_epoch"] = 99

    def broken_rng(s):
        s["random"]["dezero"]["state"] = {"state": "x"}

    def loader_position(s):
        s["loaders"]["train"]["position"] = 6

    def loader_rng(s):
        s["loaders"]["test"]["rng_state"] = {"bit_generator": "MT19937"}

    def history_length(s):
        s["history"]["records"].append({"epoch": 2, "loss": 0.1})

    def history_value(s):
        s["history"]["records"][0]["loss"] = [1, 2]

    def callback_state(s):
        s["callbacks"][0]["state"]["wait"] = -3

    def summary_counts(s):
        s["loop"]["summary"]["counts"] = {"loss": -1}

    def model_int_weights(s):
        s["model"]["l1.W"] = s["model"]["l1.W"].astype(np.int64)

    def string_hyper(s):
        key = next(k for k in s["optimizer"] if k.startswith("hyper/"))
        s["optimizer"][key] = np.array("x")

    def loader_not_a_dict(s):
        s["loaders"]["train"] = [1, 2]

    def another_optimizer(s):
        s["settings"]["optimizer"] = "SGD"

    def another_world_size(s):  # a data-parallel run's state in one process
        s["settings"]["world_size"] = 2

    return {f.__name__: f for f in (
        drop_one_adam_entry, misshape_adam_entry, wrong_dtype_adam_entry, negative_epoch,
        string_iteration, partial_beyond_epoch, broken_rng, loader_position, loader_rng,
        history_length, history_value, callback_state, summary_counts, model_int_weights,
        another_optimizer, string_hyper, loader_not_a_dict, another_world_size,
    )}


@pytest.mark.parametrize("name", list(_breakers()))
def test_a_state_that_fails_any_check_changes_nothing(saved, name):
    from dezero.core import random as drandom

    state, dst = saved
    bad = copy.deepcopy(state)
    _breakers()[name](bad)
    before = _snapshot(dst)
    rng = drandom.get_state()
    loader_pos = dst.train_loader.position
    with pytest.raises(StateError):
        dst.load_state_dict(bad)
    assert _equal(_snapshot(dst), before)
    assert drandom.get_state() == rng and dst.train_loader.position == loader_pos


def test_the_messages_name_the_component(saved):
    state, dst = saved
    expect = {
        "drop_one_adam_entry": r"'l1.W' has state entries \['m', 'step'\].*missing \['v'\]",
        "negative_epoch": r"loop: epoch must be >= 0, got -1",
        "broken_rng": r"random\['dezero'\] is not a valid PCG64 state",
        "loader_position": r"loaders\['train'\]: position must be \[0, 5\], got 6",
        "callback_state": r"callbacks: EarlyStopping: wait must be an int >= 0",
        "another_optimizer": r"settings: 'optimizer' is 'Adam' here but 'SGD'",
        "another_world_size": r"settings: the saved run was written by 2 ranks, this run has 1",
        "model_int_weights": r"model: 'l1.W' must be a float array, got int64",
    }
    for name, pattern in expect.items():
        bad = copy.deepcopy(state)
        _breakers()[name](bad)
        with pytest.raises(StateError, match=pattern):
            dst.load_state_dict(bad)


def test_a_good_state_round_trips_exactly(saved, tmp_path):
    state, dst = saved
    dst.load_state_dict(state)
    got = dst.state_dict()
    for part in ("model", "optimizer", "loaders", "callbacks", "history", "random"):
        assert _equal(got[part], state[part]), part
    assert dst.epoch == 1 and len(dst.history) == 1


def _checkpoint(tmp_path):
    tr = _adam_trainer(tmp_path / "run")
    tr.fit(1)
    return tr, tmp_path / "run" / "checkpoint.npz"


def _damage(path, how, tmp_path):
    data = path.read_bytes()
    bad = tmp_path / f"{how}.npz"
    if how == "empty":
        bad.write_bytes(b"")
    elif how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "crc":
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("model/l1.W.npy")
        # Flip a byte of that member's array data (past the zip and .npy headers).
        pos = info.header_offset + 30 + len(info.filename) + 140
        bad.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    elif how == "npy":
        np.save(bad.with_suffix(".npy"), np.zeros(3))
        bad.write_bytes(bad.with_suffix(".npy").read_bytes())
    elif how == "text":
        bad.write_text("epoch,loss\n1,0.5\n")
    elif how == "bad-json":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("__meta__.npy", data[:0])
    return bad


@pytest.mark.parametrize("how", ["empty", "truncated", "crc", "npy", "text", "bad-json"])
def test_damaged_files_raise_checkpoint_error_naming_the_file(tmp_path, how):
    tr, path = _checkpoint(tmp_path)
    bad = _damage(path, how, tmp_path)
    before = _snapshot(tr)
    with pytest.raises(CheckpointError) as info:
        tr.load_checkpoint(bad)
    msg = str(info.value)
    assert str(bad) in msg and "allow_pickle" not in msg
    assert _equal(_snapshot(tr), before)


def test_a_checkpoint_of_another_run_names_the_file_and_changes_nothing(tmp_path):
    tr, path = _checkpoint(tmp_path)
    other = _adam_trainer(tmp_path / "other", seed=1)
    before = _snapshot(other)
    with pytest.raises(CheckpointError, match=r"does not fit.*'seed' is 1 here but 0"):
        other.load_checkpoint(path)
    assert _equal(_snapshot(other), before)
