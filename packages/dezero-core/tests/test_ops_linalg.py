"""matmul: forward against a naive loop, gradients, vector and batched forms, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, matmul
from dezero.core.backend import to_cpu
from dezero.core.ops import linalg
from dezero.core.testing import gradient_check

RNG = np.random.Generator(np.random.PCG64(4))


def _naive_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            for k in range(a.shape[1]):
                out[i, j] += a[i, k] * b[k, j]
    return out


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((1, 5), (5, 1)), ((4, 4), (4, 2))])
def test_matmul_2d(xp, sa, sb):
    a, b = xp.asarray(RNG.standard_normal(sa)), xp.asarray(RNG.standard_normal(sb))
    y = matmul(Variable(a), Variable(b))
    np.testing.assert_allclose(to_cpu(y.data), _naive_matmul(to_cpu(a), to_cpu(b)), rtol=1e-10)
    assert gradient_check(lambda v: matmul(v, Variable(b)), a)
    assert gradient_check(lambda v: matmul(Variable(a), v), b)


@pytest.mark.parametrize("sa,sb", [((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
                                    ((2, 2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
                                    ((3,), (2, 3, 4))])
def test_matmul_vector_and_batched(xp, sa, sb):
    a, b = xp.asarray(RNG.standard_normal(sa)), xp.asarray(RNG.standard_normal(sb))
    y = Variable(a) @ Variable(b)
    np.testing.assert_allclose(to_cpu(y.data), np.matmul(to_cpu(a), to_cpu(b)), rtol=1e-10)
    assert gradient_check(lambda v: matmul(v, Variable(b)), a)
    assert gradient_check(lambda v: matmul(Variable(a), v), b)


def test_reflected_matmul_with_ndarray():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    y = a @ Variable(b)
    assert isinstance(y, Variable)
    np.testing.assert_allclose(y.data, a @ b)


def test_matmul_error_names_function_and_shapes():
    with pytest.raises(ValueError) as e:
        Variable(np.ones((2, 3))) @ Variable(np.ones((4, 5)))
    msg = str(e.value)
    assert "MatMul" in msg and "(2, 3)" in msg and "(4, 5)" in msg


def test_matmul_float32(xp):
    a = Variable(xp.ones((2, 3), dtype=np.float32))
    w = Variable(xp.ones((3, 2), dtype=np.float32))
    y = (a @ w) * 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_backward_skips_product_for_constant_input(monkeypatch):
    """A raw array (a data batch) needs no gradient: backward computes only gW."""
    calls = []
    original = linalg.MatMul.forward

    def spy(self, x, W):
        calls.append((x.shape, W.shape))
        return original(self, x, W)

    monkeypatch.setattr(linalg.MatMul, "forward", spy)
    x = RNG.standard_normal((5, 3))  # a raw array: wrapped as a constant
    W = Variable(RNG.standard_normal((3, 2)))
    y = matmul(x, W)
    calls.clear()
    y.sum().backward()
    assert calls == [((3, 5), (5, 2))]  # x.T @ gy only; no gy @ W.T
    np.testing.assert_allclose(W.grad.data, x.T @ np.ones((5, 2)))

    # Both operands need a gradient: two products.
    xv = Variable(x)
    y = matmul(xv, W)
    calls.clear()
    y.sum().backward()
    assert len(calls) == 2
