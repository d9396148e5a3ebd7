"""dezero.compat.layers: DeZero's draws from NumPy's global generator, scoped to compat's
layers; DeZero's LSTM/RNN recurrences; BatchNorm's Parameters; DeZero's weight files."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat.layers as L
import dezero.nn.layers as NL
from dezero.compat import Variable, test_mode
from dezero.compat.models import Model
from dezero.core import random as core_random


def _randn_scaled(rs, shape, fan, dtype=np.float32):
    # DeZero's exact expression, evaluated as NumPy 1.x did: the float64 scale is cast to
    # the array's dtype before the product.
    return rs.randn(*shape).astype(dtype) * np.asarray(np.sqrt(1 / fan)).astype(dtype)


def test_linear_draws_dezeros_weights():
    np.random.seed(0)
    lin = L.Linear(3, in_size=4)
    np.testing.assert_array_equal(lin.W.data, _randn_scaled(np.random.RandomState(0), (4, 3), 4))
    assert lin.W.dtype == np.float32 and lin.b.data.tolist() == [0, 0, 0]
    np.random.seed(1)
    lazy = L.Linear(2)
    assert lazy.W.data is None
    y = lazy(np.ones((5, 3), np.float32))
    np.testing.assert_array_equal(lazy.W.data, _randn_scaled(np.random.RandomState(1), (3, 2), 3))
    assert type(y) is Variable


def test_conv_layers_draw_dezeros_weights():
    np.random.seed(2)
    c = L.Conv2d(4, kernel_size=3, in_channels=2)
    np.testing.assert_array_equal(
        c.W.data, _randn_scaled(np.random.RandomState(2), (4, 2, 3, 3), 2 * 9))
    np.random.seed(3)
    d = L.Deconv2d(4, kernel_size=2, in_channels=3)
    np.testing.assert_array_equal(
        d.W.data, _randn_scaled(np.random.RandomState(3), (3, 4, 2, 2), 3 * 4))


def test_embed_id_is_float64_randn():
    np.random.seed(4)
    e = L.EmbedID(5, 3)
    np.testing.assert_array_equal(e.W.data, np.random.RandomState(4).randn(5, 3))
    np.testing.assert_array_equal(e(np.array([1, 4])).data, e.W.data[[1, 4]])


def test_native_layers_never_touch_numpys_global_generator():
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    core_random.seed(0)
    a = NL.Linear(3, in_size=4).W.data
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(6)  # a different global seed changes nothing natively
    core_random.seed(0)
    np.testing.assert_array_equal(NL.Linear(3, in_size=4).W.data, a)


def _sig(z):
    return 1 / (1 + np.exp(-z))


def test_lstm_is_dezeros_lstm_draw_for_draw():
    # DeZero: h2f, h2i, h2o, h2u (H, H) drawn at construction; x2f, x2i, x2o, x2u (I, H)
    # drawn at the first call, in that order; biases zero.
    H, D = 3, 2
    np.random.seed(7)
    lstm = L.LSTM(H)
    x = np.random.RandomState(99).randn(4, D).astype(np.float32)
    h1 = lstm(x)
    h2 = lstm(x)
    rs = np.random.RandomState(7)
    Wh = [_randn_scaled(rs, (H, H), H) for _ in range(4)]
    Wx = [_randn_scaled(rs, (D, H), D) for _ in range(4)]
    f, i, o, u = (_sig(x @ Wx[0]), _sig(x @ Wx[1]), _sig(x @ Wx[2]), np.tanh(x @ Wx[3]))
    c = i * u
    h = o * np.tanh(c)
    np.testing.assert_allclose(h1.data, h, rtol=1e-5)
    f, i, o = (_sig(x @ Wx[k] + h @ Wh[k]) for k in range(3))
    u = np.tanh(x @ Wx[3] + h @ Wh[3])
    c = f * c + i * u
    np.testing.assert_allclose(h2.data, o * np.tanh(c), rtol=1e-5)


def test_rnn_draws_h2h_at_its_first_use_as_dezero():
    np.random.seed(8)
    rnn = L.RNN(3)
    x = np.ones((1, 2), np.float32)
    h1 = rnn(x)
    h2 = rnn(x)
    rs = np.random.RandomState(8)
    Wx = _randn_scaled(rs, (2, 3), 2)
    Wh = _randn_scaled(rs, (3, 3), 3)  # drawn at the second step, after x2h
    np.testing.assert_allclose(h1.data, np.tanh(x @ Wx), rtol=1e-6)
    np.testing.assert_allclose(h2.data, np.tanh(x @ Wx + np.tanh(x @ Wx) @ Wh), rtol=1e-6)


def test_batch_norm_statistics_are_parameters():
    bn = L.BatchNorm()
    x = np.random.RandomState(9).randn(10, 3)
    y = bn(x)
    mu, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(y.data, (x - mu) / np.sqrt(var + 2e-5), rtol=1e-10)
    # Running averages with decay 0.9, the variance unbiased (n / (n - 1)).
    np.testing.assert_allclose(bn.avg_mean.data, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.avg_var.data, 0.9 + 0.1 * var * 10 / 9, rtol=1e-12)
    with test_mode():
        z = bn(x)
    np.testing.assert_allclose(
        z.data, (x - bn.avg_mean.data) / np.sqrt(bn.avg_var.data + 2e-5), rtol=1e-10)


class _Net(Model):
    def __init__(self):
        super().__init__()
        self.l0 = L.Linear(3)
        self.bn = L.BatchNorm()

    def forward(self, x):
        return self.bn(self.l0(x))


def test_weight_files_use_dezeros_names(tmp_path):
    np.random.seed(10)
    net = _Net()
    x = np.random.RandomState(1).randn(4, 2).astype(np.float32)
    y = net(x)
    path = tmp_path / "w.npz"
    net.save_weights(str(path))
    with np.load(path) as f:
        keys = set(f.files)
        np.testing.assert_array_equal(f["l0/W"], net.l0.W.data)
    assert keys == {"l0/W", "l0/b", "bn/avg_mean", "bn/avg_var", "bn/gamma", "bn/beta"}
    other = _Net()
    other.load_weights(str(path))
    with test_mode():
        np.testing.assert_allclose(other(x).data, net(x).data)
    assert y.shape == (4, 3)
    # DeZero's own writer (np.savez) without the suffix: ".npz" is added as NumPy does.
    np.savez(tmp_path / "dz", **{k: v for k, v in np.load(path).items()})
    _Net().load_weights(str(tmp_path / "dz"))


def test_weight_file_with_other_names_is_refused_and_changes_nothing(tmp_path):
    net = _Net()
    net(np.ones((2, 2), np.float32))
    before = net.l0.W.data.copy()
    np.savez(tmp_path / "bad.npz", **{"l1/W": np.zeros((2, 3), np.float32)})
    with pytest.raises(ValueError, match=r"missing .*l0\.W.*unexpected .*l1\.W"):
        net.load_weights(str(tmp_path / "bad.npz"))
    np.testing.assert_array_equal(net.l0.W.data, before)


def test_call_records_weak_inputs_and_outputs():
    lin = L.Linear(2, in_size=2)
    x = Variable(np.ones((1, 2), np.float32))
    y = lin(x)
    assert lin.inputs[0]() is x and lin.outputs[0]() is y
    params = {}
    _Net()._flatten_params(params)
    assert set(params) == {"l0/W", "l0/b", "bn/avg_mean", "bn/avg_var", "bn/gamma", "bn/beta"}
