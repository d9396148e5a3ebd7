"""Weights in .safetensors: PyTorch's own file loads with the names mapped, every bundled
model round-trips exactly, damaged files are refused without changes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import random, test_mode
from dezero.nn import layers as L
from dezero.nn import weights
from dezero.nn.models import MLP, VGG16, ResNet18, ResNet34, ResNet50, Sequential
from dezero.nn.weights import WeightFileError

DATA = Path(__file__).resolve().parent / "data"

# PyTorch's nn.Sequential(Linear(4, 8), Sigmoid(), Linear(8, 3)) -> dezero's MLP((8, 3)):
# module index -> layer name; PyTorch's weight is (out, in), dezero's W is (in, out).
TORCH_TO_DEZERO = {"0.weight": "l0.W", "0.bias": "l0.b", "2.weight": "l1.W", "2.bias": "l1.b"}


def test_pytorch_written_file_gives_pytorchs_outputs(tmp_path):
    torch_arrays = weights.load_safetensors(DATA / "torch_mlp.safetensors")
    assert sorted(torch_arrays) == sorted(TORCH_TO_DEZERO)
    mapped = {}
    for tname, dname in TORCH_TO_DEZERO.items():
        a = torch_arrays[tname]
        mapped[dname] = a.T if tname.endswith("weight") else a
    path = tmp_path / "mlp.safetensors"
    weights.save_safetensors(path, mapped)
    model = MLP((8, 3))  # sigmoid between, as the PyTorch network
    model.load_weights(path)
    assert model.l0.W.shape == (4, 8) and model.l1.W.shape == (8, 3)
    with np.load(DATA / "torch_mlp_outputs.npz", allow_pickle=False) as ref:
        x, y_torch = ref["x"], ref["y"]
    y = model(x).data
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, y_torch, rtol=1e-5, atol=1e-6)


def _cnn():
    return Sequential(L.Conv2d(4, 3, pad=1), L.BatchNorm(), F.relu,
                      lambda h: F.reshape(h, (h.shape[0], -1)), L.Linear(5))


MODELS = {
    "mlp": (lambda: MLP((6, 3)), (4, 5)),
    "sequential_cnn": (_cnn, (2, 3, 6, 6)),
    "vgg16": (lambda: VGG16(n_classes=4, fc_size=8), (1, 3, 32, 32)),
    "resnet18": (lambda: ResNet18(n_classes=4), (1, 3, 32, 32)),
    "resnet34": (lambda: ResNet34(n_classes=4), (1, 3, 32, 32)),
    "resnet50": (lambda: ResNet50(n_classes=4), (1, 3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_of_every_bundled_model_gives_identical_outputs(tmp_path, name):
    make, shape = MODELS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    random.seed(1)
    src = make()
    src(x)  # builds lazy layers; in training mode BatchNorm's statistics move off 0/1
    path = tmp_path / f"{name}.safetensors"
    src.save_weights(path)
    random.seed(2)  # a differently initialised, unbuilt copy
    dst = make()
    dst.load_weights(path)
    sd_src, sd_dst = src.state_dict(), dst.state_dict()
    assert list(sd_src) == list(sd_dst)
    for k in sd_src:
        np.testing.assert_array_equal(sd_dst[k], sd_src[k], err_msg=k)
        assert sd_dst[k].dtype == sd_src[k].dtype, k
    with test_mode():
        np.testing.assert_array_equal(dst(x).data, src(x).data)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def _valid(tmp_path) -> bytes:
    random.seed(3)
    m = MLP((3, 2))
    m(np.ones((1, 2), np.float32))
    p = tmp_path / "src.safetensors"
    m.save_weights(p)
    data = p.read_bytes()
    p.unlink()
    return data


def _header_len(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def _bad_json(data: bytes) -> bytes:
    n = _header_len(data)
    return data[:8] + b"!" + data[9:8 + n] + data[8 + n:]


def _wrong_offsets(data: bytes) -> bytes:
    n = _header_len(data)
    header = json.loads(data[8:8 + n])
    header["l0.W"]["data_offsets"][1] += 4  # points past the buffer
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data[8 + n:]


DAMAGED = {
    "empty": (lambda d: b"", "is empty"),
    "short": (lambda d: d[:5], "truncated"),
    "truncated_data": (lambda d: d[:-6], "damaged"),
    "huge_header": (lambda d: struct.pack("<Q", 10**12) + d[8:], "header claims"),
    "bad_json": (_bad_json, "damaged"),
    "wrong_offsets": (_wrong_offsets, "damaged"),
    "npz_inside": (lambda d: b"PK\x03\x04" + bytes(60), "not a .safetensors file"),
    "text": (lambda d: b"weights: none\n" * 3, "not a .safetensors file"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_safetensors_is_refused_and_changes_nothing(tmp_path, kind):
    damage, problem = DAMAGED[kind]
    path = tmp_path / f"{kind}.safetensors"
    path.write_bytes(damage(_valid(tmp_path)))
    random.seed(4)
    model = MLP((3, 2))
    model(np.ones((1, 2), np.float32))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(WeightFileError) as info:
        model.load_weights(path)
    assert str(path) in str(info.value) and info.match(problem)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_safetensors_gets_the_same_checks_as_npz(tmp_path):
    path = tmp_path / "int.safetensors"
    weights.save_safetensors(path, {"l0.W": np.ones((2, 3), np.int32),
                                    "l0.b": np.ones(3, np.float32)})
    model = MLP((3,))
    with pytest.raises(TypeError, match=r"'l0.W' has dtype int32"):
        model.load_weights(path)
    assert model.l0.W.data is None


def test_suffix_chooses_the_format(tmp_path):
    m = MLP((2,))
    m(np.ones((1, 2), np.float32))
    m.save_weights(tmp_path / "a.safetensors")
    m.save_weights(tmp_path / "a.npz")
    assert (tmp_path / "a.npz").read_bytes()[:2] == b"PK"
    raw = (tmp_path / "a.safetensors").read_bytes()
    header = json.loads(raw[8:8 + _header_len(raw)])
    assert sorted(k for k in header if k != "__metadata__") == ["l0.W", "l0.b"]
    assert header["l0.W"]["dtype"] == "F32" and header["l0.W"]["shape"] == [2, 2]
