"""The ``xp`` device fixture and the ``gpu`` marker, from dezero-core's pytest plugin (so the
tests run the same from the workspace and from this package's sdist)."""

pytest_plugins = ["dezero.core.pytest_plugin"]
