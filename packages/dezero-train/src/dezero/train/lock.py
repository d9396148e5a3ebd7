"""One output folder, one run: a lock file naming its owner (host and pid).

The lock is ``<folder>/.lock`` holding ``{"host": ..., "pid": ...}`` as JSON, with an
advisory ``flock`` on it while the run lasts (POSIX). A second run refuses at once and says
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

try:
    import fcntl
except ImportError:  # Windows: the pid check alone
    fcntl = None  # type: ignore[assignment]

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

    Raises [`OutputLockedError`][dezero.train.OutputLockedError] naming the owner when another live
    process holds it. On POSIX the file also carries an advisory ``flock`` that the kernel drops
    when its process dies, so two runs starting at once over a stale lock cannot both take it.

    Examples:
        >>> with OutputLock("results"):
        ...     trainer.fit(5)
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.held = False
        self._fd: int | None = None

    def _owner(self) -> dict[str, object]:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return owner if isinstance(owner, dict) else {}

    def _locked(self, owner: dict[str, object]) -> OutputLockedError:
        host, pid = owner.get("host"), owner.get("pid")
        who = f"pid {pid} on host {host}" if pid is not None else "another run"
        return OutputLockedError(
            f"{self.folder} is in use by {who} (lock file {self.path}). Wait for that run to "
            f"finish or choose another output folder; if that run is gone (on another host, "
            f"say), delete {self.path}."
        )

    def _stale(self, owner: dict[str, object], flocked: bool) -> bool:
        """Whether a lock file naming ``owner`` may be taken over."""
        host, pid = owner.get("host"), owner.get("pid")
        if not owner:
            return True  # empty: its writer died before writing, or it is ours, new
        if host != self.host:
            return False  # a process on another host cannot be checked from here
        if flocked:
            return True  # its holder's flock is gone: that process ended
        return isinstance(pid, int) and pid != self.pid and not _alive(pid)

    def acquire(self) -> OutputLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = json.dumps({"host": self.host, "pid": self.pid}).encode()
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        raise self._locked(self._owner()) from None
                    try:  # released and unlinked meanwhile: lock the new file instead
                        same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                    except FileNotFoundError:
                        same = False
                    if not same:
                        os.close(fd)
                        continue
                owner = self._owner()
                if not self._stale(owner, flocked=fcntl is not None):
                    raise self._locked(owner)
                os.ftruncate(fd, 0)
                os.pwrite(fd, record, 0)
            except BaseException:
                os.close(fd)
                raise
            self._fd, self.held = fd, True
            return self
        raise OutputLockedError(f"{self.folder}: could not take the lock {self.path}")

    def release(self) -> None:
        if not self.held or self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # while still locked: the next run creates a fresh file
        os.close(self._fd)
        self._fd, self.held = None, False

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
