"""A pytest plugin (``-p dezero.cuda.pytest_plugin``) for runs from source, without entry points.

Importing it imports [`dezero.cuda`][dezero.cuda], which registers the CuPy backend so the
workspace's device fixture and ``@pytest.mark.gpu`` tests see the GPU. With ``DEZERO_REQUIRE_GPU=1``
a run where the GPU is unusable stops at once instead of quietly skipping every GPU test.
"""

from __future__ import annotations

import os

import pytest

import dezero.cuda


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("DEZERO_REQUIRE_GPU") == "1" and not dezero.cuda.gpu_enable():
        raise pytest.UsageError(
            f"DEZERO_REQUIRE_GPU=1 but the GPU is not usable: {dezero.cuda.gpu_status()[1]}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    ok, reason = dezero.cuda.gpu_status()
    return f"dezero.cuda: GPU {'usable' if ok else 'not usable: ' + reason}"
