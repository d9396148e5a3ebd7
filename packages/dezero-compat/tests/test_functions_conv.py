"""dezero.compat.functions_conv: the simple versions against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat.functions_conv as FC
from dezero.compat.utils import gradient_check


def _conv_naive(x, w, b, s, p):
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for q in range(ow):
                    y[i, o, r, q] = np.sum(xp[i, :, r * s:r * s + kh, q * s:q * s + kw] * w[o])
                    y[i, o, r, q] += 0 if b is None else b[o]
    return y


def _pool_naive(x, k, s, p):
    # DeZero pads with zeros (its im2col does), also for max pooling.
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for q in range(ow):
            y[:, :, r, q] = xp[:, :, r * s:r * s + k, q * s:q * s + k].max(axis=(2, 3))
    return y


@pytest.mark.parametrize("s, p, bias", [(1, 0, True), (2, 1, False), (1, 1, True)])
def test_conv2d_simple(s, p, bias):
    rs = np.random.RandomState(0)
    x, w = rs.randn(2, 3, 5, 6), rs.randn(4, 3, 3, 3)
    b = rs.randn(4) if bias else None
    y = FC.conv2d_simple(x, w, b, stride=s, pad=p)
    np.testing.assert_allclose(y.data, _conv_naive(x, w, b, s, p), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(FC.conv2d(x, w, b, s, p).data, y.data, rtol=1e-10, atol=1e-12)
    assert gradient_check(lambda v: FC.conv2d_simple(v, w, b, stride=s, pad=p), x)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1)])
def test_pooling_simple(k, s, p):
    x = np.random.RandomState(1).randn(2, 3, 6, 6)
    y = FC.pooling_simple(x, k, s, p)
    np.testing.assert_allclose(y.data, _pool_naive(x, k, s, p))
    np.testing.assert_allclose(FC.pooling(x, k, s, p).data, y.data)
    assert gradient_check(lambda v: FC.pooling(v, k, s, p), x)
