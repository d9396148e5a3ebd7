"""Workspace-wide pytest set-up: the ``xp`` device fixture and the ``gpu`` and
``requires_system`` markers come from dezero-core's plugin, which each package's
``tests/conftest.py`` also names, so that a package's tests run the same from its sdist.
"""

from __future__ import annotations

pytest_plugins = ["dezero.core.pytest_plugin"]
