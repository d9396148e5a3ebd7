"""silu and huber_loss against NumPy written out here; gradients and second derivatives
numerically; float32 kept; argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable
from dezero.core.testing import (
    check_backward,
    check_double_backward,
    check_dtype_preserved,
    check_forward,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(32000 + seed)


# ---------------------------------------------------------------------------- silu
def _silu_ref(x):
    return np.vectorize(lambda v: v / (1 + math.exp(-v)))(x)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), ()])
def test_silu(xp, shape):
    x = rng(1).uniform(-4, 4, size=shape)
    check_forward(xp, F.silu, [x], _silu_ref, rtol=1e-12, atol=1e-14)
    check_forward(xp, F.silu, [x.astype(np.float32)], _silu_ref, rtol=1e-5, atol=1e-6)
    check_backward(xp, F.silu, [x])
    check_double_backward(xp, F.silu, [x])
    check_dtype_preserved(xp, F.silu, [x.astype(np.float32)])


def test_silu_closed_form_derivative_and_extremes():
    x = np.array([-800.0, -2.0, 0.0, 1.5, 800.0])
    xv = Variable(x)
    y = F.silu(xv)
    np.testing.assert_allclose(y.data, [0.0, -2 / (1 + math.e**2), 0.0,
                                        1.5 / (1 + math.exp(-1.5)), 800.0], rtol=1e-12)
    y.backward()
    s = 1 / (1 + np.exp(-x[1:4]))
    np.testing.assert_allclose(xv.grad.data[1:4], s * (1 + x[1:4] * (1 - s)), rtol=1e-12)
    np.testing.assert_allclose(xv.grad.data[[0, 4]], [0.0, 1.0], atol=1e-12)


# ---------------------------------------------------------------------------- huber
def _huber_elems(a, b, delta):
    out = []
    for u, v in zip(a.ravel(), b.ravel(), strict=True):
        d = float(u) - float(v)
        out.append(0.5 * d * d if abs(d) <= delta else delta * (abs(d) - 0.5 * delta))
    return np.array(out).reshape(a.shape)


def _pair(shape, delta, seed):
    # Errors spread over both zones, kept away from the kink at |d| = delta.
    a = rng(seed).uniform(-3, 3, size=shape) * delta
    b = rng(seed + 1).uniform(-3, 3, size=shape) * delta
    d = a - b
    near = np.abs(np.abs(d) - delta) < 0.05 * delta
    return np.where(near, b + 0.5 * delta, a), b


@pytest.mark.parametrize("reduction, divide", [
    ("mean", 12), ("batchmean", 3), ("sum", 1), ("none", None),
])
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber_loss(xp, reduction, divide, delta):
    a, b = _pair((3, 4), delta, 2)
    d = a - b
    assert (np.abs(d) < delta).any() and (np.abs(d) > delta).any()  # both zones present

    def f(a, b):
        return F.huber_loss(a, b, delta=delta, reduction=reduction)

    def ref(a, b):
        e = _huber_elems(a, b, delta)
        return e if divide is None else e.sum() / divide

    check_forward(xp, f, [a, b], ref, rtol=1e-12, atol=1e-14)
    check_backward(xp, f, [a, b])
    check_double_backward(xp, f, [a, b])
    check_dtype_preserved(xp, f, [a.astype(np.float32), b.astype(np.float32)])


def test_huber_loss_default_is_pytorch_mean_and_gradient_is_clipped_error():
    a = np.array([[0.0, 3.0, -1.0], [0.2, -4.0, 1.0]])
    b = np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 3.0]])
    x0, x1 = Variable(a), Variable(b)
    y = F.huber_loss(x0, x1)
    # elements: 0.125, 2.5, 0.5, 0.02, 3.5, 1.5 -> mean over all 6
    assert float(y.data) == pytest.approx((0.125 + 2.5 + 0.5 + 0.02 + 3.5 + 1.5) / 6, rel=1e-12)
    y.backward()
    np.testing.assert_allclose(x0.grad.data, np.clip(a - b, -1, 1) / 6, rtol=1e-12)
    np.testing.assert_allclose(x1.grad.data, -np.clip(a - b, -1, 1) / 6, rtol=1e-12)


def test_huber_loss_broadcasts_x1_as_mean_squared_error():
    a, b = rng(5).normal(size=(4, 3)) * 2, rng(6).normal(size=3)
    x1 = Variable(b)
    y = F.huber_loss(a, x1, delta=0.5, reduction="sum")
    want = _huber_elems(a, np.broadcast_to(b, a.shape), 0.5).sum()
    assert float(y.data) == pytest.approx(want, rel=1e-12)
    y.backward()
    np.testing.assert_allclose(x1.grad.data, -np.clip(a - b, -0.5, 0.5).sum(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match=r"huber_loss: x0 and x1 must have the same shape .*"
                                         r"\(4, 1\) and \(4,\)"):
        F.huber_loss(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("kw, exc, match", [
    ({"delta": 0.0}, ValueError, r"huber_loss: delta must be a positive finite number, got 0.0"),
    ({"delta": -1}, ValueError, r"huber_loss: delta must be a positive finite number, got -1"),
    ({"delta": float("inf")}, ValueError, r"huber_loss: delta must be a positive finite"),
    ({"delta": True}, ValueError, r"huber_loss: delta must be a positive finite number"),
    ({"reduction": "avg"}, ValueError, r"huber_loss: reduction must be one of .*'avg'"),
])
def test_huber_loss_bad_args(kw, exc, match):
    with pytest.raises(exc, match=match):
        F.huber_loss(np.zeros(3), np.ones(3), **kw)


def test_huber_loss_empty_batch_is_an_error():
    with pytest.raises(ValueError, match=r"huber_loss: x0 is an empty batch"):
        F.huber_loss(np.zeros((0, 3)), np.zeros((0, 3)))
