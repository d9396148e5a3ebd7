"""Model, Sequential, MLP, VGG16 and ResNet: structure, names and parameter counts."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import random
from dezero.nn import functions as F
from dezero.nn import layers as L
from dezero.nn.models import (
    MLP,
    VGG16,
    Model,
    ResNet,
    ResNet18,
    ResNet34,
    ResNet50,
    ResNet101,
    ResNet152,
    Sequential,
)


def n_params(model):
    return sum(p.size for p in model.params())


def test_mlp_paper_network():
    random.seed(0)
    model = MLP((1000, 10))
    x = np.zeros((3, 784), np.float32)
    y = model(x)
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert [n for n, _ in model.named_params()] == ["l0.W", "l0.b", "l1.W", "l1.b"]
    assert n_params(model) == 784 * 1000 + 1000 + 1000 * 10 + 10


def test_mlp_matches_numpy_forward():
    random.seed(1)
    model = MLP((4, 3), activation=F.relu)
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    model(x)
    W0, b0, W1, b1 = (p.data for p in model.params())
    want = np.maximum(x @ W0 + b0, 0) @ W1 + b1
    np.testing.assert_allclose(model(x).data, want, rtol=1e-5, atol=1e-6)


def test_mlp_needs_layers():
    with pytest.raises(ValueError, match="MLP"):
        MLP(())


def test_sequential_mixes_layers_and_functions():
    random.seed(2)
    net = Sequential(L.Linear(4, in_size=3), F.relu, L.Linear(2, in_size=4))
    assert [n for n, _ in net.named_params()] == ["l0.W", "l0.b", "l2.W", "l2.b"]
    x = np.ones((1, 3), np.float32)
    W0, b0, W1, b1 = (p.data for p in net.params())
    np.testing.assert_allclose(net(x).data, np.maximum(x @ W0 + b0, 0) @ W1 + b1, rtol=1e-6)
    assert len(net) == 3 and net[1] is F.relu
    with pytest.raises(TypeError, match="Sequential: item 0"):
        Sequential(3)


@pytest.mark.requires_system("dot")
def test_model_plot_writes_png(tmp_path):
    model = MLP((3, 2))
    out = model.plot(np.ones((1, 4), np.float32), to_file=str(tmp_path / "g.png"))
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_model_is_a_layer():
    assert issubclass(Model, L.Layer)


def test_vgg16_structure():
    model = VGG16(n_classes=7, fc_size=16)
    convs = [n for n, _ in model.named_params() if n.startswith("conv") and n.endswith(".W")]
    assert len(convs) == 13
    y = model(np.zeros((1, 3, 32, 32), np.float32))
    assert y.shape == (1, 7)
    conv_params = sum(p.size for n, p in model.named_params() if n.startswith("conv"))
    assert conv_params == 14_714_688  # the published count for VGG16's convolutions


@pytest.mark.parametrize("cls, total", [
    (ResNet18, 11_689_512), (ResNet34, 21_797_672), (ResNet50, 25_557_032),
    pytest.param(ResNet101, 44_549_160, marks=pytest.mark.slow),
    pytest.param(ResNet152, 60_192_808, marks=pytest.mark.slow),
])
def test_resnet_parameter_counts(cls, total):
    # Published counts (torchvision), with BatchNorm's gamma/beta; they exist after a call.
    model = cls()
    y = model(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32))
    assert y.shape == (2, 1000)
    assert n_params(model) == total


def test_resnet_bad_depth():
    with pytest.raises(ValueError, match="ResNet: n_layers"):
        ResNet(20)
