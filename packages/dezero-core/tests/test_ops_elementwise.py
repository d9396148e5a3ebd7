"""Element-wise ops (exp log sin cos tanh): forward against NumPy, gradients numerically."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import Variable, cos, exp, log, sin, tanh
from dezero.core.backend import to_cpu
from dezero.core.testing import gradient_check

RNG = np.random.Generator(np.random.PCG64(1))
OPS = {"exp": (exp, np.exp), "log": (log, np.log), "sin": (sin, np.sin),
       "cos": (cos, np.cos), "tanh": (tanh, np.tanh)}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 4)])
def test_forward_and_gradient(xp, name, shape):
    f, ref = OPS[name]
    x = xp.asarray(RNG.uniform(0.2, 2.0, size=shape))
    y = f(Variable(x))
    assert y.shape == shape
    np.testing.assert_allclose(to_cpu(y.data), ref(to_cpu(x)), rtol=1e-12)
    assert gradient_check(f, x)


@pytest.mark.parametrize("name", sorted(OPS))
def test_float32_kept(xp, name):
    f, _ = OPS[name]
    x = Variable(xp.asarray(RNG.uniform(0.2, 2.0, size=(2, 2)).astype(np.float32)))
    y = f(x * 2.0) + 1.0
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_closed_form_first_derivatives():
    x0 = 0.7
    for f, d in [(exp, math.exp), (log, lambda t: 1 / t), (sin, math.cos),
                 (cos, lambda t: -math.sin(t)), (tanh, lambda t: 1 - math.tanh(t) ** 2)]:
        x = Variable(np.array(x0))
        f(x).backward()
        assert float(x.grad.data) == pytest.approx(d(x0), rel=1e-12)


def test_exp_and_tanh_backward_after_output_dropped():
    # The formulas reuse the output; with the output gone they must recompute it.
    x = Variable(np.array([0.3, -0.4]))
    z = exp(x) * 1.0 + tanh(x) * 1.0
    z.backward()
    expected = np.exp([0.3, -0.4]) + 1 - np.tanh([0.3, -0.4]) ** 2
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)
