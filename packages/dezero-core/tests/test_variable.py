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
