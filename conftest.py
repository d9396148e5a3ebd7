"""Workspace-wide pytest hooks: skip tests marked ``gpu`` where no GPU answers.

This file is loaded by every test run in the repository, including the isolated
environments that hold a single package, so it imports nothing beyond the standard
library and pytest.
"""

from __future__ import annotations

import functools
import importlib.util

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
