"""Workspace-wide pytest hooks: skip tests marked ``gpu`` where no GPU answers.

This file is loaded by every test run in the repository, including the isolated
environments that hold a single package, so it imports nothing beyond the standard
library and pytest.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import pytest


@functools.cache
def _gpu_missing_reason() -> str | None:
    """Why GPU tests cannot run here, or None when they can."""
    if importlib.util.find_spec("dezero.cuda") is None:
        return "needs dezero-cuda installed"
    try:
        import cupy
    except ImportError:
        return "needs CuPy (pip install 'dezero-cuda[cuda12]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "needs a CUDA GPU: none found"
    except Exception as exc:  # CuPy raises CUDARuntimeError subclasses without a driver
        return f"needs a CUDA GPU: {type(exc).__name__}: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    reason = _gpu_missing_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"GPU test: {reason}")
    for item in gpu_items:
        item.add_marker(skip)


# ---------------------------------------------------------------- device fixture (dezero-core)
# Array tests take ``xp`` and build their arrays with it, so the same test runs on NumPy
# always and on CuPy when a GPU backend is registered and usable. Only dezero.core is
# imported (lazily, inside the fixture), so this works in an environment that holds one
# package alone; the GPU is reached through core's backend registry, never by name.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA GPU (CuPy + dezero-cuda); skipped with a reason otherwise"
    )


@pytest.fixture(params=["numpy", "cupy"])
def xp(request: pytest.FixtureRequest) -> Any:
    """The array module to test with: numpy, or cupy where a GPU backend is usable."""
    from dezero.core import backend

    if request.param == "numpy":
        return backend.get_backend("numpy").xp
    ok, reason = backend.gpu_status()
    if not ok:
        pytest.skip(f"cupy: {reason}")
    return backend.require_gpu("xp fixture").xp
