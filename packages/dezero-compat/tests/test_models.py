"""dezero.compat.models: Sequential.layers, MLP, VGG16's preprocess and pretrained file."""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest

import dezero.compat.functions as F
import dezero.compat.layers as L
from dezero.compat import models, utils
from dezero.compat.models import MLP, VGG16, Sequential


def test_sequential_has_layers_in_order():
    a, b = L.Linear(3), L.Linear(2)
    seq = Sequential(a, F.relu, b)
    assert seq.layers == [a, F.relu, b] and seq.l0 is a and seq.l2 is b
    x = np.random.RandomState(0).randn(4, 5).astype(np.float32)
    y = seq(x)
    np.testing.assert_allclose(y.data, np.maximum(x @ a.W.data, 0) @ b.W.data, rtol=1e-5)


def test_mlp_draws_dezeros_weights_layer_by_layer():
    np.random.seed(0)
    mlp = MLP((4, 2))
    x = np.ones((1, 3), np.float32)
    y = mlp(x)
    rs = np.random.RandomState(0)
    w0 = rs.randn(3, 4).astype(np.float32) * np.float32(np.sqrt(1 / 3))
    w1 = rs.randn(4, 2).astype(np.float32) * np.float32(np.sqrt(1 / 4))
    np.testing.assert_allclose(y.data, (1 / (1 + np.exp(-(x @ w0)))) @ w1, rtol=1e-5)
    assert [n for n, _ in mlp.named_params()] == ["l0.W", "l0.b", "l1.W", "l1.b"]
    assert len(mlp.layers) == 2


def test_vgg16_preprocess():
    from PIL import Image

    rgb = np.random.RandomState(1).randint(0, 256, size=(5, 7, 3)).astype(np.uint8)
    img = Image.fromarray(rgb)
    a = VGG16.preprocess(img, size=None)
    assert a.shape == (3, 5, 7) and a.dtype == np.float32
    # BGR order, ImageNet's BGR means subtracted, channels first.
    means = [103.939, 116.779, 123.68]
    for c, src in enumerate((2, 1, 0)):
        np.testing.assert_allclose(a[c], rgb[:, :, src] - np.float32(means[c]), rtol=1e-6)
    assert VGG16.preprocess(img).shape == (3, 224, 224)


def test_vgg16_pretrained_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(utils, "cache_dir", str(tmp_path))

    def offline(url, file_name=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(utils, "get_file", offline)
    with pytest.raises(FileNotFoundError, match=r"put it at .*vgg16\.npz.*pretrained="):
        VGG16(pretrained=True)
    with pytest.raises(FileNotFoundError, match="not found: .*nothere.npz"):
        VGG16(pretrained=str(tmp_path / "nothere.npz"))
    # A file in DeZero's cache is what pretrained=True reads (no download then).
    (tmp_path / "vgg16.npz").write_bytes(b"")
    assert models._pretrained_file(True) == str(tmp_path / "vgg16.npz")


def test_vgg16_structure_and_resnets():
    m = VGG16()
    names = [n for n, _ in m.named_params()]
    assert names[:2] == ["conv1_1.W", "conv1_1.b"] and names[-2:] == ["fc8.W", "fc8.b"]
    assert len(names) == 32
    with pytest.raises(ValueError, match="pretrained=True is not supported"):
        models.ResNet50(pretrained=True)
    assert models.ResNet101().n_layers == 101 and models.ResNet152().n_layers == 152


def test_squeezenet_is_dezeros_empty_placeholder():
    model = models.SqueezeNet()
    assert isinstance(model, models.Model)
    assert list(model.params()) == []  # DeZero 0.0.13's has no layers
    with pytest.raises(NotImplementedError, match="SqueezeNet: .*empty placeholder"):
        model(np.zeros((1, 3, 224, 224), np.float32))
    with pytest.raises(NotImplementedError, match="SqueezeNet: pretrained=True"):
        models.SqueezeNet(pretrained=True)
