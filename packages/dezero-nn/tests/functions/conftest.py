"""Fixtures for the tests of dezero.nn.functions: the ``xp`` device fixture, the check helper.

``xp`` is numpy always and cupy when core's backend registry reports a usable GPU
(the CuPy case is marked ``gpu``, so the workspace conftest skips it with a reason).
It matches the workspace-wide ``xp`` fixture and is kept here so that the package's
tests also run from its sdist, without the monorepo's root conftest.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

import numpy
import pytest

# The check helper sits next to this file; the tests import it as ``_fcheck``.
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "numpy":
        return numpy
    from dezero.core import backend

    ok, reason = backend.gpu_status()
    if not ok:
        pytest.skip(f"GPU test: {reason}")
    return backend.require_gpu("xp fixture").xp
