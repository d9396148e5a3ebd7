"""Activations against NumPy closed forms; gradients numerically; double backprop."""

from __future__ import annotations

import math

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


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


CASES = {
    "sigmoid": (F.sigmoid, _sigmoid),
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "tanh": (F.tanh, np.tanh),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1))),
    "gelu": (F.gelu, _gelu_tanh),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x))),
    "softmax": (F.softmax, lambda x: _softmax(x, 1)),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda x: _softmax(x, 0)),
    "log_softmax": (F.log_softmax, lambda x: np.log(_softmax(x, 1))),
}
SHAPES = [(3, 4), (2, 3, 5)]
SMOOTH = ["sigmoid", "tanh", "elu", "gelu", "softplus", "softmax", "softmax_axis0", "log_softmax"]


def _input(shape, dtype, seed=0):
    x = rng(seed).uniform(-3, 3, size=shape)
    # Keep away from the kinks of relu / leaky_relu / elu for numerical gradients.
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    return x.astype(dtype)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward(xp, name, shape, dtype):
    f, ref = CASES[name]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check_forward(xp, f, [_input(shape, dtype)], ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES)
def test_backward(xp, name, shape):
    check_backward(xp, CASES[name][0], [_input(shape, np.float64, 1)])


@pytest.mark.parametrize("name", SMOOTH)
def test_double_backward(xp, name):
    check_double_backward(xp, CASES[name][0], [_input((2, 3), np.float64, 2)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(xp, name):
    check_dtype_preserved(xp, CASES[name][0], [_input((3, 4), np.float32)])


def test_gelu_is_close_to_the_exact_erf_form(xp):
    x = np.linspace(-5, 5, 101)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    check_forward(xp, F.gelu, [x], lambda x: exact, rtol=0, atol=1e-3)


def test_sigmoid_and_softmax_survive_extreme_inputs(xp):
    x = np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32)
    check_forward(xp, F.sigmoid, [x], lambda x: np.array([[0.0, 0.5, 1.0]]), atol=1e-7)
    check_forward(xp, F.softmax, [x], lambda x: np.array([[0.0, 0.0, 1.0]]), atol=1e-7)
    check_forward(xp, F.softplus, [x], lambda x: np.array([[0.0, math.log(2), 1000.0]]))
    check_forward(xp, F.log_softmax, [x], lambda x: np.array([[-2000.0, -1000.0, 0.0]]))


def test_softmax_rejects_a_bad_axis():
    with pytest.raises(ValueError, match=r"softmax: axis 2 .* shape \(3, 4\)"):
        F.softmax(np.zeros((3, 4)), axis=2)
