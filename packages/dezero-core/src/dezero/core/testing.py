"""Helpers for testing differentiable code: numerical gradients, array comparison, and a
pretend GPU backend for testing device handling on machines without a GPU.

The comparisons accept Variables and arrays of any registered backend (compared on the host).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core._check import *  # noqa: F403  (check_function & co., see _check.__all__)
from dezero.core.variable import Variable

__all__ = [
    "numerical_grad",
    "gradient_check",
    "array_allclose",
    "array_equal",
    "HostGPUBackend",
    "isolated_backends",
]


def _host(x: Any) -> np.ndarray:
    if isinstance(x, Variable):
        x = x.data
    return np.asarray(_backend.to_cpu(x))


def _weights(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    # Fixed, non-uniform output weights: a wrong gradient cannot hide behind symmetry.
    rng = np.random.Generator(np.random.PCG64(1234))
    return rng.uniform(0.5, 1.5, size=shape).astype(dtype)


def numerical_grad(
    f: Callable[..., Any], x: Any, *args: Any, eps: float = 1e-4, **kwargs: Any
) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x, *args, **kwargs))`` with respect to ``x``.

    Returns a host (NumPy) array of ``x``'s shape.
    """
    xdata = x.data if isinstance(x, Variable) else x
    backend = _backend.backend_of(xdata)
    host = _host(xdata).copy()
    grad = np.zeros(host.shape, dtype=np.float64)

    def value(a: np.ndarray) -> float:
        y = f(Variable(backend.from_numpy(a)), *args, **kwargs)
        return float(np.sum(_host(y).astype(np.float64)))

    it = np.nditer(host, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        orig = host[idx].copy()
        host[idx] = orig + eps
        fp = value(host)
        host[idx] = orig - eps
        fm = value(host)
        host[idx] = orig
        grad[idx] = (fp - fm) / (2 * eps)
        it.iternext()
    return grad


def gradient_check(
    f: Callable[..., Any],
    x: Any,
    *args: Any,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    eps: float = 1e-4,
    **kwargs: Any,
) -> bool:
    """Compare backprop's gradient of ``f`` at ``x`` with central differences.

    The outputs are weighted by fixed random factors before summing, so every
    output element's gradient is checked. Use float64 inputs. Returns True, or
    raises AssertionError describing the largest disagreement.
    """
    xdata = x.data if isinstance(x, Variable) else x
    backend = _backend.backend_of(xdata)
    xv = Variable(xdata)
    y = f(xv, *args, **kwargs)
    w = _weights(_host(y).shape, _host(y).dtype)
    yw = y * backend.from_numpy(w) if y.ndim else y * float(w)
    loss = yw.sum() if yw.ndim else yw
    loss.backward()
    if xv.grad is None:
        raise AssertionError("gradient_check: backward produced no gradient for x")
    bp = _host(xv.grad)

    def weighted(v: Variable, *a: Any, **k: Any) -> Any:
        out = f(v, *a, **k)
        return out * backend.from_numpy(w) if out.ndim else out * float(w)

    num = numerical_grad(weighted, xdata, *args, eps=eps, **kwargs)
    if bp.shape != num.shape:
        raise AssertionError(
            f"gradient_check: gradient shape {bp.shape} != input shape {num.shape}"
        )
    if not np.allclose(bp, num, rtol=rtol, atol=atol):
        err = np.abs(bp - num)
        i = np.unravel_index(np.argmax(err), err.shape)
        raise AssertionError(
            f"gradient_check: backprop and numerical gradients differ (max abs error "
            f"{err[i]:.3g} at index {tuple(int(k) for k in i)}: backprop {bp[i]!r}, "
            f"numerical {num[i]!r}; rtol={rtol}, atol={atol})"
        )
    return True


def array_allclose(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether ``a`` and ``b`` (Variables or arrays of any backend) are close, element-wise."""
    a, b = _host(a), _host(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def array_equal(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` (Variables or arrays of any backend) are equal."""
    return bool(np.array_equal(_host(a), _host(b)))


class HostGPUBackend(_backend.Backend):
    """A pretend GPU for tests: its arrays live in host memory but are their own type.

    Arrays are NumPy arrays viewed as
    [`HostGPUBackend.Array`][dezero.core.testing.HostGPUBackend.Array], each carrying the number of
    the pretend device it is on (``devices`` of them, ``cuda:0`` to ``cuda:{devices-1}``), so code
    that moves data between devices, or checks where data lives, can be tested through the backend
    registry on any machine, with several GPUs. Results of NumPy operations stay on their input's
    device. [`use_device`][dezero.core.testing.HostGPUBackend.use_device] makes a device current
    (what ``"cuda"``, ``to_gpu()`` without a device and array creation mean); `transfers` counts
    arrays copied onto the pretend devices and `checks` the availability checks (``available()``
    calls), so a test can see what a call path costs. Register it inside
    [`isolated_backends`][dezero.core.testing.isolated_backends].

    Examples:
        >>> with isolated_backends(HostGPUBackend(devices=2)):
        ...     x = Variable(np.zeros(3)).to_gpu("cuda:1")
        ...     device_of(x)
        Device('cuda:1')
    """

    name = "host-gpu"
    is_gpu = True

    class Array(np.ndarray):
        """The marker type of this backend's arrays; ``device_index`` is its device."""

        device_index: int

        def __array_finalize__(self, obj: Any) -> None:
            self.device_index = getattr(obj, "device_index", 0)

        def __array_wrap__(self, obj: Any, context: Any = None, return_scalar: bool = False) -> Any:
            # Reductions give 0-d arrays on the device, as CuPy's do, not host scalars.
            return super().__array_wrap__(obj, context, False)

    def __init__(self, devices: int = 1) -> None:
        if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
            raise ValueError(f"HostGPUBackend: devices must be a positive int, got {devices!r}")
        self.devices = devices
        self.current = 0
        self.transfers = 0
        self.checks = 0
        self._xp = _HostGPUModule(self)

    def available(self) -> tuple[bool, str]:
        self.checks += 1
        return True, ""

    @property
    def xp(self) -> Any:
        return self._xp

    def is_array(self, x: Any) -> bool:
        return isinstance(x, HostGPUBackend.Array)

    def _place(self, a: np.ndarray, index: int | None = None) -> Any:
        out = a.view(HostGPUBackend.Array)
        out.device_index = self.current if index is None else index
        return out

    def device(self, x: Any) -> _backend.Device:
        return self.device_at(x.device_index)

    def device_count(self) -> int:
        return self.devices

    def current_device(self) -> int:
        return self.current

    @contextlib.contextmanager
    def use_device(self, number: int) -> Iterator[None]:
        """Make pretend device ``number`` current inside a ``with`` block."""
        saved, self.current = self.current, number
        try:
            yield
        finally:
            self.current = saved

    def from_numpy(self, a: Any, device: int | None = None) -> Any:
        index = self.current if device is None else device
        if not 0 <= index < self.devices:
            raise ValueError(f"HostGPUBackend: no device {index} (of {self.devices})")
        self.transfers += 1
        return self._place(np.array(a), index)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.array(a).view(np.ndarray)

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        np.add.at(a, indices, values)

    def uniform(
        self, rng: np.random.Generator, shape: tuple[int, ...], dtype: Any,
        device: int | None = None,
    ) -> Any:
        # As a real GPU backend does: one number from the framework's generator seeds a
        # generator "on the device", which makes the draws there.
        key = int(rng.integers(0, 2**63))
        local = np.random.Generator(np.random.Philox(key))
        return self._place(_backend._host_uniform(local, shape, dtype), device)


class _HostGPUModule(types.ModuleType):
    """NumPy as HostGPUBackend's array module: as with CuPy, ``asarray`` of a host array and
    the creation functions (``zeros``, ``arange``...) give arrays on the current device."""

    _CREATORS = frozenset({"zeros", "ones", "empty", "full", "arange", "eye", "identity",
                           "linspace"})

    def __init__(self, backend: HostGPUBackend) -> None:
        super().__init__("dezero.core.testing.host_gpu_numpy")
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if name in self._CREATORS:
            return lambda *a, **k: self._backend._place(np.asarray(attr(*a, **k)))
        return attr

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        if isinstance(a, HostGPUBackend.Array):
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        return self._backend._place(np.asarray(a, dtype))

    def array(self, a: Any, dtype: Any = None, copy: bool = True) -> Any:
        if isinstance(a, HostGPUBackend.Array):
            return a.astype(a.dtype if dtype is None else dtype, copy=copy)
        return self._backend._place(np.array(a, dtype))

    def broadcast_to(self, a: Any, shape: Any) -> Any:
        # NumPy's view drops the subclass (and so the device) unless asked to keep it.
        return np.broadcast_to(a, shape, subok=True)


@contextlib.contextmanager
def isolated_backends(*backends: _backend.Backend) -> Iterator[None]:
    """Run a block with a registry holding NumPy and ``backends`` alone.

    Installed plug-ins (entry points) are treated as loaded, so none joins in; the
    previous registry comes back on exit, also after an exception.
    """
    saved = (_backend._backends, _backend._by_type, _backend._entry_points_loaded)
    _backend._backends = {"numpy": _backend._NUMPY}
    _backend._by_type = {np.ndarray: _backend._NUMPY}
    _backend._entry_points_loaded = True
    try:
        for b in backends:
            _backend.register_backend(b)
        yield
    finally:
        _backend._backends, _backend._by_type, _backend._entry_points_loaded = saved
