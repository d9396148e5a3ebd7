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


class _Seq(Model):
    # DeZero's names for a model with an LSTM: rnn/x2f/W ... rnn/h2u/W, fc/W, fc/b.
    def __init__(self, hidden):
        super().__init__()
        self.rnn = L.LSTM(hidden)
        self.fc = L.Linear(1)

    def forward(self, x):
        return self.fc(self.rnn(x))


def _dezero_lstm_file(path, rs, H, D):
    """A weight file as DeZero 0.0.13 writes it for ``_Seq``: eight gate Linears."""
    arrays = {}
    for g in "fiou":
        arrays[f"rnn/x2{g}/W"] = rs.randn(D, H).astype(np.float32)
        arrays[f"rnn/x2{g}/b"] = rs.randn(H).astype(np.float32)
        arrays[f"rnn/h2{g}/W"] = rs.randn(H, H).astype(np.float32)
    arrays["fc/W"] = rs.randn(H, 1).astype(np.float32)
    arrays["fc/b"] = rs.randn(1).astype(np.float32)
    np.savez(path, **arrays)
    return arrays


def _dezero_lstm_steps(a, xs):
    """DeZero's LSTM equations (one Linear per gate), step by step, then ``fc``."""
    h = c = None
    out = []
    for x in xs:
        z = {g: x @ a[f"rnn/x2{g}/W"] + a[f"rnn/x2{g}/b"] for g in "fiou"}
        if h is not None:
            z = {g: z[g] + h @ a[f"rnn/h2{g}/W"] for g in "fiou"}
        f, i, o, u = _sig(z["f"]), _sig(z["i"]), _sig(z["o"]), np.tanh(z["u"])
        c = i * u if c is None else f * c + i * u
        h = o * np.tanh(c)
        out.append(h @ a["fc/W"] + a["fc/b"])
    return out


def test_lstm_loads_dezeros_eight_gate_layers(tmp_path):
    H, D = 4, 3
    rs = np.random.RandomState(30)
    arrays = _dezero_lstm_file(tmp_path / "dz.npz", rs, H, D)
    xs = [rs.randn(2, D).astype(np.float32) for _ in range(3)]
    model = _Seq(H)  # x2h not built yet: sized by the file
    model.load_weights(str(tmp_path / "dz.npz"))
    ys = [model(x).data for x in xs]
    for y, ref in zip(ys, _dezero_lstm_steps(arrays, xs), strict=True):
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    # Written back in DeZero's layout, block for block.
    model.save_weights(str(tmp_path / "back.npz"))
    with np.load(tmp_path / "back.npz") as f:
        assert set(f.files) == set(arrays)
        for k, v in arrays.items():
            np.testing.assert_array_equal(f[k], v)


def test_lstm_gate_files_refused_when_incomplete(tmp_path):
    rs = np.random.RandomState(31)
    arrays = _dezero_lstm_file(tmp_path / "dz.npz", rs, 4, 3)
    del arrays["rnn/x2o/W"]
    np.savez(tmp_path / "bad.npz", **arrays)
    model = _Seq(4)
    model(np.ones((1, 3), np.float32))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"_Seq.load_weights: the LSTM at 'rnn' .*lacks "
                                         r"\['rnn.x2o.W'\]"):
        model.load_weights(str(tmp_path / "bad.npz"))
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # nothing changed
