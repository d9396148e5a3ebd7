"""A pytest plugin for test suites of dezero code: the ``xp`` device fixture and the ``gpu``
marker.

Opt in from the ``conftest.py`` at the top of a test suite (it is not an entry point, so it
never joins a pytest run that did not ask for it)::

    pytest_plugins = ["dezero.core.pytest_plugin"]

or on the command line with ``-p dezero.core.pytest_plugin``.

* ``xp``: a fixture that runs a test once with ``numpy`` and once with ``cupy``. The CuPy
  case is marked ``gpu``; it runs where core's backend registry has a usable GPU backend
  (``dezero-cuda`` installed, a device answering) and is skipped with the reason otherwise.
* ``@pytest.mark.gpu``: a test that needs a usable GPU; skipped with the reason (what is
  missing, how to install it) where none is usable.
* ``DEZERO_REQUIRE_GPU=1`` turns those skips into failures, so that a run on a GPU machine
  cannot pass by skipping every GPU test.

The GPU is reached only through :mod:`dezero.core.backend`, so the plugin works in an
environment that holds ``dezero-core`` alone.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest

from dezero.core import backend

__all__ = ["xp"]

REQUIRE_GPU = "DEZERO_REQUIRE_GPU"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "gpu: needs a usable CUDA GPU (CuPy + dezero-cuda); skipped with the reason elsewhere, "
        f"a failure with {REQUIRE_GPU}=1",
    )


def _gpu_unusable() -> str | None:
    """Why GPU tests cannot run here, or None when they can."""
    ok, reason = backend.gpu_status()
    return None if ok else reason


def _required() -> bool:
    return os.environ.get(REQUIRE_GPU) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    reason = _gpu_unusable() if gpu_items and not _required() else None
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"GPU test: {reason}")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _required() and item.get_closest_marker("gpu") is not None:
        reason = _gpu_unusable()
        if reason is not None:
            pytest.fail(f"GPU test, and {REQUIRE_GPU}=1, but the GPU is not usable: {reason}")


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request: pytest.FixtureRequest) -> ModuleType:
    """The array module to test with: ``numpy``, then ``cupy`` where a GPU is usable."""
    if request.param == "numpy":
        return backend.get_backend("numpy").xp
    return backend.require_gpu("xp fixture").xp
