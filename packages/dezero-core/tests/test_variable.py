"""Variable: construction, properties, backward bookkeeping (accumulation, retain_grad)."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Parameter, Variable, as_array, as_variable
from dezero.core.backend import to_cpu


@pytest.mark.parametrize("bad,typename", [([1.0, 2.0], "list"), (1.5, "float"), ("abc", "str"),
                                          ((1, 2), "tuple"), (3, "int")])
def test_rejects_non_arrays_naming_the_type(bad, typename):
    with pytest.raises(TypeError) as e:
        Variable(bad)
    assert typename in str(e.value) and "np.array" in str(e.value)


def test_numpy_scalar_becomes_0d_array():
    v = Variable(np.float64(2.5))
    assert isinstance(v.data, np.ndarray) and v.shape == () and v.dtype == np.float64
    v32 = Variable(np.float32(1.0))
    assert v32.dtype == np.float32


def test_none_data_allowed():
    v = Variable(None)
    assert v.data is None and repr(v) == "variable(None)"
    with pytest.raises(ValueError, match="no data"):
        v.backward()


def test_properties(xp):
    v = Variable(xp.zeros((2, 3, 4), dtype=np.float32), name="v")
    assert v.shape == (2, 3, 4) and v.ndim == 3 and v.size == 24 and v.dtype == np.float32
    assert len(v) == 2 and v.name == "v"
    assert v.grad is None and v.creator is None and v.generation == 0


def test_repr():
    assert repr(Variable(np.array([1.0, 2.0]))) == "variable([1. 2.])"
    assert repr(Variable(np.array([[1, 2], [3, 4]]))) == "variable([[1 2]\n          [3 4]])"


def test_backward_on_leaf_sets_grad(xp):
    x = Variable(xp.asarray(np.array([1.0, 2.0])))
    x.backward()
    np.testing.assert_array_equal(to_cpu(x.grad.data), [1.0, 1.0])


def test_x_plus_x_gives_two(xp):
    x = Variable(xp.asarray(np.array(3.0)))
    (x + x).backward()
    assert float(to_cpu(x.grad.data)) == 2.0


def test_diamond_graph():
    # x -> a = x**2 -> y = a**2 + a**3 (a reached twice), plus a second path x * 3.
    x = Variable(np.array(2.0))
    a = x**2
    y = a**2 + a**3 + x * 3.0
    y.backward()
    # dy/dx = (2a + 3a^2) * 2x + 3 with a = 4
    assert float(x.grad.data) == pytest.approx((2 * 4 + 3 * 16) * 4 + 3)


def test_generation_order_long_and_short_paths():
    x = Variable(np.array(1.5))
    h = x
    for _ in range(10):
        h = h * 1.0
    y = h * x  # one long path and one direct path into the same node
    y.backward()
    assert float(x.grad.data) == pytest.approx(3.0)


def test_grad_accumulates_across_backward_calls_until_cleargrad():
    x = Variable(np.array(3.0))
    y = x * x
    y.backward()
    assert float(x.grad.data) == 6.0
    y = x * x
    y.backward()
    assert float(x.grad.data) == 12.0  # accumulated (documented)
    x.cleargrad()
    assert x.grad is None
    (x * x).backward()
    assert float(x.grad.data) == 6.0


def test_accumulation_is_out_of_place():
    x = Variable(np.array([1.0]))
    y = x * 1.0
    y.backward()
    g_first = x.grad
    y2 = x * 1.0
    y2.backward()
    assert g_first.data[0] == 1.0 and x.grad.data[0] == 2.0


def test_retain_grad():
    x = Variable(np.array(2.0))
    a = x * 3.0
    y = a * a
    y.backward()
    assert a.grad is None and y.grad is None and x.grad is not None
    x.cleargrad()
    a = x * 3.0
    y = a * a
    y.backward(retain_grad=True)
    assert float(a.grad.data) == 12.0 and float(y.grad.data) == 1.0


def test_unchain_and_unchain_backward():
    x = Variable(np.array(2.0))
    a = x * 2.0
    b = a * 3.0
    c = b * 4.0
    b.unchain()
    assert b.creator is None
    c.backward()
    assert x.grad is None  # the cut stopped the gradient
    d = (x * 2.0) * 3.0
    d.unchain_backward()
    assert d.creator is None


def test_parameter_is_a_variable():
    p = Parameter(np.ones(3))
    assert isinstance(p, Variable) and p.requires_grad
    (p * 2.0).sum().backward()
    np.testing.assert_array_equal(p.grad.data, [2.0, 2.0, 2.0])


def test_as_variable_and_as_array():
    v = Variable(np.ones(2))
    assert as_variable(v) is v
    c = as_variable(np.ones(2))
    assert isinstance(c, Variable) and not c.requires_grad
    with pytest.raises(TypeError, match="as_variable"):
        as_variable("x")
    a = as_array(1.5)
    assert isinstance(a, np.ndarray) and a.shape == ()
    arr = np.ones(2)
    assert as_array(arr) is arr


def test_constants_need_no_gradient():
    c = np.ones(3)
    y = Variable(c) * 1.0
    assert y.creator is not None
    z = as_variable(c) * 2.0 + 1.0  # computed from constants only
    assert z.creator is None and not z.requires_grad


def test_grad_dtype_matches_variable_dtype(xp):
    x = Variable(xp.ones((2,), dtype=np.float32))
    ((x * 2.0 + 1.0) ** 2 / 3.0 - 0.5).sum().backward()
    assert x.grad.dtype == np.float32


import dezero.core as dc  # noqa: E402

# Every core op, with Python scalars on either side where the op takes two operands.
EVERY_OP = {
    "add": lambda v: dc.add(v, 2.0) + dc.add(1, v),
    "sub": lambda v: dc.sub(v, 2.0) - dc.sub(1, v),
    "mul": lambda v: dc.mul(v, 0.5) * dc.mul(3, v),
    "div": lambda v: dc.div(v, 4.0) / dc.div(2, v),
    "neg": lambda v: dc.neg(v) * 1.5,
    "pow": lambda v: dc.pow(v, 2.5) + dc.pow(1.5, v),
    "exp": lambda v: dc.exp(v) * 0.5,
    "log": lambda v: dc.log(v) + 1.0,
    "sin": lambda v: 2.0 * dc.sin(v),
    "cos": lambda v: 2.0 - dc.cos(v),
    "tanh": lambda v: dc.tanh(v) / 3.0,
    "reshape": lambda v: dc.reshape(v, (3, 2)) * 0.5,
    "transpose": lambda v: dc.transpose(v) + 0.5,
    "sum": lambda v: dc.sum(v, axis=1, keepdims=True) * 0.5,
    "sum_to": lambda v: dc.sum_to(v, (1, 3)) - 0.5,
    "broadcast_to": lambda v: dc.broadcast_to(v, (4, 2, 3)) * 0.5,
    "matmul": lambda v: dc.matmul(v * 0.5, dc.transpose(v)) + 1,
    "get_item": lambda v: dc.get_item(v, np.array([1, 1, 0])) * 0.5,
    "max": lambda v: dc.max(v, axis=0) * 0.5,
    "min": lambda v: 0.5 * dc.min(v),
}


def test_every_op_is_listed():
    assert sorted(EVERY_OP) == sorted(dc.ops.__all__)


@pytest.mark.parametrize("name", sorted(EVERY_OP))
def test_float32_stays_float32_through_every_op(xp, name):
    x = Variable(xp.asarray(np.array([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], np.float32)))
    y = EVERY_OP[name](x)
    assert y.dtype == np.float32, f"{name}: forward gave {y.dtype}"
    y.sum().backward()
    assert x.grad.dtype == np.float32, f"{name}: gradient is {x.grad.dtype}"


@pytest.mark.parametrize(
    "f,expected",
    [
        (lambda v: v * np.full(3, 2.0), [2.0, 2.0, 2.0]),  # a float64 array constant
        (lambda v: v * np.float64(2.0), [2.0, 2.0, 2.0]),  # NumPy float64 scalar (strong)
        (lambda v: v @ np.full((3, 2), 2.0), [4.0, 4.0, 4.0]),  # 2 per output column
        (lambda v: v / Variable(np.full(3, 2.0)), [0.5, 0.5, 0.5]),  # a float64 Variable
    ],
    ids=["array", "np_scalar", "matmul", "variable"],
)
def test_gradient_has_its_variables_dtype_when_operands_are_wider(f, expected):
    x = Variable(np.array([1.0, 2.0, 3.0], np.float32))
    y = f(x)
    assert y.dtype == np.float64  # NumPy's promotion: the forward result is wider
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, expected)


def test_integer_variable_gradient_is_not_truncated():
    # Only floating variables get their dtype back: an int gradient would truncate 0.5 to 0.
    x = Variable(np.array([1, 2]))
    (x * 0.5).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.5, 0.5])


def test_mixed_dtype_gradient_double_backward():
    # z = sum((x * 3)^2) with float32 x and a float64 constant: dz/dx = 18 x, d(sum dz/dx)/dx = 18
    x = Variable(np.array([1.0, 2.0], np.float32))
    z = ((x * np.float64(3.0)) ** 2).sum()
    z.backward(create_graph=True)
    gx = x.grad
    assert gx.dtype == np.float32
    np.testing.assert_allclose(gx.data, [18.0, 36.0])
    x.cleargrad()
    gx.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [18.0, 18.0])
