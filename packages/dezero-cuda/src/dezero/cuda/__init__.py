"""dezero.cuda: the CuPy (NVIDIA GPU) backend plug-in — availability, transfer, devices, memory.

Importing this package registers the CuPy backend into ``dezero.core.backend`` (the
``dezero.backends`` entry point does the same for installed users who never import it).
CuPy itself is imported only when first used, so this import is cheap and never fails
for want of CuPy or a GPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from dezero.core.backend import GPUUnavailableError, get_array_module
from dezero.core.variable import Variable
from dezero.cuda.__about__ import __version__
from dezero.cuda._backend import CupyBackend, device_id, import_cupy, load

__all__ = [
    "__version__",
    "CupyBackend",
    "GPUUnavailableError",
    "MemoryInfo",
    "as_cupy",
    "as_numpy",
    "backend",
    "device",
    "device_count",
    "free_memory",
    "get_array_module",
    "gpu_enable",
    "gpu_status",
    "memory_info",
]

#: The registered CuPy backend (the same instance the entry point returns).
backend: CupyBackend = load()


def gpu_status() -> tuple[bool, str]:
    """``(usable, reason)``: whether CuPy imports and a CUDA device answers, and why not."""
    try:
        return backend.available()
    except Exception as e:  # a broken driver must not crash a status query
        return False, f"checking the GPU failed: {type(e).__name__}: {e}"


class _GpuEnable:
    """``gpu_enable``: true only when CuPy imports and a CUDA device answers; never raises.

    Written either way, it means the same, asked afresh each time:
    ``gpu_enable()`` (a call, returning a bool) and ``if gpu_enable:`` (DeZero's spelling,
    where it was a module-level bool). ``__bool__`` and ``__call__`` give the same answer,
    so neither spelling is a trap; a plain function would be always true in ``if``.
    """

    __slots__ = ()

    def __call__(self) -> bool:
        return bool(gpu_status()[0])

    def __bool__(self) -> bool:
        return self()

    def __repr__(self) -> str:
        return f"<dezero.cuda.gpu_enable: {self()}>"


#: True only when CuPy imports and at least one CUDA device answers; never raises.
#: Use it as a call, ``gpu_enable()``, or as DeZero's flag, ``if gpu_enable:``.
gpu_enable = _GpuEnable()


def device_count() -> int:
    """How many CUDA devices are visible; 0 when the GPU is not usable. Never raises."""
    try:
        return backend.device_count()
    except Exception:
        return 0


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Variable) else x


def as_numpy(x: Any) -> Any:
    """A NumPy array holding ``x`` (a Variable, a CuPy/NumPy array or a scalar).

    NumPy arrays are returned as they are (no copy); CuPy arrays are copied to the host;
    None stays None.
    """
    a = _data(x)
    if a is None or isinstance(a, np.ndarray):
        return a
    if backend.is_array(a):
        return backend.to_numpy(a)
    return np.asarray(a)


def as_cupy(x: Any, device: Any = None) -> Any:
    """A CuPy array holding ``x`` (a Variable, a NumPy/CuPy array or a scalar).

    CuPy arrays already on the requested device are returned as they are.

    Raises:
        GPUUnavailableError: CuPy is missing or no CUDA device answers (the message says
            which, with CuPy's own reason).
    """
    ok, reason = gpu_status()
    if not ok:
        raise GPUUnavailableError(f"as_cupy: the GPU is not usable: {reason}")
    a = _data(x)
    if a is None:
        return None
    if backend.is_array(a) and (device is None or a.device.id == device_id(device, "as_cupy")):
        return a
    return backend.from_numpy(a if backend.is_array(a) else np.asarray(a), device)


@contextlib.contextmanager
def device(n: Any) -> Iterator[Any]:
    """Make CUDA device ``n`` (an int or ``"cuda:N"``) current inside a ``with`` block.

    ``to_gpu()`` without a device, ``as_cupy`` and CuPy array creation use the current
    device, so ``with device(1): model.to_gpu()`` puts the model on the second GPU.
    Yields the ``cupy.cuda.Device``.
    """
    num = device_id(n, "device")
    ok, reason = gpu_status()
    if not ok:
        raise GPUUnavailableError(f"device: the GPU is not usable: {reason}")
    count = device_count()
    if num >= count:
        raise ValueError(
            f"device: device {num} does not exist; {count} CUDA device(s) visible (0..{count - 1})"
        )
    cupy = import_cupy()
    with cupy.cuda.Device(num) as d:
        yield d


class MemoryInfo(NamedTuple):
    """Bytes held by CuPy's default memory pool on the current device."""

    used_bytes: int
    total_bytes: int


def memory_info() -> MemoryInfo:
    """Bytes in use by arrays and bytes held by CuPy's memory pool (used + cached).

    Raises:
        GPUUnavailableError: CuPy is missing or no CUDA device answers.
    """
    ok, reason = gpu_status()
    if not ok:
        raise GPUUnavailableError(f"memory_info: the GPU is not usable: {reason}")
    pool = import_cupy().get_default_memory_pool()
    return MemoryInfo(int(pool.used_bytes()), int(pool.total_bytes()))


def free_memory() -> int:
    """Return CuPy's cached, unused blocks (device and pinned host) to the driver.

    Returns the number of device bytes released; 0 (and nothing done) when the GPU is
    not usable, so cleanup code may call it anywhere.
    """
    if not gpu_enable():
        return 0
    cupy = import_cupy()
    pool = cupy.get_default_memory_pool()
    before = int(pool.total_bytes())
    pool.free_all_blocks()
    cupy.get_default_pinned_memory_pool().free_all_blocks()
    return before - int(pool.total_bytes())
