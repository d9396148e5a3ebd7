"""Function: user-defined ops with DeZero's signature, needs_input_grad, errors, devices."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.core as dz
from dezero.core import Function, Variable, backend, mul
from dezero.core.backend import Backend, DeviceMismatchError
from dezero.core.ops import arithmetic


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.inputs[0] * gy


class Affine(Function):
    """y = a * x + b, with a DeZero-style backward that returns all three gradients."""

    def forward(self, x, a, b):
        return a * x + b

    def backward(self, gy):
        x, a, b = self.inputs
        self.seen_needs = self.needs_input_grad
        return gy * a, gy * x, gy


def test_user_function_dezero_signature():
    x = Variable(np.array(3.0))
    y = Square()(x)
    y.backward()
    assert float(y.data) == 9.0 and float(x.grad.data) == 6.0
    assert y.creator.inputs[0] is x


def test_unneeded_gradients_are_dropped():
    f = Affine()
    x = Variable(np.array([1.0, 2.0]))
    a = np.array([3.0, 4.0])  # raw array: a constant
    y = f(x, a, 5.0)
    y.sum().backward()
    assert f.seen_needs == (True, False, False)
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_backward_returning_list_or_single():
    class TwoIn(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            a, b = self.inputs
            return [gy * b, gy * a]

    a, b = Variable(np.array(2.0)), Variable(np.array(5.0))
    TwoIn()(a, b).backward()
    assert float(a.grad.data) == 5.0 and float(b.grad.data) == 2.0


def test_multiple_outputs_unused_output_gets_zero_gradient():
    class Split(Function):
        def forward(self, x):
            return x[:2].copy(), x[2:].copy()

        def backward(self, g0, g1):
            from dezero.core import reshape  # noqa: F401  (formulas use Variable ops)

            xp = np
            return Variable(xp.concatenate([g0.data, g1.data]))

    x = Variable(np.arange(5.0))
    y0, y1 = Split()(x)
    (y0 * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0, 0.0, 0.0, 0.0])


def test_wrongly_shaped_gradient_names_the_function():
    class Bad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return Variable(np.ones(7))

    with pytest.raises(ValueError) as e:
        Bad()(Variable(np.ones(3))).backward()
    assert "Bad" in str(e.value) and "(7,)" in str(e.value) and "(3,)" in str(e.value)


def test_wrong_number_of_gradients_names_the_function():
    class Short(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return (gy,)

    with pytest.raises(ValueError, match="Short.backward returned 1 gradient"):
        Short()(Variable(np.ones(2)), Variable(np.ones(2))).backward()


def test_builtin_mul_skips_unneeded_product(monkeypatch):
    calls = []
    original = arithmetic.Mul.forward

    def spy(self, a, b):
        calls.append(1)
        return original(self, a, b)

    monkeypatch.setattr(arithmetic.Mul, "forward", spy)
    x = Variable(np.ones(3))
    y = mul(x, np.full(3, 2.0))
    calls.clear()
    y.backward()
    assert len(calls) == 1  # gy * c only
    y = mul(x, Variable(np.full(3, 2.0)))
    calls.clear()
    y.backward()
    assert len(calls) == 2


# ---------------------------------------------------------------- devices
class FakeArray(np.ndarray):
    """A NumPy array subclass standing for an array on another device."""


class FakeBackend(Backend):
    name = "fake"

    @property
    def xp(self):
        return np

    def is_array(self, x):
        return isinstance(x, FakeArray)

    def device(self, x):
        return "fake:0"

    def from_numpy(self, a, device=None):
        return np.asarray(a).view(FakeArray)

    def to_numpy(self, a):
        return np.asarray(a).view(np.ndarray)


@pytest.fixture
def fake_backend(monkeypatch):
    monkeypatch.setattr(backend, "_backends", dict(backend._backends))
    monkeypatch.setattr(backend, "_by_type", dict(backend._by_type))
    b = backend.register_backend(FakeBackend())
    yield b
    assert "fake" in backend._backends  # the registry copy is dropped by monkeypatch


def test_device_mismatch_names_function_and_devices(fake_backend):
    a = Variable(np.ones(3))
    f = Variable(np.ones(3).view(FakeArray))
    with pytest.raises(DeviceMismatchError) as e:
        a + f
    msg = str(e.value)
    assert "Add" in msg and "cpu" in msg and "fake:0" in msg
    with pytest.raises(DeviceMismatchError, match="MatMul"):
        Variable(np.ones((2, 2))) @ Variable(np.ones((2, 2)).view(FakeArray))


def test_same_foreign_device_is_fine(fake_backend):
    f = Variable(np.ones(3).view(FakeArray))
    y = f * 2.0 + f
    np.testing.assert_array_equal(np.asarray(y.data), [3.0, 3.0, 3.0])


def test_fake_backend_removed_after_test():
    assert "fake" not in backend._backends


def test_a_function_instance_called_twice_keeps_both_graphs_correct():
    # Reusing one instance must not overwrite the first node: the first graph's gradient
    # would silently go to the second call's inputs.
    import numpy as np

    from dezero.core import Function, Variable

    class Square(Function):
        def forward(self, x):
            self.x_shape = x.shape  # state that backward relies on
            return x * x

        def backward(self, gy):
            assert gy.shape == self.x_shape
            return 2 * self.inputs[0] * gy

    f = Square()
    x1, x2 = Variable(np.array(2.0)), Variable(np.array([3.0, 4.0]))
    y1 = f(x1)
    y2 = f(x2)
    y1.backward()
    y2.sum().backward()
    assert float(x1.grad.data) == 4.0
    assert np.array_equal(x2.grad.data, np.array([6.0, 8.0]))
    assert y1.creator is f and y2.creator is not f


def test_an_input_without_data_is_named_in_the_error():
    import numpy as np
    import pytest

    from dezero.core import Variable

    with pytest.raises(ValueError, match=r"Mul: input 0 holds no data"):
        Variable(None) * np.array(2.0)


def _the_gradient(gxs):
    # The one gradient a single-Variable op returns (a constant operand's slot is None).
    gxs = gxs if isinstance(gxs, tuple) else (gxs,)
    (g,) = [g for g in gxs if g is not None]
    return g


@pytest.mark.parametrize(
    "op, grad",
    [
        (dz.exp, np.exp),
        (dz.tanh, lambda a: 1 - np.tanh(a) ** 2),
        (lambda v: 2.0**v, lambda a: 2.0**a * np.log(2.0)),
        (lambda v: dz.max(v, axis=1), None),
    ],
)
def test_backward_reuses_the_output_in_a_pass_and_recomputes_it_elsewhere(
    op, grad, monkeypatch
):
    # A formula that reuses the forward result (output_or) gets the output from the
    # backward pass, which reached the node through it: the forward does not run again.
    # Called outside a pass (nothing hands it the output), it recomputes: same gradient.
    a = np.array([[0.3, -1.2, 0.7], [2.0, 0.1, -0.5]])
    want = grad(a) if grad is not None else (a == a.max(axis=1, keepdims=True)).astype(float)
    x = dz.Variable(a)
    y = op(x)
    f = y.creator
    runs = []
    forward = type(f).forward
    monkeypatch.setattr(type(f), "forward", lambda self, *xs: runs.append(1) or forward(self, *xs))
    y.backward(grad=np.ones(y.shape))
    assert runs == []
    np.testing.assert_allclose(x.grad.data, want)
    del y
    with dz.no_grad():
        gone = _the_gradient(f.backward(dz.Variable(np.ones(want.shape[:1] if grad is None
                                                            else want.shape))))
    assert runs == [1]
    np.testing.assert_allclose(gone.data, want)


def test_a_node_keeps_no_reference_to_its_output():
    # A graph is a tree of strong references from its outputs down: dropping the output
    # frees it although its node lives on (kept by a consumer), and no cycle is left.
    import gc
    import weakref

    x = dz.Variable(np.array([1.0, 2.0]))
    y = dz.exp(x)
    z = y * 3.0
    seen = {}

    class Probe(Function):
        def forward(self, v):
            return v * 2

        def backward(self, gy):
            seen["outputs"] = [r() for r in self.outputs]
            seen["output_or"] = self.output_or(lambda: None)
            return gy * 2

    w = Probe()(z)
    w.backward(grad=np.ones(2))
    assert seen["outputs"] == [w] and seen["output_or"] is w
    assert w.creator.outputs == [] and w.creator._y is None  # nothing kept after the pass
    seen.clear()
    r = weakref.ref(w)
    node = w.creator
    del w
    assert r() is None and node.inputs[0] is z  # the output is gone, its node is not
    gc.collect()
    assert gc.collect() == 0


def test_a_formula_that_raises_leaves_no_output_tied_to_its_node():
    # The pass hands a node its output while the formula runs; when the formula raises,
    # the node must not keep it (which would tie output and node in a cycle).
    import gc

    class Broken(Function):
        def forward(self, v):
            return v + 1

        def backward(self, gy):
            raise RuntimeError("broken formula")

    x = dz.Variable(np.array([1.0]))
    y = Broken()(x)
    node = y.creator
    with pytest.raises(RuntimeError, match="broken formula"):
        y.backward()
    assert node._y is None and node.outputs == []
    gc.collect()
    del y, node
    assert gc.collect() == 0
