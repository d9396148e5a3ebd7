"""Every core op through the public checker: forward against NumPy, gradients and second
derivatives against central differences, float32 kept, on every usable device (``xp``)."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.core as dz
from dezero.core.testing import check_backward, check_function


def _u(shape, lo=-2.0, hi=2.0, seed=0):
    return np.random.default_rng(31 + seed).uniform(lo, hi, size=shape)


def _pos(shape, seed=0):
    return _u(shape, 0.5, 2.0, seed)


# name: (function, inputs, NumPy reference)
CASES = {
    "add_broadcast": (dz.add, [_u((2, 3)), _u((3,), seed=1)], np.add),
    "sub_broadcast": (dz.sub, [_u((2, 1)), _u((2, 3), seed=1)], np.subtract),
    "mul_broadcast": (dz.mul, [_u((2, 3)), _u((1, 3), seed=1)], np.multiply),
    "div": (dz.div, [_u((2, 3)), _pos((2, 3), seed=1)], np.divide),
    "neg": (dz.neg, [_u((4,))], np.negative),
    "pow_const": (lambda x: x**3, [_u((2, 3))], lambda x: x**3),
    "pow_both": (dz.pow, [_pos((3,)), _u((3,), seed=1)], np.power),
    "rpow_scalar_base": (lambda x: 2.0**x, [_u((3,))], lambda x: 2.0**x),
    # A Python scalar operand is held by the node (AddScalar, RSubScalar...), both orders.
    "add_scalar": (lambda x: x + 1.5, [_u((2, 3))], lambda x: x + 1.5),
    "radd_scalar": (lambda x: 2 + x, [_u((2, 3))], lambda x: 2 + x),
    "sub_scalar": (lambda x: x - 0.5, [_u((2, 3))], lambda x: x - 0.5),
    "rsub_scalar": (lambda x: 3 - x, [_u((2, 3))], lambda x: 3 - x),
    "mul_scalar": (lambda x: x * -2.5, [_u((2, 3))], lambda x: x * -2.5),
    "rmul_scalar": (lambda x: 3 * x, [_u((2, 3))], lambda x: 3 * x),
    "div_scalar": (lambda x: x / 4.0, [_u((2, 3))], lambda x: x / 4.0),
    "rdiv_scalar": (lambda x: -3.0 / x, [_pos((2, 3))], lambda x: -3.0 / x),
    "pow_scalar_int": (lambda x: x**2, [_u((2, 3))], lambda x: x**2),
    "pow_scalar_float": (lambda x: x**1.5, [_pos((2, 3))], lambda x: x**1.5),
    "rpow_int_base": (lambda x: 3**x, [_u((3,))], lambda x: 3.0**x),
    "exp": (dz.exp, [_u((2, 3))], np.exp),
    "log": (dz.log, [_pos((2, 3))], np.log),
    "sin": (dz.sin, [_u((2, 3))], np.sin),
    "cos": (dz.cos, [_u((2, 3))], np.cos),
    "tanh": (dz.tanh, [_u((2, 3))], np.tanh),
    "reshape": (lambda x: dz.reshape(x, (3, -1)), [_u((2, 3))], lambda x: x.reshape(3, -1)),
    "transpose": (lambda x: dz.transpose(x, (2, 0, 1)), [_u((2, 3, 4))],
                  lambda x: x.transpose(2, 0, 1)),
    "broadcast_to": (lambda x: dz.broadcast_to(x, (2, 3)), [_u((1, 3))],
                     lambda x: np.broadcast_to(x, (2, 3))),
    "sum_to": (lambda x: dz.sum_to(x, (1, 3)), [_u((2, 3))],
               lambda x: x.sum(axis=0, keepdims=True)),
    "get_item_slice": (lambda x: x[1:, ::2], [_u((3, 4))], lambda x: x[1:, ::2]),
    "get_item_repeated": (lambda x: dz.get_item(x, np.array([0, 2, 0])), [_u((3, 2))],
                          lambda x: x[[0, 2, 0]]),
    "sum_axis": (lambda x: dz.sum(x, axis=1, keepdims=True), [_u((2, 3))],
                 lambda x: x.sum(axis=1, keepdims=True)),
    "max_axis": (lambda x: dz.max(x, axis=0), [_u((3, 4))], lambda x: x.max(axis=0)),
    "min_all": (dz.min, [_u((3, 4))], np.min),
    "matmul": (dz.matmul, [_u((2, 3)), _u((3, 4), seed=1)], np.matmul),
    "matmul_vector": (dz.matmul, [_u((3,)), _u((3, 2), seed=1)], np.matmul),
    "matmul_batched": (dz.matmul, [_u((2, 2, 3)), _u((3, 2), seed=1)], np.matmul),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_core_op(xp, name):
    f, inputs, reference = CASES[name]
    check_function(f, inputs, reference, xp=xp)


def test_a_wrong_second_derivative_is_caught():
    # The checker itself: a Function whose gradient is right but not differentiable
    # correctly (its backward uses raw data, so the second derivative is lost).
    class Cube(dz.Function):
        def forward(self, x):
            return x**3

        def backward(self, gy):
            (x,) = self.inputs
            return gy * 3 * x.data**2  # a constant: d/dx of it is missing

    x = _u((3,))
    check_function(lambda v: Cube()(v), [x], lambda a: a**3, double_backward=False)
    with pytest.raises(AssertionError, match="gradient_check"):
        check_function(lambda v: Cube()(v), [x], lambda a: a**3)


def test_a_wrong_forward_is_caught():
    with pytest.raises(AssertionError):
        check_function(dz.sin, [_u((3,))], np.cos)


def test_gradient_checks_refuse_float32():
    with pytest.raises(TypeError, match="float64"):
        check_backward(np, dz.exp, [_u((2,)).astype(np.float32)])
