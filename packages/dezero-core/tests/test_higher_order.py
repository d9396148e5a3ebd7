"""Higher-order derivatives with create_graph=True, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import Variable, matmul, sin, tanh


def _grad(y: Variable, x: Variable) -> Variable:
    x.cleargrad()
    y.backward(create_graph=True)
    g = x.grad
    assert g is not None
    return g


def test_second_derivative_of_polynomial():
    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    gx = _grad(y, x)
    assert float(gx.data) == 4 * 8 - 4 * 2  # 4x^3 - 4x = 24
    gx2 = _grad(gx, x)
    assert float(gx2.data) == 12 * 4 - 4  # 12x^2 - 4 = 44


def test_newton_method_converges_to_one():
    x = Variable(np.array(2.0))
    for _ in range(10):
        y = x**4 - 2 * x**2
        gx = _grad(y, x)
        gx2 = _grad(gx, x)
        x = Variable(x.data - gx.data / gx2.data)
    assert float(x.data) == pytest.approx(1.0, abs=1e-10)


def test_sin_derivatives_up_to_fourth():
    x0 = 0.9
    x = Variable(np.array(x0))
    g = sin(x)
    expected = [math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0)]
    for k in range(4):
        g = _grad(g, x)
        assert float(g.data) == pytest.approx(expected[k], rel=1e-12), f"order {k + 1}"


def test_tanh_derivatives_up_to_third():
    x0 = 0.4
    t = math.tanh(x0)
    expected = [1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2)]
    x = Variable(np.array(x0))
    g = tanh(x)
    for k in range(3):
        g = _grad(g, x)
        assert float(g.data) == pytest.approx(expected[k], rel=1e-10), f"order {k + 1}"


def test_double_backward_through_matmul_and_sum():
    rng = np.random.Generator(np.random.PCG64(5))
    A = rng.standard_normal((3, 3))
    x = Variable(rng.standard_normal((3, 1)))
    # f(x) = sum((A x)^2) ; grad = 2 A^T A x ; z = sum(grad^2) ; dz/dx = 8 (A^T A)^2 x
    y = (matmul(Variable(A), x) ** 2).sum()
    gx = _grad(y, x)
    M = A.T @ A
    np.testing.assert_allclose(gx.data, 2 * M @ x.data, rtol=1e-12)
    z = (gx**2).sum()
    x.cleargrad()
    z.backward()
    np.testing.assert_allclose(x.grad.data, 8 * M @ M @ x.data, rtol=1e-10)


def test_first_order_backward_records_no_graph():
    x = Variable(np.array(1.5))
    (x**3).backward()
    assert x.grad.creator is None
    x.cleargrad()
    (x**3).backward(create_graph=True)
    assert x.grad.creator is not None
