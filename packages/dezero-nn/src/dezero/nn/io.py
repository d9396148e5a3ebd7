"""Weight files: ``.npz`` archives written atomically and read without pickle."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

import numpy as np

__all__ = ["save_npz", "load_npz"]


def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz``, atomically.

    The archive is written to a temporary file in the same directory and renamed over
    ``path``, so a crash leaves either the old file or the new one, never half of one.
    Object arrays are refused: they would need pickle to be read back.
    """
    path = os.fspath(path)
    for k, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise TypeError(f"save_npz: {k!r} is {type(a).__name__}, not a numpy.ndarray")
        if a.dtype.hasobject:
            raise TypeError(f"save_npz: {k!r} has dtype object, which cannot be saved safely")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".weights-", suffix=".npz.tmp", dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as f:
            # A file object keeps numpy from appending ".npz" to the name.
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of the ``.npz`` at ``path`` (``allow_pickle=False``)."""
    with np.load(os.fspath(path), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
