"""The except hook that turns an uncaught exception on one rank into the end of the job."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType
from typing import Any

__all__ = ["install_except_hook"]

_installed: list[Any] = []


def install_except_hook(comm: Any) -> None:
    """On an uncaught exception, print it with the rank and call ``comm.abort(1)``.

    Without this, the other ranks would wait forever in their next collective. The
    hook chains to the one it replaces, and is installed once per process.
    """
    if _installed:
        _installed[0] = comm
        return
    _installed.append(comm)
    previous = sys.excepthook

    def hook(etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        c = _installed[0]
        try:
            sys.stderr.write(f"dezero.dist: uncaught exception on rank {c.rank} of {c.size}; "
                             "aborting the job\n")
            traceback.print_exception(etype, value, tb)
            sys.stderr.flush()
        finally:
            if issubclass(etype, KeyboardInterrupt):
                previous(etype, value, tb)
            c.abort(1)

    sys.excepthook = hook
