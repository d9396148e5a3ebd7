"""BatchNorm, EmbedID, RNN, LSTM and Dropout layers against NumPy written out here."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random, test_mode
from dezero.nn.layers import LSTM, RNN, BatchNorm, Dropout, EmbedID


def sig(x):
    return 1 / (1 + np.exp(-x))


def test_batchnorm_train_then_test_mode():
    rng = np.random.default_rng(0)
    bn = BatchNorm(decay=0.9, eps=1e-5)
    x = rng.standard_normal((16, 3)).astype(np.float64) * 2 + 1
    y = bn(x)
    mu, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y.data, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-6, atol=1e-6)
    m = x.shape[0]
    np.testing.assert_allclose(bn.avg_mean, 0.1 * mu, rtol=1e-6)
    # running variance: the unbiased estimate, as Chainer and DeZero keep it
    np.testing.assert_allclose(bn.avg_var, 0.9 + 0.1 * var * m / (m - 1), rtol=1e-6)
    with test_mode():
        y2 = bn(x)
    np.testing.assert_allclose(y2.data, (x - bn.avg_mean) / np.sqrt(bn.avg_var + 1e-5),
                               rtol=1e-6, atol=1e-6)


def test_batchnorm_4d_uses_channel_axis():
    bn = BatchNorm()
    bn(np.zeros((2, 5, 3, 3), np.float32))
    assert bn.gamma.shape == (5,) and bn.avg_mean.dtype == np.float32


def test_batchnorm_bad_args():
    with pytest.raises(ValueError, match="BatchNorm: invalid decay"):
        BatchNorm(decay=2)


def test_embed_id_lookup_and_grad():
    emb = EmbedID(5, 3)
    ids = np.array([[0, 4], [4, 2]])
    y = emb(ids)
    np.testing.assert_array_equal(y.data, emb.W.data[ids])
    y.sum().backward()
    counts = np.bincount(ids.ravel(), minlength=5)[:, None] * np.ones((1, 3))
    np.testing.assert_array_equal(emb.W.grad.data, counts)


def test_rnn_matches_reference_and_resets():
    rng = np.random.default_rng(0)
    rnn = RNN(4, in_size=3, dtype=np.float64)
    xs = rng.standard_normal((3, 2, 3))
    Wx, b, Wh = rnn.x2h.W.data, rnn.x2h.b.data, rnn.h2h.W.data
    h = None
    for x in xs:
        z = x @ Wx + b + (0 if h is None else h @ Wh)
        h = np.tanh(z)
        out = rnn(x)
        np.testing.assert_allclose(out.data, h, rtol=1e-10)
    rnn.reset_state()
    np.testing.assert_allclose(rnn(xs[0]).data, np.tanh(xs[0] @ Wx + b), rtol=1e-10)


def test_lstm_matches_reference_and_backprops():
    rng = np.random.default_rng(1)
    H = 3
    lstm = LSTM(H, in_size=2, dtype=np.float64)
    xs = rng.standard_normal((4, 5, 2))
    Wx, b, Wh = lstm.x2h.W.data, lstm.x2h.b.data, lstm.h2h.W.data
    h = c = None
    for x in xs:
        z = x @ Wx + b + (0 if h is None else h @ Wh)
        f, i, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 2 * H:3 * H])
        u = np.tanh(z[:, 3 * H:])
        c = i * u if c is None else f * c + i * u
        h = o * np.tanh(c)
        out = lstm(x)
        np.testing.assert_allclose(out.data, h, rtol=1e-10)
    out.sum().backward()
    assert lstm.h2h.W.grad is not None and lstm.x2h.W.grad.shape == (2, 4 * H)
    lstm.reset_state()
    assert lstm.h is None and lstm.c is None


def test_recurrent_state_is_not_a_parameter():
    lstm = LSTM(2, in_size=2)
    lstm(np.ones((1, 2), np.float32))
    assert [n for n, _ in lstm.named_params()] == ["x2h.W", "x2h.b", "h2h.W"]


def test_dropout_train_and_test():
    random.seed(0)
    d = Dropout(0.5)
    x = np.ones((1000, 10), np.float32)
    y = d(Variable(x)).data
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(y[kept], 2.0)
    with test_mode():
        np.testing.assert_array_equal(d(x).data, x)
    with pytest.raises(ValueError, match="Dropout: invalid dropout_ratio"):
        Dropout(1.0)
