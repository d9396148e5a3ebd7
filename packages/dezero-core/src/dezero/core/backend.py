"""The backend registry: the one place that knows which array library holds which array.

NumPy is built in. GPU back-ends (CuPy, from the ``dezero-cuda`` package) register
themselves here, either when their package is imported or through the
``dezero.backends`` entry-point group, so no other dezero package needs to import
them. Everything device-specific goes through
[`get_array_module`][dezero.core.backend.get_array_module],
[`to_device`][dezero.core.backend.to_device] and the few [`Backend`][dezero.core.backend.Backend]
methods below.

Devices are named one way everywhere (arrays, layers, optimizers, loaders, the Trainer):
``"cpu"``, ``"cuda"`` (the GPU backend's current device), ``"cuda:N"``, an int ``N``, or a
[`Device`][dezero.core.backend.Device] that [`get_device`][dezero.core.backend.get_device] or
[`device_of`][dezero.core.backend.device_of] returned.
[`get_device`][dezero.core.backend.get_device] checks a name once; moving arrays to the resulting
[`Device`][dezero.core.backend.Device] checks nothing more.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "Backend",
    "NumpyBackend",
    "Device",
    "CPU",
    "get_device",
    "on_device_of",
    "using_device",
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


class Device(str):
    """A place arrays live, by its name in the device vocabulary: ``"cpu"`` or ``"cuda:N"``.

    A ``str``, so it compares equal to its name, prints as it and goes into JSON as it; it
    also carries the [`Backend`][dezero.core.backend.Backend] that owns it (``backend``) and the
    device number (``number``, None for the CPU). Get one from
    [`get_device`][dezero.core.backend.get_device] or [`device_of`][dezero.core.backend.device_of];
    [`to_device`][dezero.core.backend.to_device] moves arrays to it without checking the GPU again.
    """

    backend: Backend
    number: int | None

    def __new__(cls, backend: Backend, number: int | None = None) -> Device:
        self = super().__new__(cls, "cpu" if number is None else f"cuda:{number}")
        self.backend = backend
        self.number = number
        return self

    @property
    def is_gpu(self) -> bool:
        return self.number is not None

    def __repr__(self) -> str:
        return f"Device({str(self)!r})"

    # One object per device: copies are the device itself, and a pickled device is looked
    # up again by name where it is loaded.
    def __copy__(self) -> Device:
        return self

    def __deepcopy__(self, memo: Any) -> Device:
        return self

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return get_device, (str(self),)


class Backend:
    """An array library dezero can compute with.

    Subclasses set ``name`` (``"numpy"``, ``"cupy"``) and ``xp`` (the module)
    and override the methods whose spelling differs between libraries. A GPU backend
    (``is_gpu = True``) also says how many devices it has, which one is current, which
    device an array is on, and how to read its library's own device objects.
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

    def device(self, x: Any) -> Device:
        """The [`Device`][dezero.core.backend.Device] the array ``x`` is on (``"cpu"``,
        ``"cuda:0"``...)."""
        return CPU

    def device_at(self, number: int | None) -> Device:
        """This backend's [`Device`][dezero.core.backend.Device] number ``number`` (one object per
        number, so devices compare by identity too); it checks nothing."""
        cache = self.__dict__.setdefault("_device_objects", {})
        d = cache.get(number)
        if d is None:
            d = cache[number] = Device(self, number)
        return d

    def device_count(self) -> int:
        """How many devices a GPU backend has (0 when unusable); 0 for the host."""
        return 0

    def current_device(self) -> int:
        """The number of the device ``"cuda"`` (and ``to_gpu()`` without one) means now."""
        return 0

    def use_device(self, number: int) -> contextlib.AbstractContextManager[Any]:
        """A context manager making device ``number`` current (where this library runs its
        kernels and creates arrays); the default does nothing."""
        return contextlib.nullcontext()

    def parse_device(self, obj: Any) -> int | None:
        """The device number of ``obj``, an object of this library naming a device (a
        ``cupy.cuda.Device``); None when ``obj`` is not one. Only GPU backends override it."""
        return None

    def available(self) -> tuple[bool, str]:
        """``(usable, reason)``: whether arrays can be created now, and why not."""
        return True, ""

    def from_numpy(self, a: Any, device: int | None = None) -> Any:
        """A copy of ``a`` on this backend's device number ``device`` (None: the current one).

        ``a`` is a host array, or an array of this backend on another of its devices.
        """
        raise NotImplementedError

    def to_numpy(self, a: Any) -> np.ndarray:
        """Copy an array of this backend to the host."""
        raise NotImplementedError

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        """In place ``a[indices] += values`` with repeated indices accumulated."""
        raise NotImplementedError

    def uniform(
        self, rng: np.random.Generator, shape: tuple[int, ...], dtype: Any,
        device: int | None = None,
    ) -> Any:
        """Uniform draws in ``[0, 1)`` of a floating ``dtype``, on device number ``device``,
        determined by ``rng`` (the framework's generator) alone.

        Used by [`dezero.core.random.uniform`][dezero.core.random.uniform] (dropout masks). The
        default draws on the host and copies; a GPU backend draws on its device, from a generator
        seeded by one number taken from ``rng``, so saving ``rng``'s state saves every draw to come.
        """
        return self.from_numpy(_host_uniform(rng, shape, dtype), device)

    def seed(self, n: int | None) -> None:
        """Seed this library's own global generator, if it has one, for users' code that
        draws from it directly (called by [`dezero.core.random.seed`][dezero.core.random.seed]);
        must never raise, and never start a device just to seed it.

        The default does nothing. dezero's own draws never use these generators: they come
        from core's generator through [`uniform`][dezero.core.backend.Backend.uniform].
        """


