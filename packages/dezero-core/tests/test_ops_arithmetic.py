"""Arithmetic ops (add sub mul div neg pow): forward against NumPy, gradients against
central differences, broadcasting, reflected operators and dtype preservation."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, add, div, mul, neg, pow, sub
from dezero.core.backend import to_cpu
from dezero.core.testing import gradient_check

RNG = np.random.Generator(np.random.PCG64(0))

# (shape of x0, shape of x1): the broadcasting cases the issue names, and plain ones.
SHAPE_PAIRS = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
    ((3,), (2, 3)),
    ((4,), (4,)),
]

BINARY = {
    "add": (add, np.add),
    "sub": (sub, np.subtract),
    "mul": (mul, np.multiply),
    "div": (div, np.divide),
}


def _arr(xp, shape, low=0.5, high=2.0, dtype=np.float64):
    return xp.asarray(RNG.uniform(low, high, size=shape).astype(dtype))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("s0,s1", SHAPE_PAIRS)
def test_binary_forward_and_gradients(xp, name, s0, s1):
    f, ref = BINARY[name]
    a, b = _arr(xp, s0), _arr(xp, s1)
    y = f(Variable(a), Variable(b))
    expected = ref(to_cpu(a), to_cpu(b))
    assert y.shape == expected.shape
    np.testing.assert_allclose(to_cpu(y.data), expected, rtol=1e-12)
    assert gradient_check(lambda v: f(v, Variable(b)), a)
    assert gradient_check(lambda v: f(Variable(a), v), b)


@pytest.mark.parametrize("s0,s1", SHAPE_PAIRS)
def test_binary_grad_shapes_follow_inputs(xp, s0, s1):
    a, b = Variable(_arr(xp, s0)), Variable(_arr(xp, s1))
    (a * b + a - b / a).sum().backward()
    assert a.grad.shape == s0 and b.grad.shape == s1


@pytest.mark.parametrize(
    "expr,ref",
    [
        (lambda v, c: v + c, lambda x, c: x + c),
        (lambda v, c: c + v, lambda x, c: c + x),
        (lambda v, c: v - c, lambda x, c: x - c),
        (lambda v, c: c - v, lambda x, c: c - x),
        (lambda v, c: v * c, lambda x, c: x * c),
        (lambda v, c: c * v, lambda x, c: c * x),
        (lambda v, c: v / c, lambda x, c: x / c),
        (lambda v, c: c / v, lambda x, c: c / x),
        (lambda v, c: v**c, lambda x, c: x**c),
        (lambda v, c: c**v, lambda x, c: c**x),
    ],
)
@pytest.mark.parametrize("kind", ["python", "ndarray"])
def test_reflected_operators(xp, expr, ref, kind):
    x = _arr(xp, (2, 3))
    c = 1.7 if kind == "python" else _arr(xp, (3,))
    y = expr(Variable(x), c)
    assert isinstance(y, Variable)
    c_host = c if kind == "python" else to_cpu(c)
    np.testing.assert_allclose(to_cpu(y.data), ref(to_cpu(x), c_host), rtol=1e-12)
    assert gradient_check(lambda v: expr(v, c), x)


def test_ndarray_on_the_left_returns_variable():
    x = Variable(np.array([1.0, 2.0]))
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x, np.ones(2) ** x):
        assert isinstance(y, Variable)


def test_neg(xp):
    x = _arr(xp, (2, 3), -2, 2)
    np.testing.assert_array_equal(to_cpu(neg(Variable(x)).data), -to_cpu(x))
    np.testing.assert_array_equal(to_cpu((-Variable(x)).data), -to_cpu(x))
    assert gradient_check(neg, x)


@pytest.mark.parametrize("c", [2, 3.0, 0.5, -1.5])
def test_pow_constant_exponent(xp, c):
    x = _arr(xp, (3, 2))
    np.testing.assert_allclose(to_cpu(pow(Variable(x), c).data), to_cpu(x) ** c, rtol=1e-12)
    assert gradient_check(lambda v: v**c, x)


def test_pow_both_variables(xp):
    a, b = _arr(xp, (2, 3)), _arr(xp, (3,))
    y = Variable(a) ** Variable(b)
    np.testing.assert_allclose(to_cpu(y.data), to_cpu(a) ** to_cpu(b), rtol=1e-12)
    assert gradient_check(lambda v: v ** Variable(b), a)
    assert gradient_check(lambda v: Variable(a) ** v, b)


def test_closed_form_gradients():
    x, w = Variable(np.array(3.0)), Variable(np.array(-2.0))
    (x * w + x / w - w**2).backward()
    assert float(x.grad.data) == pytest.approx(-2.0 + 1 / -2.0)
    assert float(w.grad.data) == pytest.approx(3.0 - 3.0 / 4.0 + 4.0)


@pytest.mark.parametrize(
    "op",
    [
        lambda v: v + 1.5, lambda v: 1.5 + v, lambda v: v - 2, lambda v: 2 - v,
        lambda v: v * 0.5, lambda v: 0.5 * v, lambda v: v / 3.0, lambda v: 3.0 / v,
        lambda v: v**2, lambda v: v**0.5, lambda v: 2.0**v, lambda v: -v,
        lambda v: v + v, lambda v: v * v,
    ],
)
def test_float32_stays_float32_with_python_scalars(xp, op):
    x = Variable(_arr(xp, (2, 3), dtype=np.float32))
    y = op(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_add_shape_mismatch_names_function_and_shapes():
    with pytest.raises(ValueError) as e:
        Variable(np.ones((2, 3))) + Variable(np.ones((4,)))
    msg = str(e.value)
    assert "Add" in msg and "(2, 3)" in msg and "(4,)" in msg


def test_unsupported_operand():
    with pytest.raises(TypeError, match="Mul"):
        Variable(np.ones(2)) * "a"


def test_derivative_of_x_to_the_zero_is_zero_everywhere_including_zero():
    import numpy as np

    from dezero.core import Variable

    x = Variable(np.array([0.0, 2.0, -1.5]))
    (x**0).sum().backward()
    assert np.array_equal(x.grad.data, np.zeros(3))


def test_a_python_scalar_operand_is_held_by_the_node_not_an_input():
    # x * 0.5 records one input (x) and the scalar in the node; an array operand or a NumPy
    # scalar is still a second (constant) input.
    x = Variable(np.ones(3, np.float32))
    for y, c in ((x * 0.5, 0.5), (2 - x, 2), (x / 4.0, 4.0), (3.0**x, 3.0), (x**2, 2)):
        assert [v is x for v in y.creator.inputs] == [True] and y.creator.c == c
    for y in (x * np.float32(0.5), x * np.full(3, 0.5, np.float32)):
        assert len(y.creator.inputs) == 2 and y.creator.needs_input_grad == (True, False)


def test_scalar_node_gradients_against_closed_forms():
    x = Variable(np.array([0.5, 1.0, 2.0]))
    for f, d in (
        (lambda v: 3.0 - v, lambda a: -np.ones_like(a)),
        (lambda v: -3.0 / v, lambda a: 3.0 / a**2),
        (lambda v: v**-2, lambda a: -2.0 * a**-3),
        (lambda v: 2.0**v, lambda a: np.log(2.0) * 2.0**a),
        (lambda v: v / 8 + 1, lambda a: np.full_like(a, 1 / 8)),
    ):
        x.cleargrad()
        f(x).sum().backward()
        np.testing.assert_allclose(x.grad.data, d(x.data), rtol=1e-12)


def test_scalar_node_errors_name_the_op():
    # NumPy raises a UFuncTypeError (a TypeError that cannot be rebuilt from a message):
    # the error stays a TypeError.
    named = r"MulScalar\(2\.0\): .*\(inputs: \(1,\) <U1\)"
    with pytest.raises(TypeError, match=named):
        Variable(np.array(["a"])) * 2.0
