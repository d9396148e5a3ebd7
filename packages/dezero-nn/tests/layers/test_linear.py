"""Linear: lazy sizing, default initialisation, outputs and gradients against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.nn import initializers as I
from dezero.nn.layers import Linear


def test_lazy_w_created_on_first_call_from_input():
    layer = Linear(5)
    assert layer.W.data is None and layer.b.shape == (5,)
    layer(np.zeros((2, 3), np.float32))
    assert layer.W.shape == (3, 5) and layer.in_size == 3


def test_default_init_is_dezero_randn_scaled_and_seeded():
    random.seed(123)
    layer = Linear(6, in_size=4)
    ref = np.random.Generator(np.random.PCG64(123)).standard_normal((4, 6)) * np.sqrt(1 / 4)
    np.testing.assert_allclose(layer.W.data, ref.astype(np.float32), rtol=0, atol=0)
    np.testing.assert_array_equal(layer.b.data, np.zeros(6, np.float32))
    assert layer.W.dtype == np.float32 and layer.b.dtype == np.float32


def test_seed_makes_model_creation_reproducible():
    random.seed(7)
    a = Linear(3)
    a(np.ones((1, 5), np.float32))
    random.seed(7)
    b = Linear(3)
    b(np.ones((1, 5), np.float32))
    np.testing.assert_array_equal(a.W.data, b.W.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_gradients_match_numpy(dtype):
    rng = np.random.default_rng(0)
    layer = Linear(3, in_size=4, dtype=dtype)
    x = rng.standard_normal((5, 4)).astype(dtype)
    gy = rng.standard_normal((5, 3)).astype(dtype)
    xv = Variable(x)
    y = layer(xv)
    assert y.dtype == dtype
    W, b = layer.W.data, layer.b.data
    np.testing.assert_allclose(y.data, x @ W + b, rtol=1e-5)
    y.backward(grad=gy)
    np.testing.assert_allclose(layer.W.grad.data, x.T @ gy, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.b.grad.data, gy.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xv.grad.data, gy @ W.T, rtol=1e-5, atol=1e-6)


def test_nobias():
    layer = Linear(2, nobias=True, in_size=3)
    assert layer.b is None
    assert [n for n, _ in layer.named_params()] == ["W"]
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.W.data)


def test_initializer_argument_is_used():
    layer = Linear(2, in_size=3, initializer=I.Constant(0.5))
    np.testing.assert_array_equal(layer.W.data, np.full((3, 2), 0.5, np.float32))


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, True])
def test_bad_out_size(bad):
    with pytest.raises(ValueError, match="Linear: out_size"):
        Linear(bad)


def test_mismatched_input_names_shapes():
    layer = Linear(2, in_size=3)
    with pytest.raises(ValueError, match=r"\(4, 5\)"):
        layer(np.ones((4, 5), np.float32))
