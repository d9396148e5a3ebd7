"""Fixtures of dezero-onnx's tests."""

from __future__ import annotations

import pytest

import dezero.core

# The xp fixture and the gpu marker, also when these tests run from the sdist.
pytest_plugins = ["dezero.core.pytest_plugin"]


@pytest.fixture(autouse=True)
def _seeded():
    # Layers draw their initial weights from dezero's generator: seeded, each test gets the
    # same weights whatever ran before it. onnxruntime and NumPy sum in different orders, so
    # through ResNet34's 36 float32 layers the outputs differ by about 1.5e-6, and some
    # weight draws reach the atol 1e-6 on an output near zero (README, Limits).
    dezero.core.seed(0)
