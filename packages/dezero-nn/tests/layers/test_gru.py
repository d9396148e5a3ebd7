"""GRU against PyTorch's GRU equations written out here in NumPy, gate by gate."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.core.backend import device_of
from dezero.core.testing import HostGPUBackend, gradient_check, isolated_backends, to_host, to_xp
from dezero.nn.layers import GRU, Layer, Linear


def sig(x):
    return 1 / (1 + np.exp(-x))


def gru_reference(xs, Wx, bx, Wh, bh):
    """h for each step of ``xs`` (T, N, D), from h = 0; W* are (in, 3H), blocks r, z, n."""
    H = Wh.shape[0]
    W_ir, W_iz, W_in = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    W_hr, W_hz, W_hn = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    b_ir, b_iz, b_in = bx[:H], bx[H:2 * H], bx[2 * H:]
    b_hr, b_hz, b_hn = bh[:H], bh[H:2 * H], bh[2 * H:]
    h = np.zeros((xs.shape[1], H))
    out = []
    for x in xs:
        r = sig(x @ W_ir + b_ir + h @ W_hr + b_hr)
        z = sig(x @ W_iz + b_iz + h @ W_hz + b_hz)
        n = np.tanh(x @ W_in + b_in + r * (h @ W_hn + b_hn))
        h = (1 - z) * n + z * h
        out.append(h)
    return out


def _weights(gru):
    return [to_host(p.data) for p in (gru.x2h.W, gru.x2h.b, gru.h2h.W, gru.h2h.b)]


def _randomise_biases(gru, seed):
    # Linear starts its biases at 0; non-zero ones check that every bias reaches its gate.
    rng = np.random.default_rng(seed)
    for b in (gru.x2h.b, gru.h2h.b):
        b.data = rng.standard_normal(b.shape).astype(b.dtype)


def test_forward_matches_reference_and_resets(xp):
    rng = np.random.default_rng(0)
    H = 3
    gru = GRU(H, in_size=2, dtype=np.float64)
    _randomise_biases(gru, 1)
    if xp is not np:
        gru.to_gpu()
    xs = rng.standard_normal((4, 5, 2))
    want = gru_reference(xs, *_weights(gru))
    for x, h in zip(xs, want):
        out = gru(to_xp(xp, x))
        assert out.shape == (5, H) and out.dtype == np.float64
        np.testing.assert_allclose(to_host(out), h, rtol=1e-10, atol=1e-12)
    gru.reset_state()
    assert gru.h is None
    fresh = gru_reference(xs[2:3], *_weights(gru))[0]  # xs[2] from h = 0
    np.testing.assert_allclose(to_host(gru(to_xp(xp, xs[2]))), fresh, rtol=1e-10, atol=1e-12)


def test_gradients_match_numerical_for_input_and_every_parameter():
    rng = np.random.default_rng(2)
    gru = GRU(3, in_size=2, dtype=np.float64)
    _randomise_biases(gru, 3)
    xs = rng.standard_normal((3, 2, 2))
    weights = [rng.uniform(0.5, 1.5, (2, 3)) for _ in xs]

    def loss(x):  # every step's h contributes, so the gradient goes through the recurrence
        gru.reset_state()
        total = 0
        for t in range(x.shape[0]):
            total = total + (gru(x[t]) * weights[t]).sum()
        return total

    assert gradient_check(loss, xs, rtol=1e-6, atol=1e-8)

    names = [n for n, _ in gru.named_params()]
    assert names == ["x2h.W", "x2h.b", "h2h.W", "h2h.b"]
    gru.cleargrads()
    loss(Variable(xs)).backward()
    eps = 1e-6
    for name, p in gru.named_params():
        num = np.zeros(p.shape)
        for idx in np.ndindex(*p.shape):
            orig = p.data[idx]
            p.data[idx] = orig + eps
            fp = float(loss(Variable(xs)).data)
            p.data[idx] = orig - eps
            fm = float(loss(Variable(xs)).data)
            p.data[idx] = orig
            num[idx] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(p.grad.data, num, rtol=1e-6, atol=1e-8, err_msg=name)


def test_lazy_in_size_and_float32_kept():
    gru = GRU(4)
    assert gru.x2h.W.data is None and gru.h2h.W.shape == (4, 12) and gru.h2h.b.shape == (12,)
    xs = np.random.default_rng(4).standard_normal((3, 2, 5)).astype(np.float32)
    for x in xs:
        h = gru(x)
    assert gru.x2h.W.shape == (5, 12)
    assert h.dtype == np.float32 and h.shape == (2, 4)
    assert all(p.dtype == np.float32 for p in gru.params())
    ref = gru_reference(xs.astype(np.float64), *[w.astype(np.float64) for w in _weights(gru)])
    np.testing.assert_allclose(h.data, ref[-1], rtol=1e-5, atol=1e-6)


def test_state_is_not_a_parameter_and_bad_size_is_refused():
    gru = GRU(2, in_size=2)
    gru(np.ones((1, 2), np.float32))
    assert gru.h is not None
    assert list(gru.state_dict()) == ["x2h.W", "x2h.b", "h2h.W", "h2h.b"]
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match="GRU: hidden_size must be a positive int"):
            GRU(bad)


class Tagger(Layer):
    def __init__(self):
        super().__init__()
        self.rnn = GRU(4)
        self.fc = Linear(2)

    def forward(self, x):
        return self.fc(self.rnn(x))


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_weights_roundtrip_gives_identical_outputs(tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors", reason="pip install safetensors")
    random.seed(5)
    xs = np.random.default_rng(6).standard_normal((3, 2, 3)).astype(np.float32)
    src = Tagger()
    _randomise_biases(src.rnn, 7)
    want = [src(x).data for x in xs]
    path = tmp_path / f"tagger{suffix}"
    src.save_weights(path)
    dst = Tagger()  # lazy: the load builds x2h.W and fc.W
    dst.load_weights(path)
    assert [n for n, _ in dst.named_params()] == [
        "rnn.x2h.W", "rnn.x2h.b", "rnn.h2h.W", "rnn.h2h.b", "fc.W", "fc.b"]
    for x, w in zip(xs, want):
        np.testing.assert_array_equal(dst(x).data, w)


def test_lazy_gru_is_built_on_the_inputs_gpu():
    b = HostGPUBackend(devices=2)
    with isolated_backends(b):
        random.seed(8)
        gru = GRU(3, dtype=np.float64)
        cpu = GRU(3, dtype=np.float64)
        gru.to_gpu("cuda:1")
        xs = np.random.default_rng(9).standard_normal((2, 4, 5))
        for x in xs:
            h = gru(Variable(x).to_gpu("cuda:1"))
        assert device_of(h) == device_of(gru.x2h.W) == device_of(gru.h2h.b) == "cuda:1"
        cpu.load_state_dict(gru.state_dict())
        for x in xs:
            hc = cpu(x)
        np.testing.assert_allclose(to_host(h), hc.data, rtol=1e-12)
