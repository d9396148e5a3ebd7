"""A pytest plugin for test suites of dezero code: the ``xp`` device fixture, the ``gpu`` and
``requires_system`` markers.

Opt in from the ``conftest.py`` at the top of a test suite (it is not an entry point, so it
never joins a pytest run that did not ask for it):

```python
pytest_plugins = ["dezero.core.pytest_plugin"]
```

or on the command line with ``-p dezero.core.pytest_plugin``.

* ``xp``: a fixture that runs a test once with ``numpy`` and once with ``cupy``. The CuPy
  case is marked ``gpu``; it runs where core's backend registry has a usable GPU backend
  (``dezero-cuda`` installed, a device answering) and is skipped with the reason otherwise.
* ``@pytest.mark.gpu``: a test that needs a usable GPU; skipped with the reason (what is
  missing, how to install it) where none is usable.
* ``DEZERO_REQUIRE_GPU=1`` turns those skips into failures, so that a run on a GPU machine
  cannot pass by skipping every GPU test.
* ``@pytest.mark.requires_system("dot")`` (or ``"fashion-mnist"``): a test that needs a piece
  of the operating system, not a Python package; skipped with the piece's install command
  where it is absent, a failure with ``DEZERO_REQUIRE_SYSTEM=1`` (CI sets it).

The GPU is reached only through [`dezero.core.backend`][dezero.core.backend], so the plugin works in
an environment that holds ``dezero-core`` alone.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

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
    config.addinivalue_line(
        "markers",
        "requires_system(name, ...): needs a system piece ('dot', 'fashion-mnist'); skipped "
        "with its install command where absent, failed instead with DEZERO_REQUIRE_SYSTEM=1",
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
    _system_setup(item)


# Tests that need a piece of the operating system, not a Python package, are marked
# ``@pytest.mark.requires_system("dot")``. Where the piece is absent they skip, with a
# reason naming it and its install command; with ``DEZERO_REQUIRE_SYSTEM=1`` (CI sets it)
# they fail instead, so a CI run can never pass by quietly skipping them. Self-contained
# (standard library + pytest only).

_FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _system_dataset_dirs() -> list[Path]:
    # The same places dezero.data.download.system_dirs() searches by default.
    xdg = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    dirs = [Path(p) / "datasets" for p in xdg.split(os.pathsep) if p]
    return [*dirs, Path("/usr/share/datasets")]


def _has_fashion_mnist() -> bool:
    return any(
        all((d / "fashion-mnist" / f).is_file() for f in _FASHION_MNIST_FILES)
        for d in _system_dataset_dirs()
    )


# name -> (what it is, how to install it, whether it is here)
SYSTEM_PIECES: dict[str, tuple[str, str, Any]] = {
    "dot": (
        "Graphviz's dot program",
        "apt-get install graphviz",
        lambda: shutil.which("dot") is not None,
    ),
    "fashion-mnist": (
        "Fashion-MNIST in /usr/share/datasets/fashion-mnist",
        "apt-get install dataset-fashion-mnist",
        _has_fashion_mnist,
    ),
}


@functools.cache
def _system_piece_missing(name: str) -> str | None:
    """Why the system piece ``name`` is unusable here, or None when it is present."""
    if name not in SYSTEM_PIECES:
        raise pytest.UsageError(
            f"requires_system: unknown system piece {name!r}; known: {sorted(SYSTEM_PIECES)}"
        )
    what, install, present = SYSTEM_PIECES[name]
    if present():
        return None
    return f"needs {what} (system package, not pip): install it with '{install}'"


def _system_setup(item: pytest.Item) -> None:
    missing = []
    for marker in item.iter_markers("requires_system"):
        if not marker.args:
            raise pytest.UsageError(
                f"{item.nodeid}: requires_system needs a piece name, e.g. "
                f"requires_system('dot'); known: {sorted(SYSTEM_PIECES)}"
            )
        missing += [r for r in map(_system_piece_missing, marker.args) if r is not None]
    if not missing:
        return
    if os.environ.get("DEZERO_REQUIRE_SYSTEM") == "1":
        pytest.fail(f"DEZERO_REQUIRE_SYSTEM=1 but this test {'; '.join(missing)}", pytrace=False)
    # Reported at the test's own line, as a skip marker's would be.
    raise pytest.skip.Exception(f"system test: {'; '.join(missing)}", _use_item_location=True)


@pytest.fixture(params=["numpy", pytest.param("gpu", marks=pytest.mark.gpu)])
def xp(request: pytest.FixtureRequest) -> ModuleType:
    """The array module to test with: ``numpy``, then the GPU backend's (CuPy) where one
    is usable. The test ids say ``[numpy]`` and ``[gpu]``."""
    if request.param == "numpy":
        return backend.get_backend("numpy").xp
    return backend.require_gpu("xp fixture").xp
