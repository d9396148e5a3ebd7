"""One output folder, one run: a lock file naming its owner (host and pid).

The lock is ``<folder>/.lock``, created with ``O_EXCL`` (so two runs cannot both take it)
and holding ``{"host": ..., "pid": ...}`` as JSON. A second run refuses at once and says
who holds the folder. A lock left by a process that no longer exists on this host (a
SIGKILL, a crash) is taken over; one held from another host is never guessed dead.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from types import TracebackType

__all__ = ["OutputLock", "OutputLockedError"]

LOCK_NAME = ".lock"


class OutputLockedError(RuntimeError):
    """The output folder is in use by another run."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class OutputLock:
    """Hold ``folder`` for this process: ``with OutputLock(out): ...``.

    Raises :class:`OutputLockedError` naming the owner when another live process holds it.

    Example:
        >>> with OutputLock("results"):
        ...     trainer.fit(5)
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.held = False

    def _owner(self) -> dict[str, object] | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # being written this instant, or damaged: treated as held
        return owner if isinstance(owner, dict) else {}

    def acquire(self) -> OutputLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = json.dumps({"host": self.host, "pid": self.pid}).encode()
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is None:
                    continue  # released meanwhile: try again
                host, pid = owner.get("host"), owner.get("pid")
                dead = (
                    host == self.host and isinstance(pid, int) and pid != self.pid
                    and not _alive(pid)
                )
                if not dead:
                    who = f"pid {pid} on host {host}" if pid is not None else "another run"
                    raise OutputLockedError(
                        f"{self.folder} is in use by {who} (lock file {self.path}). Wait for "
                        f"that run to finish or choose another output folder; if that run is "
                        f"gone (another host, say), delete {self.path}."
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # a dead process's lock: take it over
                continue
            with os.fdopen(fd, "wb") as f:
                f.write(record)
            self.held = True
            return self
        raise OutputLockedError(f"{self.folder}: could not take the lock {self.path}")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        owner = self._owner()
        if owner and owner.get("pid") == self.pid and owner.get("host") == self.host:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
