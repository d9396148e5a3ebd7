"""The backend registry: the one place that knows which array library holds which array.

NumPy is built in. GPU back-ends (CuPy, from the ``dezero-cuda`` package) register
themselves here, either when their package is imported or through the
``dezero.backends`` entry-point group, so no other dezero package needs to import
them. Everything device-specific goes through :func:`get_array_module`,
:func:`to_device` and the few :class:`Backend` methods below.
"""

from __future__ import annotations

import threading
import warnings
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "Backend",
    "NumpyBackend",
    "GPUUnavailableError",
    "DeviceMismatchError",
    "register_backend",
    "get_backend",
    "backend_of",
    "get_array_module",
    "to_device",
    "to_cpu",
    "to_gpu",
    "gpu_status",
    "is_array",
    "device_of",
    "seed_backends",
]


class GPUUnavailableError(RuntimeError):
    """Raised when GPU work is asked for but no usable GPU backend exists."""


class DeviceMismatchError(ValueError):
    """Raised when one Function is given arrays that live on different devices."""


class Backend:
    """An array library dezero can compute with.

    Subclasses set ``name`` (``"numpy"``, ``"cupy"``) and ``xp`` (the module)
    and override the methods whose spelling differs between libraries.
    """

    name: str = ""
    #: True for device (GPU) back-ends: ``to_gpu()`` looks for one of these.
    is_gpu: bool = False

    @property
    def xp(self) -> ModuleType:
        raise NotImplementedError

    def is_array(self, x: Any) -> bool:
        """Whether ``x`` is an array (or array scalar) of this library."""
        raise NotImplementedError

    def device(self, x: Any) -> str:
        """A human-readable device name for the array ``x`` (``"cpu"``, ``"cuda:0"``)."""
        return "cpu"

    def available(self) -> tuple[bool, str]:
        """``(usable, reason)``: whether arrays can be created now, and why not."""
        return True, ""

    def from_numpy(self, a: np.ndarray, device: Any = None) -> Any:
        """Copy a host array to this backend (on ``device`` when given)."""
        raise NotImplementedError

    def to_numpy(self, a: Any) -> np.ndarray:
        """Copy an array of this backend to the host."""
        raise NotImplementedError

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        """In place ``a[indices] += values`` with repeated indices accumulated."""
        raise NotImplementedError

    def seed(self, n: int | None) -> None:
        """Seed this library's own random generator, if it has one (called by
        :func:`dezero.core.random.seed`); must never raise for want of a device.

        The default does nothing: NumPy arrays draw from core's generator.
        """


class NumpyBackend(Backend):
    name = "numpy"

    @property
    def xp(self) -> ModuleType:
        return np

    def is_array(self, x: Any) -> bool:
        return isinstance(x, (np.ndarray, np.generic))

    def from_numpy(self, a: np.ndarray, device: Any = None) -> np.ndarray:
        return np.asarray(a)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        np.add.at(a, indices, values)


_NUMPY = NumpyBackend()
_lock = threading.Lock()
_backends: dict[str, Backend] = {"numpy": _NUMPY}
# Array type -> backend, filled lazily: a dict lookup on type(x) is the hot path.
_by_type: dict[type, Backend] = {np.ndarray: _NUMPY}
_entry_points_loaded = False
# The argument of the last dezero.core.random.seed() call, wrapped in a tuple (None inside
# means "fresh entropy"); empty until seed() is called. A backend registered later (an
# entry point loaded on first GPU use) is seeded with it on registration.
_last_seed: tuple[int | None, ...] = ()


def register_backend(backend: Backend) -> Backend:
    """Register (or replace) ``backend`` under ``backend.name`` and return it.

    If :func:`dezero.core.random.seed` was called before, a newly registered backend is
    seeded with the same value, so ``seed(n)`` also covers plug-ins loaded afterwards.
    """
    if not isinstance(backend, Backend) or not backend.name:
        raise TypeError(
            f"register_backend: expected a named Backend instance, got {type(backend).__name__}"
        )
    with _lock:
        new = _backends.get(backend.name) is not backend
        _backends[backend.name] = backend
        for t, b in list(_by_type.items()):
            if b.name == backend.name:
                del _by_type[t]
    if new and _last_seed:
        try:
            backend.seed(_last_seed[0])
        except Exception as e:  # registration (often inside gpu_status) must not fail
            warnings.warn(
                f"register_backend: seeding backend {backend.name!r} failed: "
                f"{type(e).__name__}: {e}",
                RuntimeWarning,
                stacklevel=2,
            )
    return backend


def seed_backends(n: int | None) -> None:
    """Seed every registered backend's own generator (see :meth:`Backend.seed`) and
    remember ``n`` for backends registered later. Called by ``dezero.core.random.seed``."""
    global _last_seed
    _last_seed = (n,)
    for b in list(_backends.values()):
        b.seed(n)


