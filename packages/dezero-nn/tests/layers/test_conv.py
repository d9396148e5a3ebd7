"""Conv2d and Deconv2d layers against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import random
from dezero.nn.layers import Conv2d, Deconv2d


def naive_conv(x, W, b, s, p):
    n, c, h, w = x.shape
    oc, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for q in range(ow):
                    patch = xp[i, :, r * s:r * s + kh, q * s:q * s + kw]
                    y[i, o, r, q] = np.sum(patch * W[o]) + b[o]
    return y


def naive_deconv(x, W, b, s, p):
    n, c, h, w = x.shape
    _, oc, kh, kw = W.shape
    full = np.zeros((n, oc, s * (h - 1) + kh, s * (w - 1) + kw))
    for i in range(n):
        for ci in range(c):
            for r in range(h):
                for q in range(w):
                    full[i, :, r * s:r * s + kh, q * s:q * s + kw] += x[i, ci, r, q] * W[ci]
    y = full[:, :, p:full.shape[2] - p, p:full.shape[3] - p]
    return y + b.reshape(1, -1, 1, 1)


def test_conv2d_lazy_channels_and_naive_reference():
    rng = np.random.default_rng(0)
    conv = Conv2d(4, kernel_size=3, stride=2, pad=1)
    conv.b.data = rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    y = conv(x)
    assert conv.W.shape == (4, 3, 3, 3) and conv.in_channels == 3
    np.testing.assert_allclose(y.data, naive_conv(x, conv.W.data, conv.b.data, 2, 1),
                               rtol=1e-4, atol=1e-5)


def test_conv2d_default_init_scale():
    random.seed(3)
    conv = Conv2d(2, 3, in_channels=5)
    ref = np.random.Generator(np.random.PCG64(3)).standard_normal((2, 5, 3, 3)) * np.sqrt(
        1 / 45)
    np.testing.assert_array_equal(conv.W.data, ref.astype(np.float32))


def test_conv2d_rejects_non_4d_input():
    with pytest.raises(ValueError, match="Conv2d: input must be 4-D"):
        Conv2d(2, 3)(np.zeros((3, 4, 4), np.float32))


@pytest.mark.parametrize("kw", [dict(kernel_size=0), dict(kernel_size=3, stride=0),
                                dict(kernel_size=3, pad=-1)])
def test_conv2d_bad_args(kw):
    with pytest.raises(ValueError, match="Conv2d"):
        Conv2d(2, **kw)


def test_deconv2d_naive_reference():
    rng = np.random.default_rng(1)
    de = Deconv2d(3, kernel_size=3, stride=2, pad=1)
    de.b.data = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    y = de(x)
    assert de.W.shape == (4, 3, 3, 3)
    np.testing.assert_allclose(y.data, naive_deconv(x, de.W.data, de.b.data, 2, 1),
                               rtol=1e-4, atol=1e-5)
