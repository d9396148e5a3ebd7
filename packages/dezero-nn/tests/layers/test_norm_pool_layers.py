"""LayerNorm, MaxPool2d, AvgPool2d and Flatten layers against NumPy written out here."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import dezero.nn.functions as F
import dezero.nn.layers.normalization as normalization_module
import dezero.nn.layers.pooling as pooling_module
from dezero.core import Variable
from dezero.nn.layers import AvgPool2d, Flatten, LayerNorm, Linear, MaxPool2d
from dezero.nn.models import Sequential


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(31000 + seed)


def _layer_norm_ref(x, g, b, eps):
    out = np.empty_like(x)
    flat, res = x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1])
    for i, row in enumerate(flat):  # one row at a time, statistics written out
        mu = sum(row) / len(row)
        var = sum((v - mu) ** 2 for v in row) / len(row)
        res[i] = (row - mu) / np.sqrt(var + eps) * g + b
    return out


def _central_diff(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        fp = f()
        a[idx] = old - eps
        fm = f()
        a[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


# ---------------------------------------------------------------------------- LayerNorm
def test_layer_norm_forward_matches_numpy():
    ln = LayerNorm(5, eps=1e-3, dtype=np.float64)
    ln.gamma.data = rng(1).uniform(0.5, 2, 5)
    ln.beta.data = rng(2).normal(size=5)
    x = rng(3).normal(size=(2, 3, 5)) * 3 + 1
    np.testing.assert_allclose(ln(x).data, _layer_norm_ref(x, ln.gamma.data, ln.beta.data, 1e-3),
                               rtol=1e-10, atol=1e-12)


def test_layer_norm_defaults_are_ones_and_zeros_float32():
    ln = LayerNorm(4)
    np.testing.assert_array_equal(ln.gamma.data, np.ones(4))
    np.testing.assert_array_equal(ln.beta.data, np.zeros(4))
    assert ln.gamma.dtype == np.float32 and ln.eps == 1e-5
    y = ln(rng(4).normal(size=(3, 4)).astype(np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data.mean(axis=-1), 0, atol=1e-6)


def test_layer_norm_gradients_match_numerical():
    ln = LayerNorm(4, dtype=np.float64)
    ln.gamma.data = rng(5).uniform(0.5, 2, 4)
    ln.beta.data = rng(6).normal(size=4)
    x = rng(7).normal(size=(3, 4))
    w = rng(8).normal(size=(3, 4))  # a random weighting, so the gradient is not trivially 0
    xv = Variable(x.copy())
    (ln(xv) * w).sum().backward()

    def loss():
        return float((_layer_norm_ref(x, ln.gamma.data, ln.beta.data, 1e-5) * w).sum())

    np.testing.assert_allclose(xv.grad.data, _central_diff(loss, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ln.gamma.grad.data, _central_diff(loss, ln.gamma.data),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ln.beta.grad.data, _central_diff(loss, ln.beta.data),
                               rtol=1e-5, atol=1e-7)


def test_layer_norm_lazy_size():
    ln = LayerNorm()
    assert ln.gamma.data is None and ln.beta.data is None
    x = rng(9).normal(size=(2, 7)).astype(np.float32)
    y = ln(x)
    assert ln.normalized_size == 7 and ln.gamma.shape == (7,) and ln.beta.shape == (7,)
    np.testing.assert_allclose(y.data, _layer_norm_ref(x, np.ones(7), np.zeros(7), 1e-5),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"LayerNorm: input's last axis must be "
                                         r"normalized_size=7, got shape \(2, 6\)"):
        ln(np.zeros((2, 6), np.float32))


def test_layer_norm_weights_round_trip(tmp_path):
    src = LayerNorm(3, dtype=np.float64)
    src.gamma.data = rng(10).normal(size=3)
    src.beta.data = rng(11).normal(size=3)
    path = tmp_path / "ln.npz"
    src.save_weights(path)
    dst = LayerNorm(dtype=np.float64)  # lazy: the file sets the size
    dst.load_weights(path)
    np.testing.assert_array_equal(dst.gamma.data, src.gamma.data)
    np.testing.assert_array_equal(dst.beta.data, src.beta.data)
    assert dst.normalized_size == 3
    x = rng(12).normal(size=(2, 3))
    np.testing.assert_array_equal(dst(x).data, src(x).data)
    wrong = LayerNorm(4, dtype=np.float64)
    before = wrong.gamma.data.copy()
    with pytest.raises(ValueError, match=r"shape mismatch for 'gamma'.*\(4,\).*\(3,\)"):
        wrong.load_weights(path)
    np.testing.assert_array_equal(wrong.gamma.data, before)  # a failed load changes nothing
    lazy = LayerNorm(dtype=np.float64)
    with pytest.raises(ValueError, match=r"gamma and beta must both have shape"):
        lazy.load_state_dict({"gamma": np.ones(3), "beta": np.zeros(4)})
    assert lazy.gamma.data is None and lazy.normalized_size is None


@pytest.mark.parametrize("kw, match", [
    ({"normalized_size": 0}, "LayerNorm: normalized_size must be a positive int, got 0"),
    ({"normalized_size": 2.5}, "LayerNorm: normalized_size must be a positive int"),
    ({"eps": 0.0}, "LayerNorm: eps must be a positive number, got 0.0"),
    ({"dtype": np.int32}, "LayerNorm: dtype must be a float dtype, got int32"),
])
def test_layer_norm_bad_args(kw, match):
    with pytest.raises(ValueError, match=match):
        LayerNorm(**kw)


def test_layer_norm_refuses_0d_input():
    with pytest.raises(ValueError, match=r"LayerNorm: input must have at least 1 dimension"):
        LayerNorm()(np.float32(1.0))


# ---------------------------------------------------------------------------- pooling
def _pool_ref(x, k, s, p, op):
    # Naive loops; max pads with -inf, average pads with zeros and divides by kh * kw.
    n, c, h, w = x.shape
    fill = -np.inf if op == "max" else 0.0
    xp_ = np.full((n, c, h + 2 * p[0], w + 2 * p[1]), fill)
    xp_[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    oh = (h + 2 * p[0] - k[0]) // s[0] + 1
    ow = (w + 2 * p[1] - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for a in range(n):
        for b in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = xp_[a, b, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
                    out[a, b, i, j] = win.max() if op == "max" else win.sum() / (k[0] * k[1])
    return out


def test_max_pool_matches_function_and_naive_loop():
    x = rng(13).normal(size=(2, 3, 7, 6))
    layer = MaxPool2d(3, pad=1)  # stride defaults to the kernel size, as PyTorch
    assert layer.stride == (3, 3)
    y = layer(x).data
    np.testing.assert_array_equal(y, F.pooling(x, 3, stride=3, pad=1).data)
    np.testing.assert_array_equal(y, _pool_ref(x, (3, 3), (3, 3), (1, 1), "max"))
    y2 = MaxPool2d((2, 3), stride=(1, 2)).forward(x).data
    np.testing.assert_array_equal(y2, _pool_ref(x, (2, 3), (1, 2), (0, 0), "max"))


def test_avg_pool_matches_function_and_naive_loop():
    x = rng(14).normal(size=(2, 3, 8, 7))
    layer = AvgPool2d(2, pad=1)
    y = layer(x).data
    np.testing.assert_allclose(y, F.average_pooling(x, 2, stride=2, pad=1).data, rtol=1e-12)
    np.testing.assert_allclose(y, _pool_ref(x, (2, 2), (2, 2), (1, 1), "avg"), rtol=1e-12)
    y2 = AvgPool2d(3, stride=1).forward(x).data
    np.testing.assert_allclose(y2, _pool_ref(x, (3, 3), (1, 1), (0, 0), "avg"), rtol=1e-12)


def test_flatten_matches_function_and_reshape():
    x = rng(15).normal(size=(4, 2, 3, 5))
    y = Flatten()(x).data
    np.testing.assert_array_equal(y, F.flatten(x).data)
    np.testing.assert_array_equal(y, np.array([v.ravel() for v in x]))


@pytest.mark.parametrize("make", [lambda: MaxPool2d(2), lambda: AvgPool2d(2), Flatten])
def test_shape_layers_hold_no_parameters(make):
    layer = make()
    layer(np.zeros((1, 2, 4, 4), np.float32))
    assert list(layer.named_params()) == [] and layer.state_dict() == {}


def test_layers_in_sequential_train_end_to_end():
    x = rng(16).normal(size=(2, 1, 8, 8))
    net = Sequential(MaxPool2d(2), AvgPool2d(2), Flatten(), LayerNorm(dtype=np.float64),
                     Linear(3, dtype=np.float64))
    y = net(x)
    assert y.shape == (2, 3)
    h = _pool_ref(_pool_ref(x, (2, 2), (2, 2), (0, 0), "max"), (2, 2), (2, 2), (0, 0), "avg")
    h = _layer_norm_ref(h.reshape(2, -1), np.ones(4), np.zeros(4), 1e-5)
    lin = net[-1]
    np.testing.assert_allclose(y.data, h @ lin.W.data + lin.b.data, rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert sorted(n.rsplit(".", 1)[-1] for n, p in net.named_params() if p.grad is not None) \
        == ["W", "b", "beta", "gamma"]


@pytest.mark.parametrize("make, match", [
    (lambda: MaxPool2d(0), r"MaxPool2d: kernel_size must be an int >= 1 or a pair, got 0"),
    (lambda: AvgPool2d(2, stride=(1, 0)), r"AvgPool2d: stride must be an int >= 1"),
    (lambda: MaxPool2d(2, pad=-1), r"MaxPool2d: pad must be an int >= 0"),
    (lambda: AvgPool2d(2, pad=2), r"AvgPool2d: pad \(2, 2\) must be smaller than kernel_size"),
])
def test_pool_bad_args(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_pool_bad_input_names_the_function():
    with pytest.raises(ValueError, match=r"pooling: x must be 4-d \(N, C, H, W\), got shape"):
        MaxPool2d(2)(np.zeros((2, 3)))


@pytest.mark.parametrize("obj", [LayerNorm, MaxPool2d, AvgPool2d, Flatten])
def test_docstring_examples_run(obj):
    module = normalization_module if obj is LayerNorm else pooling_module
    globs = {**vars(module), "np": np}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for t in doctest.DocTestFinder(recurse=False).find(obj, obj.__name__, globs=globs):
        runner.run(t)
    assert runner.failures == 0 and runner.tries >= 1
