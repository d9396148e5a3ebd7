"""The backend registry: NumPy built in, plug-ins, transfers, GPU errors, scatter-add."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, backend, get_array_module
from dezero.core.backend import (
    Backend,
    GPUUnavailableError,
    backend_of,
    gpu_status,
    register_backend,
    require_gpu,
    to_cpu,
    to_device,
    to_gpu,
)
from dezero.core.testing import HostGPUBackend, isolated_backends


@pytest.fixture
def no_gpu_registry():
    """A registry holding NumPy alone, with entry points treated as loaded (none found)."""
    with isolated_backends():
        yield





def test_get_array_module():
    assert get_array_module(np.ones(2)) is np
    assert get_array_module(Variable(np.ones(2))) is np
    assert get_array_module(1.0) is np
    assert backend_of(np.float32(1)).name == "numpy"


def test_backend_of_unknown_type():
    with pytest.raises(TypeError, match="not an array of any registered backend"):
        backend_of("abc")


def test_numpy_backend_methods():
    b = backend.get_backend("numpy")
    a = np.zeros(4)
    b.scatter_add(a, np.array([1, 1, 3]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(a, [0.0, 3.0, 0.0, 5.0])
    assert b.device(a) == "cpu" and not b.is_gpu and b.available() == (True, "")
    assert b.to_numpy(a) is a or np.array_equal(b.to_numpy(a), a)


def test_get_backend_unknown(no_gpu_registry):
    with pytest.raises(KeyError, match="no backend named 'nope'"):
        backend.get_backend("nope")


def test_register_backend_validates():
    with pytest.raises(TypeError, match="register_backend"):
        register_backend("cupy")  # type: ignore[arg-type]


def test_to_cpu_and_to_device_cpu():
    a = np.ones(3)
    assert to_cpu(a) is a and to_cpu(None) is None
    assert isinstance(to_cpu(np.float64(2.0)), np.ndarray)
    assert to_device(a, "cpu") is a
    with pytest.raises(ValueError, match="to_device"):
        to_device(a, "tpu")


def test_to_gpu_without_backend_names_dezero_cuda(no_gpu_registry):
    ok, reason = gpu_status()
    assert not ok and "dezero-cuda" in reason
    with pytest.raises(GPUUnavailableError, match="dezero-cuda"):
        to_gpu(np.ones(2))
    with pytest.raises(GPUUnavailableError, match="dezero-cuda"):
        Variable(np.ones(2)).to_gpu()
    with pytest.raises(GPUUnavailableError, match="my_caller"):
        require_gpu("my_caller")
    with pytest.raises(GPUUnavailableError):
        to_device(np.ones(2), "cuda:0")


class _BrokenGPU(Backend):
    name = "broken-gpu"
    is_gpu = True

    def is_array(self, x):
        return False

    def available(self):
        raise RuntimeError("driver exploded")



def test_gpu_status_survives_broken_backend(no_gpu_registry):
    register_backend(_BrokenGPU())
    ok, reason = gpu_status()
    assert not ok and "driver exploded" in reason


def test_transfer_through_registered_gpu_backend(no_gpu_registry):
    register_backend(HostGPUBackend())
    assert gpu_status() == (True, "")
    v = Variable(np.arange(3.0))
    (v * 2.0).sum().backward()
    v.to_gpu()
    assert isinstance(v.data, HostGPUBackend.Array)
    assert isinstance(v.grad.data, HostGPUBackend.Array)
    assert backend.device_of(v) == "cuda:0"
    v.to_cpu()
    assert type(v.data) is np.ndarray and type(v.grad.data) is np.ndarray
    np.testing.assert_array_equal(v.data, [0.0, 1.0, 2.0])


def test_entry_points_are_loaded(monkeypatch, no_gpu_registry):
    monkeypatch.setattr(backend, "_entry_points_loaded", False)

    class EP:
        def load(self):
            return HostGPUBackend

    class Missing:
        def load(self):
            raise ImportError("cupy missing")

    import importlib.metadata as md

    monkeypatch.setattr(md, "entry_points", lambda group: [Missing(), EP()])
    assert gpu_status()[0] is True
    assert backend.get_backend("host-gpu").is_gpu


def test_get_array_module_accepts_numpy_scalars():
    # np.generic has a ``.data`` buffer attribute: it must not be taken for a Variable's data.
    import numpy as np

    from dezero.core.backend import device_of, get_array_module

    assert get_array_module(np.float32(1.5)) is np
    assert get_array_module(np.int64(3)) is np
    assert device_of(np.float64(2.0)) == "cpu"


def test_get_array_module_does_not_unwrap_foreign_arrays_data_attribute():
    # CuPy arrays carry ``.data`` (a memory pointer): only Variables may be unwrapped.
    import numpy as np

    from dezero.core import Variable
    from dezero.core.backend import _unwrap

    class Pointerish(np.ndarray):
        pass

    a = np.zeros(2).view(Pointerish)
    assert _unwrap(a) is a
    v = Variable(np.zeros(3))
    assert _unwrap(v) is v.data


def test_numpy_scalar_constant_meets_gpu_array_as_a_scalar(no_gpu_registry):
    # CuPy rejects numpy.ndarray operands (0-d too) but takes NumPy scalars: a constant
    # np.float32 must reach forward as a scalar and pass the device check.
    from dezero.core import Function

    register_backend(HostGPUBackend())
    seen = []

    class Probe(Function):
        def forward(self, x, c):
            seen.append(type(c))
            return x * c

        def backward(self, gy):
            return gy * self.inputs[1].data, None

    x = Variable(HostGPUBackend().from_numpy(np.array([1.0, 2.0], np.float32)))
    y = Probe()(x, np.float32(3.0))
    assert seen == [np.float32]
    assert isinstance(y.data, HostGPUBackend.Array) and y.dtype == np.float32
    z = x * np.float32(2.0)  # the operator path: no DeviceMismatchError
    assert isinstance(z.data, HostGPUBackend.Array) and z.dtype == np.float32
    # (Not through sum(): a full reduction of an ndarray subclass gives a host scalar.)
    z.backward()
    assert isinstance(x.grad.data, HostGPUBackend.Array)
    np.testing.assert_array_equal(to_cpu(x.grad.data), [2.0, 2.0])
    # A NumPy-scalar base, differentiated in the exponent: d(2^x)/dx = 2^x ln 2.
    x.cleargrad()
    (np.float32(2.0) ** x).backward()
    assert isinstance(x.grad.data, HostGPUBackend.Array)
    np.testing.assert_allclose(to_cpu(x.grad.data), [2 * np.log(2), 4 * np.log(2)], rtol=1e-6)
    # A real host array still does not mix with device arrays.
    with pytest.raises(backend.DeviceMismatchError, match="different devices"):
        x * np.array([1.0, 1.0], np.float32)


def test_backend_of_finds_plugin_array_through_entry_points(monkeypatch, no_gpu_registry):
    # A CuPy array created before dezero.cuda was imported: the installed plug-in's entry
    # point must be consulted on the miss, not a TypeError raised.
    class Foreign:  # like cupy.ndarray: not a numpy.ndarray subclass
        shape, dtype = (2,), np.dtype(np.float32)

    class ForeignGPU(Backend):
        name = "foreign-gpu"
        is_gpu = True

        def is_array(self, x):
            return isinstance(x, Foreign)

        def device(self, x):
            return "cuda:0"

    class EP:
        def load(self):
            return ForeignGPU

    import importlib.metadata as md

    a = Foreign()
    with pytest.raises(TypeError, match="not an array of any registered backend"):
        backend_of(a)  # entry points already loaded (none): still a clear TypeError
    monkeypatch.setattr(backend, "_entry_points_loaded", False)
    monkeypatch.setattr(md, "entry_points", lambda group: [EP()])
    assert backend_of(a).name == "foreign-gpu"
    v = Variable(a)
    assert backend.device_of(v) == "cuda:0"
