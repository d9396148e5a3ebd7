"""Launcher of the ``dezero-train`` command, kept outside the ``dezero`` namespace on purpose.

The original DeZero (``pip install dezero``) is a regular package with a
``dezero/__init__.py``; where it is installed it hides this project's PEP 420 namespace,
and ``import dezero.train`` fails. A launcher inside ``dezero.train`` could never run
in that case, so this one module lives beside the namespace and explains the problem.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["main", "shadowing_problem"]


def shadowing_problem() -> str | None:
    """A message when the ``dezero`` name is a regular package (the original DeZero).

    This project's ``dezero`` is a namespace with no ``__init__.py``, so it has no
    ``__file__``; a ``dezero/__init__.py`` found first hides ``dezero.core`` and the rest.
    """
    mod = sys.modules.get("dezero")
    if mod is not None:
        origin = getattr(mod, "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec("dezero")
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None and spec.has_location else None
    if not origin:
        return None
    return (
        f"dezero-train: the 'dezero' being imported is a regular package ({origin}), most "
        f"likely the original DeZero, and it hides this project's dezero.core, dezero.nn, "
        f"dezero.data and dezero.train.\n"
        f"Fix: 'pip uninstall dezero' (then 'pip install --force-reinstall dezero-train' "
        f"if it shared a folder with this project), or run from a folder without a "
        f"'dezero/' directory."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dezero.train.cli.main``, or explain why the namespace cannot be imported."""
    problem = shadowing_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from dezero.train.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
