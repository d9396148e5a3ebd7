"""The CuPy backend registered into dezero.core's backend registry (imports CuPy lazily)."""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

import numpy as np

from dezero.core.backend import Backend, Device, GPUUnavailableError, register_backend

__all__ = ["CupyBackend", "INSTALL_HINT", "load", "import_cupy", "device_id"]

INSTALL_HINT = 'CuPy is not installed: pip install "dezero-cuda[cuda12]" (or [cuda13] for CUDA 13)'


def import_cupy() -> ModuleType:
    """Import CuPy, or raise [`GPUUnavailableError`][dezero.cuda.GPUUnavailableError] naming the
    install command."""
    try:
        return importlib.import_module("cupy")
    except ImportError as e:
        raise GPUUnavailableError(f"{INSTALL_HINT} ({e})") from e


def device_id(device: Any, caller: str = "to_gpu") -> int:
    """A CUDA device number from ``1``, ``"cuda:1"``, a GPU [`Device`][dezero.core.backend.Device]
    or a ``cupy.cuda.Device``."""
    if isinstance(device, bool):  # bool is an int: reject before the int branch
        raise TypeError(f"{caller}: device must be an int or 'cuda:N', got {device!r}")
    if isinstance(device, Device) and device.number is not None:
        n = device.number
    elif isinstance(device, (int, np.integer)):
        n = int(device)
    elif isinstance(device, str):
        head, sep, tail = device.partition(":")
        if head != "cuda" or not sep or not tail.isdigit():
            raise ValueError(f"{caller}: device must be an int or 'cuda:N', got {device!r}")
        n = int(tail)
    elif _is_cupy_device(device):
        n = device.id
    else:
        raise TypeError(f"{caller}: device must be an int or 'cuda:N', got {type(device).__name__}")
    if n < 0:
        raise ValueError(f"{caller}: device number must be >= 0, got {n}")
    return n


def _is_cupy_device(obj: Any) -> bool:
    cupy = sys.modules.get("cupy")  # no cupy imported: obj cannot be one of its devices
    return cupy is not None and isinstance(obj, cupy.cuda.Device)


