"""Tests of dezero.nn.weights: atomic writing, damaged files, formats."""

from __future__ import annotations

import io
import os
import stat
import sys
import warnings

import numpy as np
import pytest

from dezero.core import Parameter, random, test_mode
from dezero.nn import functions as F
from dezero.nn import weights
from dezero.nn.layers import BatchNorm, Layer, Linear
from dezero.nn.models import MLP
from dezero.nn.weights import DeZeroFormatWarning, WeightFileError, load_npz, save_npz


def test_saved_weight_file_has_the_mode_a_plain_open_would_give(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "w.npz"
        save_npz(path, {"a": np.arange(3.0)})
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        assert np.array_equal(load_npz(path)["a"], np.array([0.0, 1.0, 2.0]))
        assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary left behind
    finally:
        os.umask(mask)



def test_names_that_np_savez_takes_as_its_own_arguments_round_trip(tmp_path):
    # np.savez(f, **arrays) dropped "allow_pickle" silently and failed on "file".
    class Odd(Layer):
        def __init__(self):
            super().__init__()
            self.file = Parameter(np.arange(6.0).reshape(2, 3))
            self.allow_pickle = Parameter(np.array([1.0, -1.0]))

    src = Odd()
    src.save_weights(tmp_path / "odd.npz")
    assert sorted(load_npz(tmp_path / "odd.npz")) == ["allow_pickle", "file"]
    dst = Odd()
    dst.file.data[...] = 0
    dst.allow_pickle.data[...] = 0
    dst.load_weights(tmp_path / "odd.npz")
    assert np.array_equal(dst.file.data, np.arange(6.0).reshape(2, 3))
    assert np.array_equal(dst.allow_pickle.data, np.array([1.0, -1.0]))

# ---- damaged files -------------------------------------------------------------------


def _valid_npz_bytes() -> bytes:
    buf = io.BytesIO()
    # Zeros of one member: the middle of the file is that member's data.
    np.savez(buf, **{"l0.W": np.zeros((3, 4), np.float32), "l0.b": np.zeros(4, np.float32),
                     "l1.W": np.zeros((4, 2), np.float32), "l1.b": np.zeros(2, np.float32)})
    return buf.getvalue()


def _crc_broken(raw: bytes) -> bytes:
    # Flip one byte of the first member's array data (after its local header and .npy header).
    i = raw.index(b"\x93NUMPY") + 128 + 4
    return raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:]


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


def _pickled_npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{"l0.W": np.array([None, 1], dtype=object)})
    return buf.getvalue()


DAMAGED = {
    "empty": (lambda: b"", "is empty"),
    "truncated": (lambda: _valid_npz_bytes()[:300], "truncated"),
    "crc": (lambda: _crc_broken(_valid_npz_bytes()), "damaged .*CRC"),
    "npy": (_npy_bytes, r"single-array \.npy file"),
    "text": (lambda: b"l0.W = [[1, 2], [3, 4]]\n", "text, not a .npz"),
    "binary": (lambda: bytes(range(7, 200)), r"not a \.npz archive"),
    "pickled": (_pickled_npz_bytes, "pickled Python objects"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_npz_raises_weight_file_error_naming_file_and_problem(tmp_path, kind):
    make, problem = DAMAGED[kind]
    path = tmp_path / f"{kind}.npz"
    path.write_bytes(make())
    random.seed(0)
    model = MLP((4, 2))
    model(np.ones((1, 3), np.float32))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(WeightFileError) as info:
        model.load_weights(path)
    msg = str(info.value)
    assert str(path) in msg and info.match(problem)
    assert "allow_pickle" not in msg
    # No raw BadZipFile/EOFError traceback chained under it.
    e = info.value
    assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP((2,)).load_weights(tmp_path / "none.npz")


# ---- DeZero 0.0.13's files ------------------------------------------------------------
def _dezero_file(tmp_path, d):
    # What DeZero 0.0.13's Layer.save_weights writes: np.savez_compressed, names joined by "/".
    path = tmp_path / "dezero.npz"
    np.savez_compressed(path, **d)
    return path


def test_dezero_0_0_13_file_loads_and_says_so(tmp_path):
    rng = np.random.default_rng(0)
    d = {"l0/W": rng.standard_normal((3, 4)).astype(np.float32),
         "l0/b": rng.standard_normal(4).astype(np.float32),
         "l1/W": rng.standard_normal((4, 2)).astype(np.float32),
         "l1/b": rng.standard_normal(2).astype(np.float32)}
    path = _dezero_file(tmp_path, d)
    model = MLP((4, 2), activation=F.relu)
    with pytest.warns(DeZeroFormatWarning, match="DeZero 0.0.13 weight file"):
        model.load_weights(path)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    want = np.maximum(x @ d["l0/W"] + d["l0/b"], 0) @ d["l1/W"] + d["l1/b"]
    np.testing.assert_allclose(model(x).data, want, rtol=1e-6, atol=1e-6)


def test_dezero_batchnorm_names_map_to_dezero_nn(tmp_path):
    class Net(Layer):
        def __init__(self):
            super().__init__()
            self.bn = BatchNorm()

        def forward(self, x):
            return self.bn(x)

    d = {"bn/avg_mean": np.array([1.0, 2.0], np.float32),
         "bn/avg_var": np.array([4.0, 9.0], np.float32),
         "bn/gamma": np.array([1.0, 1.0], np.float32),
         "bn/beta": np.array([0.0, 1.0], np.float32)}
    net = Net()
    with pytest.warns(DeZeroFormatWarning):
        net.load_weights(_dezero_file(tmp_path, d))
    x = np.array([[3.0, 5.0]], np.float32)
    with test_mode():
        y = net(x).data
    want = (x - d["bn/avg_mean"]) / np.sqrt(d["bn/avg_var"] + 2e-5) + d["bn/beta"]
    np.testing.assert_allclose(y, want, rtol=1e-6)


def test_from_dezero_names_is_public_and_one_to_one():
    assert weights.is_dezero_names(["conv1_1/W", "fc6/b"])
    assert not weights.is_dezero_names(["l0.W"]) and not weights.is_dezero_names([])
    a = np.zeros(1)
    assert list(weights.from_dezero_names({"block/l0/W": a, "fc/b": a})) == [
        "block.l0.W", "fc.b"]


def test_name_mismatch_lists_every_name_and_hints_at_the_format(tmp_path):
    z = np.zeros((2, 2), np.float32)
    path = _dezero_file(tmp_path, {"fc1/W": z, "fc1/b": z[0], "fc2/W": z})
    model = MLP((2, 2))
    model(np.ones((1, 2), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeZeroFormatWarning)
        with pytest.raises(ValueError) as info:
            model.load_weights(path)
    msg = str(info.value)
    for name in ("l0.W", "l0.b", "l1.W", "l1.b", "fc1.W", "fc1.b", "fc2.W"):
        assert repr(name) in msg, name
    assert "DeZero 0.0.13's names" in msg and str(path) in msg


# ---- safetensors --------------------------------------------------------------------
def test_safetensors_missing_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.raises(ImportError, match=r'pip install "dezero-nn\[safetensors\]"'):
        Linear(2, in_size=2).save_weights(tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []
