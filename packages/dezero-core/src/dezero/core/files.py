"""Atomic file writing for every dezero package: write beside, fsync, then rename.

A file written through this module is either its old self or complete: the bytes go to a
temporary file in the same folder (``.<name>.<random>.tmp``), which is synced and then
renamed over the target with `os.replace`, atomic within one file system. On an
exception the temporary file is removed. A process killed outright (SIGKILL, power loss)
can still leave one behind; [`remove_stale_temporaries`][dezero.core.files.remove_stale_temporaries]
clears those at the next start. [`write_npz`][dezero.core.files.write_npz] is the ``.npz``
writer the packages put inside such a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "atomic_file",
    "atomic_write",
    "atomic_write_text",
    "remove_stale_temporaries",
    "write_npz",
]

TEMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    # The rename itself reaches the disk once the folder is synced (POSIX only).
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str], *, suffix: str = TEMP_SUFFIX, make_parents: bool = True
) -> Iterator[IO[bytes]]:
    """Open a temporary binary file beside ``path``; on a clean exit it becomes ``path``.

    Until the rename, ``path`` keeps its previous content. If the block raises, the
    temporary file is removed and ``path`` is untouched. ``suffix`` names the temporary
    file's kind (``.tmp``; downloads use ``.part``). With ``make_parents=False`` a missing
    folder is an error instead of being created.

    Examples:
        ```python
        with atomic_file("weights.npz") as f:
            write_npz(f, {"W": W})
        ```
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` on a temporary file and move it to ``path`` once complete."""
    with atomic_file(path) as f:
        write(f)
    return Path(path)


def write_npz(file: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the open binary ``file`` as an uncompressed ``.npz``, without pickle.

    What ``np.savez(file, **arrays)`` writes, except that every name is stored as given:
    ``np.savez`` would take the names ``file`` and ``allow_pickle`` as its own arguments
    (failing, or dropping the array silently). An object array raises ``ValueError``
    (``np.load(..., allow_pickle=False)`` could not read it back).
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, a in arrays.items():
            with z.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(a), allow_pickle=False)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    data = text.encode("utf-8")
    with atomic_file(path) as f:
        f.write(data)
    return Path(path)


def remove_stale_temporaries(
    path: str | os.PathLike[str], *, suffixes: tuple[str, ...] = (TEMP_SUFFIX,)
) -> list[Path]:
    """Remove temporary files that an interrupted [`atomic_file`][dezero.core.files.atomic_file]
    left beside ``path``.

    Only files named ``.<name>.<random><suffix>`` (this module's own pattern) are touched.
    Call it where a single writer owns the folder (a locked output folder, the library's
    cache), since a concurrent writer's live temporary file matches the same pattern.
    Returns the removed paths.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    for suffix in suffixes:
        for stale in path.parent.glob(f".{glob_escape(path.name)}.*{suffix}"):
            with contextlib.suppress(OSError):
                stale.unlink()
                removed.append(stale)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
