"""Launcher of the ``dezero-port`` command, kept outside the ``dezero`` namespace on purpose.

The people who port DeZero scripts are the ones most likely to have the original DeZero
(``pip install dezero``) installed. It is a regular package with a ``dezero/__init__.py``
and hides this project's PEP 420 namespace, so ``import dezero.compat`` fails there. A
launcher inside ``dezero.compat`` could never run in that case, so this one module lives
beside the namespace and explains the problem.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["main", "shadowing_problem"]


def shadowing_problem() -> str | None:
    """A message when the ``dezero`` name is a regular package (the original DeZero)."""
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
        f"dezero-port: the 'dezero' being imported is a regular package ({origin}), most "
        f"likely the original DeZero, and it hides this project's dezero.core, dezero.nn, "
        f"dezero.data and dezero.compat: the ported scripts could not run beside it either.\n"
        f"Fix: 'pip uninstall dezero' (then 'pip install --force-reinstall dezero-compat' "
        f"if it shared a folder with this project), or keep the original in its own "
        f"virtual environment, or run from a folder without a 'dezero/' directory."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dezero.compat.port.main``, or explain why the namespace cannot be imported."""
    problem = shadowing_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from dezero.compat.port import main as port_main

    return port_main(argv)


if __name__ == "__main__":
    sys.exit(main())
