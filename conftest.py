"""Workspace-wide pytest hooks: skip tests marked ``gpu`` where no GPU answers, and tests
marked ``requires_system`` where a system piece is missing (failed under DEZERO_REQUIRE_SYSTEM=1).

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


# ---------------------------------------------------------------- requires_system: BEGIN
# Tests that need a piece of the operating system, not a Python package, are marked
# ``@pytest.mark.requires_system("dot")``. Where the piece is absent they skip, with a
# reason naming it and its install command; with ``DEZERO_REQUIRE_SYSTEM=1`` (CI sets it)
# they fail instead, so a CI run can never pass by quietly skipping them. Self-contained
# (standard library + pytest only) so it can move into a plugin as one block.
import os  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
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


# ---------------------------------------------------------------- requires_system: END


# ---------------------------------------------------------------- device fixture (dezero-core)
# Array tests take ``xp`` and build their arrays with it, so the same test runs on NumPy
# always and on CuPy when a GPU backend is registered and usable. Only dezero.core is
# imported (lazily, inside the fixture), so this works in an environment that holds one
# package alone; the GPU is reached through core's backend registry, never by name.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA GPU (CuPy + dezero-cuda); skipped with a reason otherwise"
    )
    config.addinivalue_line(
        "markers",
        "requires_system(name, ...): needs a system piece ('dot', 'fashion-mnist'); skipped "
        "with its install command where absent, failed instead with DEZERO_REQUIRE_SYSTEM=1",
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
