"""SGD's in-place update: the same numbers as ``p - lr * g``, gradients left untouched."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Parameter, Variable
from dezero.nn.optimizers import SGD
from dezero.nn.optimizers.sgd import _BLOCK, sub_scaled


@pytest.mark.parametrize("shape", [(3,), (_BLOCK,), (_BLOCK + 1,), (517, 301)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sub_scaled_equals_the_plain_expression(shape, dtype):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    want = p - 0.01 * g  # NumPy's own rounding of the same expression
    g_before = g.copy()
    sub_scaled(p, g, 0.01, {})
    np.testing.assert_array_equal(p, want)
    np.testing.assert_array_equal(g, g_before)
    assert p.dtype == dtype


def test_sub_scaled_with_a_strided_gradient():
    rng = np.random.default_rng(1)
    p = rng.standard_normal((400, 300)).astype(np.float32)
    g = rng.standard_normal((300, 400)).astype(np.float32).T  # not C-contiguous
    want = p - 0.5 * g
    sub_scaled(p, g, 0.5, {})
    np.testing.assert_array_equal(p, want)


class _Shared:
    """Two parameters whose gradient is one and the same array."""

    def __init__(self, g):
        self.a = Parameter(np.zeros_like(g))
        self.b = Parameter(np.ones_like(g))
        shared = Variable(g)
        self.a.grad = shared
        self.b.grad = shared

    def named_params(self):
        yield "a", self.a
        yield "b", self.b


def test_sgd_keeps_a_shared_gradient_intact():
    g = np.random.default_rng(2).standard_normal(_BLOCK * 2 + 3).astype(np.float32)
    net = _Shared(g.copy())
    SGD(lr=0.1).setup(net).update()
    np.testing.assert_array_equal(net.a.data, 0 - 0.1 * g)
    np.testing.assert_array_equal(net.b.data, 1 - 0.1 * g)
    np.testing.assert_array_equal(net.a.grad.data, g)