class NumpyBackend(Backend):
    name = "numpy"

    @property
    def xp(self) -> ModuleType:
        return np

    def is_array(self, x: Any) -> bool:
        return isinstance(x, (np.ndarray, np.generic))

    def from_numpy(self, a: Any, device: int | None = None) -> np.ndarray:
        return np.asarray(a)

    def uniform(
        self, rng: np.random.Generator, shape: tuple[int, ...], dtype: Any,
        device: int | None = None,
    ) -> np.ndarray:
        return _host_uniform(rng, shape, dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        np.add.at(a, indices, values)


def _host_uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"uniform: dtype must be a floating-point type, got {dt}")
    # Generator.random draws float32 or float64 only; narrower types are rounded from float32.
    if dt in (np.float32, np.float64):
        return rng.random(shape, dtype=dt)
    u = rng.random(shape, dtype=np.float32).astype(dt)
    return np.minimum(u, np.nextafter(dt.type(1), dt.type(0)), out=u)  # rounding may reach 1


_NUMPY = NumpyBackend()
#: The host: NumPy arrays in main memory.
CPU: Device = _NUMPY.device_at(None)
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

    If [`dezero.core.random.seed`][dezero.core.random.seed] was called before, a newly registered
    backend is seeded with the same value, so ``seed(n)`` also covers plug-ins loaded afterwards.
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
    """Seed every registered backend's own generator (see
    [`Backend.seed`][dezero.core.backend.Backend.seed]) and remember ``n`` for backends registered
    later. Called by ``dezero.core.random.seed``."""
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


def device_of(x: Any) -> Device:
    """The [`Device`][dezero.core.backend.Device] holding ``x`` (a Variable or an array); the CPU
    for scalars and None."""
    data = _unwrap(x)
    if type(data) is np.ndarray:
        return CPU
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
    """The usable GPU backend, or a [`GPUUnavailableError`][dezero.core.backend.GPUUnavailableError]
    that says what is missing."""
    ok, reason = gpu_status()
    if not ok:
        raise GPUUnavailableError(f"{caller}: the GPU is not usable: {reason}")
    b = _gpu_backend()
    assert b is not None
    return b


_VOCABULARY = "'cpu', 'cuda', 'cuda:N', an int N or a Device"


