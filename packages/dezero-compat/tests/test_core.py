"""dezero.compat.core: DeZero's backward rule, Variables everywhere, as_variable, Function."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat as dezero
from dezero.compat import Function, Variable
from dezero.compat import core as C
from dezero.core import Variable as NativeVariable
from dezero.core import testing as native_testing
from dezero.core.ops import arithmetic as native_arithmetic


def test_backward_starts_from_an_existing_grad():
    # DeZero: y.grad set before backward is the starting gradient. d(x^2)/dx * 10 = 60.
    x = Variable(np.array(3.0))
    y = x * x
    y.grad = Variable(np.array(10.0))
    y.backward()
    assert float(x.grad.data) == 60.0
    # Without one, backward starts from ones: 2x = 6, accumulated onto the 60.
    y = x * x
    y.backward()
    assert float(x.grad.data) == 66.0


def test_backward_on_native_results_and_retained_grads():
    x = Variable(np.array([1.0, 2.0]))
    y = C.mul(x, x)  # a function of this package: its result is this package's Variable
    assert type(y) is Variable
    z = C.add(y, 1.0)
    z.backward(retain_grad=True)
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    # A second pass from the retained gradient of y (DeZero's rule): x.grad += 2x * y.grad.
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_native_variables_are_variables():
    v = NativeVariable(np.array(1.0))
    assert isinstance(v, Variable) and issubclass(NativeVariable, Variable)
    assert isinstance(Variable(np.array(1.0)), NativeVariable)
    assert not isinstance(np.array(1.0), Variable)


@pytest.mark.parametrize("op, ref", [
    (lambda a, b: a + b, lambda a, b: a + b), (lambda a, b: a - b, lambda a, b: a - b),
    (lambda a, b: a * b, lambda a, b: a * b), (lambda a, b: a / b, lambda a, b: a / b),
    (lambda a, b: 2.0 - a, lambda a, b: 2.0 - a), (lambda a, b: 3.0 / a, lambda a, b: 3.0 / a),
    (lambda a, b: a ** 3, lambda a, b: a ** 3), (lambda a, b: -a, lambda a, b: -a),
    (lambda a, b: C.rsub(a, b), lambda a, b: b - a),
    (lambda a, b: C.rdiv(a, b), lambda a, b: b / a),
    (lambda a, b: C.pow(a, 2), lambda a, b: a ** 2), (lambda a, b: C.neg(a), lambda a, b: -a),
])
def test_operators_give_variables_of_this_package(op, ref):
    a, b = np.array([1.5, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    y = op(Variable(a), Variable(b))
    assert type(y) is Variable
    np.testing.assert_allclose(y.data, ref(a, b), rtol=1e-15)


def test_shape_methods_give_variables_of_this_package():
    x = Variable(np.arange(6.0).reshape(2, 3))
    for y in (x.reshape(3, 2), x.transpose(), x.T, x.sum(axis=0), x[1], x.max(), x.min()):
        assert type(y) is Variable
    np.testing.assert_array_equal(x.T.data, np.arange(6.0).reshape(2, 3).T)


def test_as_variable_needs_a_gradient_as_in_dezero():
    x = C.as_variable(np.array(2.0))
    assert type(x) is Variable
    (x * x * x).backward()
    assert float(x.grad.data) == 12.0  # 3 x^2
    v = Variable(np.array(1.0))
    assert C.as_variable(v) is v
    assert C.as_array(1.5).shape == () and C.as_array(np.ones(2)).shape == (2,)


def test_user_function_in_dezero_style():
    class Cube(Function):
        def forward(self, x):
            return x ** 3

        def backward(self, gy):
            (x,) = self.inputs
            return 3 * x ** 2 * gy

    x = Variable(np.array(2.0))
    y = Cube()(x)
    assert type(y) is Variable and y.creator is not None and y.generation == 1
    y.backward(create_graph=True)
    assert float(x.grad.data) == 12.0
    gx = x.grad
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == 12.0  # d/dx 3x^2 = 6x


def test_config_and_modes():
    assert dezero.Config.enable_backprop is True
    with dezero.no_grad():
        y = Variable(np.array(2.0)) * 2
        assert y.creator is None and dezero.Config.enable_backprop is False
    with dezero.using_config("train", False):
        assert dezero.Config.train is False
    with dezero.test_mode():
        assert dezero.Config.train is False
    assert dezero.Config.train is True
    assert dezero.setup_variable() is None


def test_variable_rejects_what_dezero_rejects():
    with pytest.raises(TypeError):
        Variable(1.0)
    assert repr(Variable(np.array([1.0, 2.0]))) == "variable([1. 2.])"
    assert repr(Variable(None)) == "variable(None)"


def test_dezeros_rule_holds_over_the_native_fresh_start():
    # The native backward takes grad= and never starts from an existing .grad; compat
    # starts from the existing .grad, through grad=, as DeZero does.
    assert C._NATIVE_TAKES_GRAD
    x = NativeVariable(np.array(3.0))
    y = x * x
    y.grad = NativeVariable(np.array(10.0))
    y.backward()
    assert float(x.grad.data) == 6.0  # native: from ones, the old .grad ignored
    x = Variable(np.array(3.0))
    y = x * x
    y.grad = Variable(np.array(10.0))
    y.backward()
    assert float(x.grad.data) == 60.0  # compat: 10 * dy/dx = 10 * 6
    leaf = Variable(np.array(1.0))
    leaf.grad = Variable(np.array(5.0))
    leaf.backward()
    assert float(leaf.grad.data) == 5.0  # DeZero keeps a leaf's own gradient


# ---------------------------------------------------------------- DeZero's Function classes
def _check_class(make, inputs, ref, grads, rtol=1e-10):
    """``make()(*inputs)`` against the NumPy ``ref``; the gradient of each input in ``grads``
    against central differences."""
    y = make()(*inputs)
    assert isinstance(y, Variable) and type(y) is not NativeVariable
    np.testing.assert_allclose(y.data, ref, rtol=rtol, atol=1e-12)
    for i in grads:
        def f(v, i=i):
            return make()(*inputs[:i], v, *inputs[i + 1:])
        assert native_testing.gradient_check(f, inputs[i])


_RS = np.random.RandomState(7)
_A, _B = _RS.randn(2, 3), _RS.uniform(0.5, 2.0, (3,))


@pytest.mark.parametrize("name, args, inputs, ref", [
    ("Add", (), (_A, _B), _A + _B),
    ("Sub", (), (_A, _B), _A - _B),
    ("Mul", (), (_A, _B), _A * _B),
    ("Div", (), (_A, _B), _A / _B),
    ("Neg", (), (_A,), -_A),
    ("Pow", (3,), (_A,), _A ** 3),
    ("Pow", (0.5,), (_B,), _B ** 0.5),
])
def test_function_classes(name, args, inputs, ref):
    cls = getattr(C, name)
    assert issubclass(cls, Function) and issubclass(cls, getattr(native_arithmetic, name))
    _check_class(lambda: cls(*args), inputs, ref, range(len(inputs)))


def test_pow_node_reused_and_in_a_graph():
    f = C.Pow(2)
    x = Variable(np.array([1.0, -3.0]))
    y = f(x) + f(x)  # the engine copies a node that is called again
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data)
    assert isinstance(y.creator.inputs[0].creator, C.Pow)


def test_a_scalar_operand_is_a_second_input_as_in_dezero():
    # DeZero records x * 2.0 as Mul(x, constant); native dezero holds the scalar in a
    # one-input node. Compat keeps DeZero's graph (and its pictures), values unchanged.
    native = native_arithmetic
    x = Variable(np.array([1.0, -2.0]))
    for y, cls, ref in (
        (x * 2.0, native.Mul, [2.0, -4.0]), (2.0 * x, native.Mul, [2.0, -4.0]),
        (x + 1, native.Add, [2.0, -1.0]), (1 - x, native.Sub, [0.0, 3.0]),
        (x / 2, native.Div, [0.5, -1.0]), (4 / x, native.Div, [4.0, -2.0]),
        (C.mul(x, 3), native.Mul, [3.0, -6.0]), (C.rsub(x, 1), native.Sub, [0.0, 3.0]),
    ):
        assert isinstance(y.creator, cls)
        assert len(y.creator.inputs) == 2 and isinstance(y, Variable)
        np.testing.assert_allclose(y.data, ref)


def test_function_outputs_are_weak_references_as_in_dezero():
    # DeZero's Function keeps weak references to its outputs, and the book's formulas read
    # them (``y = self.outputs[0]()``); a native node with one output keeps none.
    class Exp(Function):
        def forward(self, x):
            return np.exp(x)

        def backward(self, gy):
            y = self.outputs[0]()
            return gy * y

    x = Variable(np.array([0.5, -1.0]))
    f = Exp()
    y = f(x)
    assert f.outputs[0]() is y and y.creator is f
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))
    z = f(x)  # called again: a copy is the new node, with its own outputs
    assert z.creator is not f and z.creator.outputs[0]() is z and f.outputs[0]() is y
    del y
    assert f.outputs[0]() is None
