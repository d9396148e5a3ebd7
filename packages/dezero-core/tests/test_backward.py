"""backward(): the starting gradient, retained gradients, no_grad losses, no cycles."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from dezero.core import Variable, exp, no_grad, tanh


def test_backward_of_a_no_grad_result_says_why():
    x = Variable(np.array([1.0, 2.0]))
    with no_grad():
        loss = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"backward: .*no_grad\(\)"):
        loss.backward()
    assert x.grad is None


def test_backward_of_constants_only_says_why():
    loss = Variable(np.array(2.0)) * 1.0
    loss.creator = None  # what a constant-only result looks like
    loss.requires_grad = False
    with pytest.raises(RuntimeError, match="constants only"):
        loss.backward()


def test_backward_starts_from_ones_not_from_a_left_over_grad():
    x = Variable(np.array([1.0, 2.0]))
    y = x * 3.0
    y.grad = Variable(np.array([5.0, 5.0]))  # left by an earlier pass, or set by hand
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])  # dy/dx, from ones


def test_grad_argument_seeds_the_pass():
    a = np.array([1.0, 2.0, 3.0])
    x = Variable(a)
    (x**2).backward(grad=np.array([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(x.grad.data, 2 * a * [1.0, 10.0, 100.0])
    x.cleargrad()
    (x**2).backward(Variable(np.array([2.0, 2.0, 2.0])))
    np.testing.assert_allclose(x.grad.data, 4 * a)


def test_grad_argument_of_the_wrong_shape_is_named():
    x = Variable(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\).*shape \(2, 3\)"):
        (x * 2.0).backward(grad=np.ones(3))
    assert x.grad is None


def test_retained_gradients_accumulate_and_are_not_propagated_twice():
    # y = 3 * h, h = 2 * x: each pass adds dy/dh = 3 to h.grad and dy/dx = 6 to x.grad,
    # as PyTorch's retained gradients do; an earlier pass's h.grad is not sent on again.
    x = Variable(np.array(1.0))
    h = x * 2.0
    y = h * 3.0
    for n in (1, 2, 3):
        y.backward(retain_grad=True)
        assert float(h.grad.data) == 3.0 * n
        assert float(y.grad.data) == 1.0 * n
        assert float(x.grad.data) == 6.0 * n


def test_intermediate_gradients_are_freed_by_default():
    x = Variable(np.array(1.0))
    h = x * 2.0
    y = h * 3.0
    y.backward()
    assert h.grad is None and y.grad is None and float(x.grad.data) == 6.0


def test_backward_of_a_leaf_adds_ones():
    x = Variable(np.array([1.0, 2.0]))
    x.backward()
    x.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


class _DeZeroVariable(Variable):
    """DeZero's rule through the documented hook: start from an existing ``grad``."""

    __slots__ = ()

    def _initial_grad(self, grad):
        if grad is None and self.grad is not None:
            return self.grad
        return super()._initial_grad(grad)


def test_the_initial_grad_hook_gives_dezeros_rule():
    x = Variable(np.array(2.0))
    y = x * 3.0
    y.__class__ = _DeZeroVariable
    y.grad = Variable(np.array(5.0))
    y.backward(retain_grad=True)
    assert float(x.grad.data) == 15.0  # started from y.grad = 5
    assert float(y.grad.data) == 5.0  # not added to itself


def _f(x):
    return (tanh(x) * exp(x) + x**3).sum()


def test_create_graph_leaves_no_reference_cycles():
    # x.grad's graph reaches x's data, never x itself: dropping x frees it all at once.
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        sizes = []
        for i in range(3000):
            x = Variable(np.linspace(-1.0, 1.0, 10))
            _f(x).backward(create_graph=True)
            if i % 500 == 499:
                sizes.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        del x
        left = gc.collect()
    finally:
        gc.enable()
    assert left == 0, f"{left} objects were only reachable through reference cycles"
    assert max(sizes) - min(sizes) < 20_000, sizes  # flat: no graph kept per call


def test_create_graph_still_gives_second_derivatives():
    # f = sum(tanh(x) e^x + x^3); d2f/dx2 per element, in closed form.
    a = np.linspace(-1.0, 1.0, 5)
    x = Variable(a)
    _f(x).backward(create_graph=True)
    gx = x.grad
    np.testing.assert_allclose(
        gx.data, (1 - np.tanh(a) ** 2) * np.exp(a) + np.tanh(a) * np.exp(a) + 3 * a**2
    )
    x.cleargrad()
    gx.sum().backward()
    t, e = np.tanh(a), np.exp(a)
    d2 = -2 * t * (1 - t**2) * e + 2 * (1 - t**2) * e + t * e + 6 * a
    np.testing.assert_allclose(x.grad.data, d2)
    # Backward again through the same graph: the leaf is still reached.
    x.cleargrad()
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.data, d2)


def test_a_gradient_outliving_its_leaf_still_backpropagates():
    x = Variable(np.array([0.5, -0.5]))
    w = Variable(np.array([2.0, 3.0]))
    (x * w).sum().backward(create_graph=True)
    gw = w.grad  # = x, as a graph
    del x
    w.cleargrad()
    (gw * w).sum().backward()  # d/dw sum(x * w) = x; x's own gradient has no reader
    np.testing.assert_allclose(w.grad.data, [0.5, -0.5])
