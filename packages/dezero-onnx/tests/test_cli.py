"""The dezero-onnx command: a bundled architecture plus a weight file gives an ONNX model."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from dezero.core import Variable, test_mode
from dezero.nn import functions as F
from dezero.nn.models import MLP, VGG16, ResNet18
from dezero.onnx import cli


def _ort(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _ref(model, x):
    with test_mode():
        return model(Variable(x)).data


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_mlp_from_its_weight_file(activation, tmp_path, capsys):
    act = {"sigmoid": F.sigmoid, "relu": F.relu}[activation]
    model = MLP((12, 7, 4), activation=act)
    model(_x(1, 9))
    model.save_weights(tmp_path / "weights.npz")
    argv = ["mlp", str(tmp_path / "weights.npz"), "--activation", activation]
    assert cli.main(argv) == 0
    out = tmp_path / "weights.onnx"
    assert f"wrote {out}" in capsys.readouterr().out
    x = _x(6, 9, seed=1)
    np.testing.assert_allclose(_ort(out, x), _ref(model, x), rtol=1e-5, atol=1e-6)


def test_resnet18_with_a_small_input(tmp_path):
    model = ResNet18(n_classes=4)
    model(_x(2, 3, 32, 32))  # training mode: running averages move away from 0 and 1
    model.save_weights(tmp_path / "r.npz")
    out = tmp_path / "r.onnx"
    assert cli.main(["resnet18", str(tmp_path / "r.npz"), "-o", str(out),
                     "--input-shape", "3", "32", "32"]) == 0
    x = _x(3, 3, 32, 32, seed=2)
    np.testing.assert_allclose(_ort(out, x), _ref(model, x), rtol=1e-5, atol=1e-6)


def test_vgg16_sizes_come_from_the_weights(tmp_path):
    model = VGG16(n_classes=3, fc_size=8)
    model(_x(1, 3, 32, 32))
    model.save_weights(tmp_path / "v.npz")
    out = tmp_path / "v.onnx"
    assert cli.main(["vgg16", str(tmp_path / "v.npz"), "-o", str(out), "--input-shape",
                     "3", "32", "32", "--static-batch", "--batch", "2"]) == 0
    x = _x(2, 3, 32, 32, seed=3)
    np.testing.assert_allclose(_ort(out, x), _ref(model, x), rtol=1e-5, atol=1e-6)


def test_weights_of_another_architecture_are_refused(tmp_path, capsys):
    model = MLP((5, 2))
    model(_x(1, 3))
    model.save_weights(tmp_path / "w.npz")
    assert cli.main(["resnet18", str(tmp_path / "w.npz")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dezero-onnx: error: the weights do not fit resnet18: 'fc.b'")
    assert not (tmp_path / "w.onnx").exists()


def test_unreadable_and_missing_files_are_refused(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    assert cli.main(["mlp", str(bad)]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["mlp", str(tmp_path / "none.npz")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz"]


def test_input_shape_that_does_not_fit_is_refused(tmp_path, capsys):
    model = MLP((5, 2))
    model(_x(1, 3))
    model.save_weights(tmp_path / "w.npz")
    assert cli.main(["mlp", str(tmp_path / "w.npz"), "--input-shape", "4"]) == 1
    assert "does not fit mlp" in capsys.readouterr().err
    assert not (tmp_path / "w.onnx").exists()