class CupyBackend(Backend):
    """NVIDIA GPUs through CuPy. Creating one never imports CuPy; using it does."""

    name = "cupy"
    is_gpu = True

    def __init__(self) -> None:
        # A device that answered once keeps answering; failures are re-checked on every
        # call (they are the rare path, and a user may fix CUDA_VISIBLE_DEVICES meanwhile).
        self._ok = False
        self._count = 0  # visible devices, read once CUDA answered (fixed for the process)
        self._lock = threading.Lock()
        # A seed given before CUDA was started (a tuple: (n,)); applied to cupy.random's
        # global generator where dezero first starts CUDA (available()), so the seed is
        # never lost and seeding never imports CuPy or initialises CUDA on its own.
        self._pending_seed: tuple[int | None, ...] = ()
        # One Philox generator per device for dezero's own draws (uniform), re-seeded from
        # the framework's generator at every call: Philox seeds without a set-up kernel.
        self._generators: dict[int, Any] = {}
        self._rng_lock = threading.Lock()

    @property
    def xp(self) -> ModuleType:
        return import_cupy()

    def seed(self, n: int | None) -> None:
        """Seed ``cupy.random``'s global generator of the current device (for users' code
        that draws from it; dezero's own GPU draws come from
        [`uniform`][dezero.cuda.CupyBackend.uniform]).

        Applied now when dezero has already started CUDA; otherwise kept and applied where
        dezero first starts it (the first successful
        [`available`][dezero.core.backend.Backend.available]). Never raises and never imports CuPy
        or initialises CUDA by itself.
        """
        self._pending_seed = (n,)
        if self._ok:
            self._apply_pending_seed()

    def _apply_pending_seed(self) -> None:
        if not self._pending_seed:
            return
        n = self._pending_seed[0]
        self._pending_seed = ()
        try:
            import_cupy().random.seed(n)
        except Exception as e:  # a seeding failure must not break training; say so
            import warnings

            warnings.warn(
                f"CupyBackend.seed: cupy.random.seed({n}) failed: {type(e).__name__}: {e}",
                RuntimeWarning,
                stacklevel=3,
            )

    def uniform(
        self, rng: np.random.Generator, shape: tuple[int, ...], dtype: Any,
        device: int | None = None,
    ) -> Any:
        """Uniform draws in ``[0, 1)`` made on the GPU, fixed by ``rng`` alone: one number
        drawn from ``rng`` seeds this device's Philox generator, which makes the draws."""
        cupy = self._require("uniform")
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"uniform: dtype must be a floating-point type, got {dt}")
        key = int(rng.integers(0, 2**63))
        draw = dt if dt.char in "fd" else np.dtype(np.float32)  # cuRAND: float32/float64
        with cupy.cuda.Device(device):
            index = cupy.cuda.Device().id
            with self._rng_lock:
                gen = self._generators.get(index)
                if gen is None:
                    gen = self._generators[index] = cupy.random.RandomState(
                        key, method=cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10
                    )
                else:
                    gen.seed(key)
                u = gen.random_sample(shape, dtype=draw)
            if draw != dt:
                u = cupy.minimum(u.astype(dt), np.nextafter(dt.type(1), dt.type(0)))
        return u

    def is_array(self, x: Any) -> bool:
        # No cupy in sys.modules means no cupy array can exist: never import it just to look.
        cupy = sys.modules.get("cupy")
        return cupy is not None and isinstance(x, cupy.ndarray)

    def device(self, x: Any) -> Device:
        return self.device_at(x.device.id)

    def current_device(self) -> int:
        return int(self._require("get_device").cuda.Device().id)

    def use_device(self, number: int) -> Any:
        return self._require("using_device").cuda.Device(number)

    def parse_device(self, obj: Any) -> int | None:
        return obj.id if _is_cupy_device(obj) else None

    def available(self) -> tuple[bool, str]:
        if self._ok and sys.modules.get("cupy") is not None:
            return True, ""
        try:
            cupy = importlib.import_module("cupy")
        except ImportError as e:
            return False, f"{INSTALL_HINT} (import cupy failed: {e})"
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDARuntimeError when the driver is missing or too old
            return False, (
                f"CuPy {cupy.__version__} is installed but no CUDA device is usable: "
                f"{type(e).__name__}: {e}"
            )
        if count < 1:
            return False, (
                f"CuPy {cupy.__version__} is installed but no CUDA device was found "
                "(check the NVIDIA driver and CUDA_VISIBLE_DEVICES)"
            )
        with self._lock:
            self._count = int(count)
            first, self._ok = not self._ok, True
        if first and self._pending_seed:
            self._apply_pending_seed()  # CUDA has just started: the place to seed it
        return True, ""

    def _require(self, caller: str) -> ModuleType:
        ok, reason = self.available()
        if not ok:
            raise GPUUnavailableError(f"{caller}: the GPU is not usable: {reason}")
        return import_cupy()

    def device_count(self) -> int:
        """The number of visible CUDA devices; 0 when the GPU is not usable."""
        if self._ok and sys.modules.get("cupy") is not None:
            return self._count
        return self._count if self.available()[0] else 0

    def from_numpy(self, a: Any, device: Any = None) -> Any:
        # Core hands over device numbers it has checked (get_device): once CUDA answered,
        # a transfer costs no further query of the driver.
        cupy = sys.modules.get("cupy") if self._ok else None
        if cupy is None:
            cupy = self._require("to_gpu")
        if device is None:
            return cupy.asarray(a)
        n = device if type(device) is int and device >= 0 else device_id(device, "to_gpu")
        count = self._count
        if n >= count:
            raise ValueError(
                f"to_gpu: device {n} does not exist; {count} CUDA device(s) visible "
                f"(0..{count - 1})"
            )
        with cupy.cuda.Device(n):
            # cupy.array copies even when ``a`` already lives on another device.
            return cupy.array(a, copy=True) if isinstance(a, cupy.ndarray) else cupy.asarray(a)

    def to_numpy(self, a: Any) -> np.ndarray:
        return import_cupy().asnumpy(a)

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        import_cupy()
        cupyx = importlib.import_module("cupyx")
        cupyx.scatter_add(a, indices, values)


_BACKEND = CupyBackend()


def load() -> CupyBackend:
    """Entry point of group ``dezero.backends``: register the CuPy backend and return it.

    Never raises, with or without CuPy or a GPU: ``available()`` says what is missing.
    Calling it again re-registers the same instance, so it is idempotent.
    """
    register_backend(_BACKEND)
    return _BACKEND