def _load_entry_points() -> None:
    """Import the plug-ins installed under the ``dezero.backends`` entry-point group once."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="dezero.backends"):
        try:
            loader = ep.load()
        except ImportError:
            continue  # a plug-in whose own dependency is missing: it explains itself when used
        result = loader() if callable(loader) else None
        if isinstance(result, Backend):
            register_backend(result)


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``; plug-ins are looked up on first miss."""
    b = _backends.get(name)
    if b is None:
        _load_entry_points()
        b = _backends.get(name)
    if b is None:
        raise KeyError(f"get_backend: no backend named {name!r}; registered: {sorted(_backends)}")
    return b


def backend_of(x: Any) -> Backend:
    """The backend whose array ``x`` is; NumPy for Python scalars and None."""
    t = type(x)
    b = _by_type.get(t)
    if b is not None:
        return b
    # Newest first, NumPy (registered first) last: a plug-in's array type may subclass
    # numpy.ndarray, and then it is the plug-in's, not NumPy's.
    for cand in reversed(list(_backends.values())):
        if cand.is_array(x):
            _by_type[t] = cand
            return cand
    if isinstance(x, np.generic) or x is None or isinstance(x, (bool, int, float, complex)):
        return _NUMPY
    if not _entry_points_loaded:
        # A CuPy array made before anything imported dezero.cuda: its installed plug-in,
        # found through the entry points, knows it.
        _load_entry_points()
        return backend_of(x)
    raise TypeError(
        f"backend_of: {t.__module__}.{t.__qualname__} is not an array of any registered backend "
        f"({', '.join(sorted(_backends))})"
    )


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array of some registered backend."""
    try:
        backend_of(x)
    except TypeError:
        return False
    return not (x is None or isinstance(x, (bool, int, float, complex)))


def _unwrap(x: Any) -> Any:
    """The array inside a Variable; anything else passes through.

    Arrays have a ``.data`` attribute of their own (a buffer, a CuPy memory pointer),
    so a Variable is recognised by its ``creator`` attribute, not by ``.data``.
    """
    if type(x) in _by_type or isinstance(x, np.generic):
        return x
    if hasattr(x, "creator") and hasattr(x, "data"):
        return x.data
    return x


def get_array_module(x: Any) -> ModuleType:
    """The array module (``numpy``, ``cupy``...) for ``x``, a Variable or an array."""
    data = _unwrap(x)
    return backend_of(data).xp


def device_of(x: Any) -> str:
    data = _unwrap(x)
    return backend_of(data).device(data)


def _gpu_backend() -> Backend | None:
    for b in list(_backends.values()):
        if b.is_gpu:
            return b
    _load_entry_points()
    for b in list(_backends.values()):
        if b.is_gpu:
            return b
    return None


def gpu_status() -> tuple[bool, str]:
    """``(usable, reason)`` for the GPU, learned from the registry; never raises."""
    b = _gpu_backend()
    if b is None:
        return False, (
            "no GPU backend is registered: install the CuPy plug-in with "
            "'pip install \"dezero-cuda[cuda12]\"' (or [cuda13] for CUDA 13)"
        )
    try:
        return b.available()
    except Exception as e:  # a broken driver must not crash a status query
        return False, f"{b.name} backend is registered but failed: {e}"


def require_gpu(caller: str = "to_gpu") -> Backend:
    """The usable GPU backend, or a :class:`GPUUnavailableError` that says what is missing."""
    ok, reason = gpu_status()
    if not ok:
        raise GPUUnavailableError(f"{caller}: the GPU is not usable: {reason}")
    b = _gpu_backend()
    assert b is not None
    return b


def to_cpu(x: Any) -> Any:
    """A host (NumPy) copy of array ``x``; NumPy arrays and None pass through."""
    if x is None or type(x) is np.ndarray:
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    return backend_of(x).to_numpy(x)


def to_gpu(x: Any, device: Any = None) -> Any:
    """A GPU copy of array ``x`` (on ``device`` when given); GPU arrays pass through."""
    b = require_gpu("to_gpu")
    if x is None:
        return None
    src = backend_of(x)
    if src is b and device is None:
        return x
    return b.from_numpy(to_cpu(x), device)


def to_device(x: Any, device: str) -> Any:
    """Move ``x`` to ``"cpu"`` or ``"gpu"`` (also ``"cuda"``, ``"cuda:N"``)."""
    if device == "cpu":
        return to_cpu(x)
    if device in ("gpu", "cuda"):
        return to_gpu(x)
    if isinstance(device, str) and device.startswith("cuda:"):
        return to_gpu(x, int(device.split(":", 1)[1]))
    raise ValueError(f"to_device: device must be 'cpu', 'gpu' or 'cuda:N', got {device!r}")
