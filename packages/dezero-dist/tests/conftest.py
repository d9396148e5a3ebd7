"""dezero-dist's tests: the ``gpu`` marker (and ``xp``) come from dezero-core's plugin, also
when these tests run from the sdist."""

pytest_plugins = ["dezero.core.pytest_plugin"]
