"""dezero.core.testing: numerical gradients, gradient_check, array comparisons."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Function, Variable
from dezero.core.testing import array_allclose, array_equal, gradient_check, numerical_grad


def test_numerical_grad_matches_closed_form(xp):
    x = xp.asarray(np.array([0.5, 1.0, 2.0]))
    g = numerical_grad(lambda v: v**3, x)
    np.testing.assert_allclose(g, 3 * np.array([0.5, 1.0, 2.0]) ** 2, rtol=1e-7)
    assert isinstance(g, np.ndarray)


def test_numerical_grad_with_extra_args():
    x = np.array([1.0, 2.0])
    g = numerical_grad(lambda v, c: v * c, x, np.array([3.0, 4.0]))
    np.testing.assert_allclose(g, [3.0, 4.0])


class WrongSquare(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 3 * self.inputs[0] * gy  # wrong: should be 2x


def test_gradient_check_passes_and_fails():
    x = np.array([0.3, -1.2, 2.0])
    assert gradient_check(lambda v: v**2, x) is True
    with pytest.raises(AssertionError, match="backprop and numerical gradients differ"):
        gradient_check(WrongSquare(), x)


def test_gradient_check_catches_wrong_gradient_for_one_element():
    class OffByOne(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            g = gy * 2.0
            return g * Variable(np.array([1.0, 1.0, 1.1]))

    with pytest.raises(AssertionError, match="index \\(2,\\)"):
        gradient_check(OffByOne(), np.array([1.0, 2.0, 3.0]))


def test_gradient_check_no_gradient():
    with pytest.raises(AssertionError, match="no gradient"):
        gradient_check(lambda v: Variable(np.ones(2)) * 1.0, np.ones(2))


def test_array_comparisons_accept_variables_and_arrays(xp):
    a = xp.asarray(np.array([1.0, 2.0]))
    assert array_equal(Variable(a), np.array([1.0, 2.0]))
    assert not array_equal(a, np.array([1.0, 2.5]))
    assert array_allclose(Variable(a), a + 1e-9)
    assert not array_allclose(a, a + 1e-2)
    assert not array_allclose(a, np.ones(3))


def test_isolated_backends_holds_only_what_it_is_given_and_restores_the_registry():
    from dezero.core import backend
    from dezero.core.testing import HostGPUBackend, isolated_backends

    before = dict(backend._backends)
    b = HostGPUBackend()
    with pytest.raises(RuntimeError, match="boom"):
        with isolated_backends(b):
            assert set(backend._backends) == {"numpy", "host-gpu"}
            a = b.from_numpy(np.arange(3.0))
            assert backend.device_of(a) == "cuda:0"
            assert np.array_equal(backend.to_cpu(a), np.arange(3.0))
            assert type(backend.to_cpu(a)) is np.ndarray
            raise RuntimeError("boom")
    assert backend._backends == before


def test_host_gpu_keeps_the_device_through_a_sum_and_its_backward():
    # sum's gradient is broadcast back to the input's shape: the pretend GPU's broadcast
    # must keep the device (NumPy's view drops the subclass), as CuPy's does.
    from dezero.core import Variable
    from dezero.core.backend import device_of, using_device
    from dezero.core.testing import HostGPUBackend, isolated_backends

    with isolated_backends(HostGPUBackend(devices=2)), using_device("cuda:1"):
        x = Variable(np.arange(6.0).reshape(2, 3)).to_gpu("cuda:1")
        (x * x).sum().backward()
        assert device_of(x.grad.data) == "cuda:1"
        np.testing.assert_array_equal(np.asarray(x.grad.data), 2 * np.arange(6.0).reshape(2, 3))
