"""Max and average pooling against naive loops written here; gradients; errors."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core.testing import (
    check_backward,
    check_double_backward,
    check_dtype_preserved,
    check_forward,
)


def rng(seed: int = 0) -> np.random.Generator:
    """The test data's generator (seeded per use, so every run sees the same data)."""
    return np.random.default_rng(20260 + seed)


def naive_pool(x, k, st, pd, mode):
    n, c, h, w = x.shape
    fill = -np.inf if mode == "max" else 0.0
    xp_ = np.full((n, c, h + 2 * pd[0], w + 2 * pd[1]), fill)
    xp_[:, :, pd[0] : pd[0] + h, pd[1] : pd[1] + w] = x
    oh = (h + 2 * pd[0] - k[0]) // st[0] + 1
    ow = (w + 2 * pd[1] - k[1]) // st[1] + 1
    y = np.zeros((n, c, oh, ow))
    for a in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = xp_[a, ch, i * st[0] : i * st[0] + k[0], j * st[1] : j * st[1] + k[1]]
                    y[a, ch, i, j] = win.max() if mode == "max" else win.sum() / win.size
    return y


CONFIGS = [  # x shape, kernel, stride, pad
    ((2, 3, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((1, 2, 5, 6), (3, 3), (2, 2), (1, 1)),
    ((2, 1, 5, 5), (3, 2), (1, 2), (0, 1)),
    ((1, 2, 28, 28), (2, 2), (2, 2), (0, 0)),
]


def _distinct(shape, seed, dtype=np.float64):
    # Distinct values spaced apart: the max of each window is unique, so the max is
    # differentiable there and the numerical gradient is exact.
    size = int(np.prod(shape))
    return (rng(seed).permutation(size).reshape(shape) * 0.1).astype(dtype)


@pytest.mark.parametrize("xs, k, st, pd", CONFIGS)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_forward(xp, xs, k, st, pd, mode, dtype):
    f = F.pooling if mode == "max" else F.average_pooling
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check_forward(xp, lambda x: f(x, k, st, pd), [_distinct(xs, 0, dtype)],
                  lambda x: naive_pool(x, k, st, pd, mode), rtol=tol, atol=tol)


@pytest.mark.parametrize("xs, k, st, pd", CONFIGS[:3])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_gradients(xp, xs, k, st, pd, mode):
    f = F.pooling if mode == "max" else F.average_pooling
    g = lambda x: f(x, k, st, pd)  # noqa: E731
    x = _distinct(xs, 1)
    check_backward(xp, g, [x])
    check_double_backward(xp, g, [x])
    check_dtype_preserved(xp, g, [x.astype(np.float32)])


def test_max_pooling_tie_sends_gradient_to_one_element(xp):
    x = np.ones((1, 1, 2, 2))
    v = F.pooling(x if xp is np else xp.asarray(x), 2, 2)
    assert float(np.asarray(v.data).sum() if xp is np else v.data.get().sum()) == 1.0
    from dezero.core import Variable

    xv = Variable(x if xp is np else xp.asarray(x))
    F.pooling(xv, 2, 2).sum().backward()
    g = np.asarray(xv.grad.data if xp is np else xv.grad.data.get())
    assert g.sum() == 1.0 and g.max() == 1.0


@pytest.mark.parametrize("fname", ["pooling", "average_pooling"])
def test_pooling_errors(fname):
    f = getattr(F, fname)
    with pytest.raises(ValueError, match=rf"{fname}: x must be 4-d .* \(3, 4\)"):
        f(np.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match=rf"{fname}: kernel \(5, 5\) is larger"):
        f(np.zeros((1, 1, 3, 3)), 5)
    with pytest.raises(ValueError, match=rf"{fname}: pad \(2, 2\) must be smaller"):
        f(np.zeros((1, 1, 3, 3)), 2, 1, 2)
