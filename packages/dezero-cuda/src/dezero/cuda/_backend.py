"""The CuPy backend registered into dezero.core's backend registry (imports CuPy lazily)."""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

import numpy as np

from dezero.core.backend import Backend, GPUUnavailableError, register_backend

__all__ = ["CupyBackend", "INSTALL_HINT", "load", "import_cupy", "device_id"]

INSTALL_HINT = 'CuPy is not installed: pip install "dezero-cuda[cuda12]" (or [cuda13] for CUDA 13)'


def import_cupy() -> ModuleType:
    """Import CuPy, or raise :class:`GPUUnavailableError` naming the install command."""
    try:
        return importlib.import_module("cupy")
    except ImportError as e:
        raise GPUUnavailableError(f"{INSTALL_HINT} ({e})") from e


def device_id(device: Any, caller: str = "to_gpu") -> int:
    """A CUDA device number from ``1``, ``"cuda:1"``, ``"gpu:1"`` or a ``cupy.cuda.Device``."""
    if isinstance(device, bool):  # bool is an int: reject before the int branch
        raise TypeError(f"{caller}: device must be an int or 'cuda:N', got {device!r}")
    if isinstance(device, (int, np.integer)):
        n = int(device)
    elif isinstance(device, str):
        head, sep, tail = device.partition(":")
        if head not in ("cuda", "gpu") or not sep or not tail.strip().isdigit():
            raise ValueError(f"{caller}: device must be an int or 'cuda:N', got {device!r}")
        n = int(tail)
    elif hasattr(device, "id") and isinstance(device.id, int):  # cupy.cuda.Device
        n = device.id
    else:
        raise TypeError(f"{caller}: device must be an int or 'cuda:N', got {type(device).__name__}")
    if n < 0:
        raise ValueError(f"{caller}: device number must be >= 0, got {n}")
    return n


class CupyBackend(Backend):
    """NVIDIA GPUs through CuPy. Creating one never imports CuPy; using it does."""

    name = "cupy"
    is_gpu = True

    def __init__(self) -> None:
        # A device that answered once keeps answering; failures are re-checked on every
        # call (they are the rare path, and a user may fix CUDA_VISIBLE_DEVICES meanwhile).
        self._ok = False
        self._lock = threading.Lock()
        # A seed given before CuPy was usable or imported (a tuple: (n,)); applied when
        # dezero first reaches CuPy through this backend, so the seed is never lost and
        # seeding never imports CuPy or initialises CUDA on its own.
        self._pending_seed: tuple[int | None, ...] = ()

    @property
    def xp(self) -> ModuleType:
        cupy = import_cupy()
        if self._pending_seed:
            self._apply_pending_seed()
        return cupy

    def seed(self, n: int | None) -> None:
        """Seed CuPy's generator of the current device (``cupy.random.seed(n)``).

        Applied now when CuPy is already imported and a device answers; otherwise kept
        and applied the first time dezero reaches CuPy (``xp``, ``to_gpu``). Never raises
        and never imports CuPy or initialises CUDA by itself.
        """
        self._pending_seed = (n,)
        if sys.modules.get("cupy") is not None:
            self._apply_pending_seed()

    def _apply_pending_seed(self) -> None:
        if not self._pending_seed:
            return
        try:
            ok = self.available()[0]
        except Exception:
            ok = False
        if not ok:
            return  # kept for later: a device may answer once the user fixes CUDA
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

    def is_array(self, x: Any) -> bool:
        # No cupy in sys.modules means no cupy array can exist: never import it just to look.
        cupy = sys.modules.get("cupy")
        return cupy is not None and isinstance(x, cupy.ndarray)

    def device(self, x: Any) -> str:
        return f"cuda:{x.device.id}"

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
            self._ok = True
        return True, ""

    def _require(self, caller: str) -> ModuleType:
        ok, reason = self.available()
        if not ok:
            raise GPUUnavailableError(f"{caller}: the GPU is not usable: {reason}")
        return import_cupy()

    def device_count(self) -> int:
        """The number of visible CUDA devices; 0 when the GPU is not usable."""
        if not self.available()[0]:
            return 0
        return int(import_cupy().cuda.runtime.getDeviceCount())

    def from_numpy(self, a: Any, device: Any = None) -> Any:
        cupy = self._require("to_gpu")
        if self._pending_seed:
            self._apply_pending_seed()
        if device is None:
            return cupy.asarray(a)
        n = device_id(device, "to_gpu")
        count = cupy.cuda.runtime.getDeviceCount()
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