def get_device(device: Any, caller: str = "get_device") -> Device:
    """The [`Device`][dezero.core.backend.Device] named by ``device``, checked once.

    ``device`` is ``"cpu"``, ``"cuda"`` (the GPU backend's current device), ``"cuda:N"``,
    an int ``N`` (GPU ``N``), a [`Device`][dezero.core.backend.Device] (returned as it is), or the
    GPU library's own device object (``cupy.cuda.Device``). A GPU name needs a usable GPU backend
    and an existing device number.

    Raises:
        GPUUnavailableError: a GPU is named and none is usable (the message says why).
        ValueError: an unknown name, a negative number, or a device that does not exist.
        TypeError: ``device`` is of no accepted type (a bool, say).
    """
    if type(device) is Device:
        return device
    index: int | None
    if isinstance(device, str):
        if device == "cpu":
            return CPU
        if device == "cuda":
            b = require_gpu(caller)
            return b.device_at(b.current_device())
        head, sep, tail = device.partition(":")
        if head != "cuda" or not sep or not tail.isdigit():
            raise ValueError(f"{caller}: device must be {_VOCABULARY}, got {device!r}")
        index = int(tail)
    elif isinstance(device, bool):  # bool is an int: refuse it before the int branch
        raise TypeError(f"{caller}: device must be {_VOCABULARY}, got {device!r}")
    elif isinstance(device, (int, np.integer)):
        index = int(device)
        if index < 0:
            raise ValueError(
                f"{caller}: device number must be >= 0, got {index} (use 'cpu' for the host)"
            )
    else:
        gb = _gpu_backend()
        index = None if gb is None else gb.parse_device(device)
        if index is None:
            raise TypeError(
                f"{caller}: device must be {_VOCABULARY}, got {type(device).__name__}: "
                f"{device!r}"
            )
    b = require_gpu(caller)
    count = b.device_count()
    if index >= count:
        raise ValueError(
            f"{caller}: device {index} does not exist; {count} GPU device(s) visible "
            f"(cuda:0..cuda:{count - 1})"
        )
    return b.device_at(index)


def _put(x: Any, dev: Device) -> Any:
    """``x`` on ``dev``, copied only when it lives elsewhere; checks nothing."""
    if x is None:
        return None
    if dev.number is None:
        return to_cpu(x)
    b = dev.backend
    src = backend_of(x)
    if src is b:
        if b.device(x).number == dev.number:
            return x
        return b.from_numpy(x, dev.number)
    return b.from_numpy(to_cpu(x), dev.number)


def to_cpu(x: Any) -> Any:
    """A host (NumPy) copy of array ``x``; NumPy arrays and None pass through."""
    if x is None or type(x) is np.ndarray:
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    return backend_of(x).to_numpy(x)


def to_gpu(x: Any, device: Any = None) -> Any:
    """``x`` on GPU ``device`` (any GPU name of [`get_device`][dezero.core.backend.get_device];
    None: ``"cuda"``, the current device). An array already there is returned as it is."""
    dev = get_device("cuda" if device is None else device, "to_gpu")
    if dev.number is None:
        raise ValueError(f"to_gpu: device must be a GPU, got {dev!r}; use to_cpu() for the host")
    return _put(x, dev)


def to_device(x: Any, device: Any) -> Any:
    """``x`` moved to ``device`` (any name [`get_device`][dezero.core.backend.get_device] takes); an
    array already there is returned as it is. A [`Device`][dezero.core.backend.Device] is used
    without checking it again."""
    dev = device if type(device) is Device else get_device(device, "to_device")
    return _put(x, dev)


def on_device_of(x: Any, like: Any) -> Any:
    """Array ``x`` put where ``like`` (an array or a Variable) lives: a copy on that
    backend and device, or ``x`` itself when it is there already.

    Python scalars and None as ``like`` live on the host.
    """
    if type(x) is np.ndarray and type(like) is np.ndarray:
        return x
    return _put(x, device_of(like))


@contextlib.contextmanager
def using_device(device: Any) -> Iterator[Device]:
    """Make ``device`` (any name [`get_device`][dezero.core.backend.get_device] takes) current
    inside a ``with`` block, so array creation and kernels run there: GPU libraries such as CuPy
    work on the current device, not on the device of their operands. The CPU makes nothing current.
    Yields the [`Device`][dezero.core.backend.Device]."""
    dev = device if type(device) is Device else get_device(device, "using_device")
    if dev.number is None:
        yield dev
        return
    with dev.backend.use_device(dev.number):
        yield dev
