"""Shared by dezero-compat's tests: ``_compare`` (output comparison) sits next to this file,
and NumPy's global generator is restored after every test (compat draws from it)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

# The xp fixture and the gpu marker, also when these tests run from the sdist.
pytest_plugins = ["dezero.core.pytest_plugin"]

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def _keep_numpy_global_state():
    state = np.random.get_state()
    yield
    np.random.set_state(state)
