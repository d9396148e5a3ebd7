"""DeZero's ``dezero.cuda``: ``gpu_enable``, ``get_array_module``, ``as_numpy``, ``as_cupy``.

``gpu_enable`` is a bool, as in DeZero, fixed when first read. Unlike DeZero's (true whenever
CuPy imports), it is true only when a CUDA device answers, so ``if gpu_enable:
model.to_gpu()`` does not crash on a machine with CuPy and no GPU. Without dezero-cuda
installed (``pip install "dezero-compat[cuda12]"``) it is False and the GPU calls say
what to install.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core.backend import get_array_module

# gpu_enable and cupy are module attributes made on first use (see __getattr__).
__all__ = ["gpu_enable", "get_array_module", "as_numpy", "as_cupy", "cupy"]  # noqa: F822

try:
    import dezero.cuda as _cuda  # noqa: I001  (the optional plug-in; CuPy loads lazily)
except ImportError:  # dezero-cuda not installed
    _cuda = None  # type: ignore[assignment]  # the checks below test for None


def __getattr__(name: str) -> Any:
    # Asked on first use and then kept (a module attribute, as DeZero's): looking for a
    # device imports CuPy, which takes seconds, so `import dezero.compat` does not.
    if name == "gpu_enable":
        value: Any = bool(_cuda is not None and _cuda.gpu_enable())
    elif name == "cupy":
        # The CuPy module when a GPU is usable, else None (DeZero's dezero.cuda.cupy).
        value = _cuda.backend.xp if __getattr__("gpu_enable") and _cuda is not None else None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def as_numpy(x: Any) -> np.ndarray:
    """A NumPy array of ``x`` (a Variable, an array or a scalar)."""
    x = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    if np.isscalar(x):
        return np.array(x)
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(_backend.to_cpu(x))


def as_cupy(x: Any) -> Any:
    """A CuPy array of ``x``; fails with a clear error when no GPU is usable."""
    if _cuda is None:
        raise _backend.GPUUnavailableError(
            'as_cupy: dezero-cuda is not installed: pip install "dezero-compat[cuda12]"'
        )
    return _cuda.as_cupy(x)
