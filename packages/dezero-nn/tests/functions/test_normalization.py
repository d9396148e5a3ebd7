"""batch_norm and layer_norm against NumPy formulas; running averages; gradients."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import test_mode
from dezero.core.testing import (
    check_backward,
    check_double_backward,
    check_dtype_preserved,
    check_forward,
    to_host,
    to_xp,
)


def rng(seed: int = 0) -> np.random.Generator:
    """The test data's generator (seeded per use, so every run sees the same data)."""
    return np.random.default_rng(20260 + seed)


def _bn_ref(x, gamma, beta, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma.reshape(shape) * (x - mu) / np.sqrt(var + eps) + beta.reshape(shape)


@pytest.mark.parametrize("xs", [(5, 3), (4, 3, 2, 2)])
def test_batch_norm_training(xp, xs):
    r = rng()
    x = r.normal(size=xs) * 2 + 1
    gamma, beta = r.normal(size=3), r.normal(size=3)
    mean, var = to_xp(xp, np.zeros(3)), to_xp(xp, np.ones(3))

    def f(x, g, b):
        return F.batch_norm(x, g, b, mean, var, decay=0.9, eps=1e-5)

    check_forward(xp, f, [x, gamma, beta], lambda x, g, b: _bn_ref(x, g, b, 1e-5), rtol=1e-10)
    axes = (0,) + tuple(range(2, len(xs)))
    m = x.size // 3
    np.testing.assert_allclose(to_host(mean), 0.1 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(to_host(var), 0.9 + 0.1 * x.var(axis=axes) * m / (m - 1), rtol=1e-12)
    check_backward(xp, f, [x, gamma, beta])


def test_batch_norm_double_backward(xp):
    r = rng(1)
    mean, var = to_xp(xp, np.zeros(2)), to_xp(xp, np.ones(2))
    f = lambda x, g, b: F.batch_norm(x, g, b, mean, var)  # noqa: E731
    check_double_backward(xp, f, [r.normal(size=(3, 2)), r.normal(size=2), r.normal(size=2)])


def test_batch_norm_test_mode_uses_running_averages(xp):
    r = rng(2)
    x = r.normal(size=(4, 3, 2, 2))
    gamma, beta = r.normal(size=3), r.normal(size=3)
    mean, var = r.normal(size=3), r.uniform(0.5, 2, size=3)
    m0, v0 = to_xp(xp, mean.copy()), to_xp(xp, var.copy())

    def f(x, g, b):
        return F.batch_norm(x, g, b, m0, v0, eps=2e-5)

    def ref(x, g, b):
        s = (1, 3, 1, 1)
        return g.reshape(s) * (x - mean.reshape(s)) / np.sqrt(var.reshape(s) + 2e-5) + b.reshape(s)

    with test_mode():
        check_forward(xp, f, [x, gamma, beta], ref, rtol=1e-10)
        check_backward(xp, f, [x, gamma, beta])
    np.testing.assert_array_equal(to_host(m0), mean)  # untouched in test mode
    np.testing.assert_array_equal(to_host(v0), var)


def test_batch_norm_float32_and_errors(xp):
    r = rng(3)
    mean, var = to_xp(xp, np.zeros(3, np.float32)), to_xp(xp, np.ones(3, np.float32))
    f = lambda x, g, b: F.batch_norm(x, g, b, mean, var)  # noqa: E731
    inputs = [r.normal(size=s).astype(np.float32) for s in [(4, 3), (3,), (3,)]]
    check_dtype_preserved(xp, f, inputs)
    assert mean.dtype == np.float32 and var.dtype == np.float32
    with pytest.raises(ValueError, match=r"batch_norm: gamma must have shape \(3,\) .* \(4, 3\)"):
        F.batch_norm(np.zeros((4, 3)), np.zeros(2), np.zeros(3), np.zeros(3), np.ones(3))


def test_layer_norm(xp):
    r = rng(4)
    x, gamma, beta = r.normal(size=(2, 3, 4)), r.normal(size=4), r.normal(size=4)

    def ref(x, g, b):
        mu = x.mean(-1, keepdims=True)
        return g * (x - mu) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) + b

    check_forward(xp, F.layer_norm, [x, gamma, beta], ref, rtol=1e-10)
    check_backward(xp, F.layer_norm, [x, gamma, beta])
    check_double_backward(xp, F.layer_norm, [x[0, :2], gamma, beta])
    check_dtype_preserved(xp, F.layer_norm, [a.astype(np.float32) for a in (x, gamma, beta)])
    with pytest.raises(ValueError, match=r"layer_norm: beta must have shape \(4,\)"):
        F.layer_norm(x, gamma, np.zeros(3))
