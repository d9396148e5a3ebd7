"""Checkpoints: a Trainer's nested state as one .npz, arrays beside a JSON record.

[`Trainer.state_dict`][dezero.train.Trainer.state_dict] gives the state; this module only stores it.
Each array goes to an entry named by its path in the state (``model/l1.W``,
``optimizer/state/l1.W/m``, ``callbacks/0/state/best_weights/l1.W``...), replaced in the JSON by
``{"__array__": path}``; the JSON itself is the 0-d string entry ``__meta__``
(``{"format": ..., "state": ...}``). Written atomically, read with ``allow_pickle=False``: nothing
is ever pickled. A damaged file raises [`CheckpointError`][dezero.train.CheckpointError] naming
the file.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero.core import backend
from dezero.core.files import atomic_write, write_npz
from dezero.train.state import StateError

if TYPE_CHECKING:
    from dezero.train.trainer import Trainer

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "write_state",
    "read_state",
]

FORMAT = "dezero-train checkpoint 2"
_META = "__meta__"
_ARRAY = "__array__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: damaged, not a checkpoint, or of another run."""


def _split(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace arrays inside ``obj`` by ``{"__array__": key}`` and put them in ``arrays``."""
    if isinstance(obj, Mapping):
        return {str(k): _split(v, f"{prefix}/{k}" if prefix else str(k), arrays)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if backend.is_array(obj):
        arrays[prefix] = np.asarray(backend.to_cpu(obj))
        return {_ARRAY: prefix}
    return obj


def _join(obj: Any, arrays: Mapping[str, np.ndarray], path: Path) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY}:
            key = obj[_ARRAY]
            if not isinstance(key, str) or key not in arrays:
                raise CheckpointError(
                    f"load_checkpoint: {str(path)!r} is damaged: its record names the array "
                    f"{key!r}, which the file lacks"
                )
            return arrays[key]
        return {k: _join(v, arrays, path) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays, path) for v in obj]
    return obj


def save_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> Path:
    """Write ``trainer.state_dict()`` to ``path`` atomically and return the path."""
    return write_state(path, trainer.state_dict())


def write_state(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write a nested state (JSON values and arrays) to ``path`` atomically, as a checkpoint."""
    arrays: dict[str, np.ndarray] = {}
    meta = {"format": FORMAT, "state": _split(state, "", arrays)}
    arrays[_META] = np.array(json.dumps(meta))

    return atomic_write(path, lambda f: write_npz(f, arrays))


def _damaged(path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"read_checkpoint: {str(path)!r} is not a usable checkpoint: {problem}")


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, meta)`` of a checkpoint file, checked for integrity; nothing is applied.

    Raises [`CheckpointError`][dezero.train.CheckpointError] naming the file for an empty, truncated
    or corrupt file, a file of another kind (``.npy``, text, weights alone) or another format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_checkpoint: no checkpoint at {str(path)!r}")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise _damaged(path, f"it cannot be read ({e.strerror or e})") from e
    if not head:
        raise _damaged(path, "the file is empty")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        kind = "a .npy array" if head == b"\x93NUM" else "not a .npz (zip) archive"
        raise _damaged(path, f"it is {kind} (it starts with {head!r})")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        problem = str(e)
        if "pickle" in problem:  # never suggest loading pickles
            problem = "it holds pickled objects, which are never loaded"
        raise _damaged(path, f"truncated or corrupt ({type(e).__name__}: {problem})") from e
    odd = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
    if odd:
        raise _damaged(path, f"its entries {odd} are not .npy arrays")
    if _META not in arrays:
        raise _damaged(
            path, f"it has no {_META!r} entry: not a dezero-train checkpoint (weights alone "
            f"load with model.load_weights)"
        )
    raw = arrays.pop(_META)
    try:
        meta = json.loads(str(raw)) if raw.dtype.kind == "U" and raw.ndim == 0 else None
    except json.JSONDecodeError as e:
        raise _damaged(path, f"its {_META!r} record is not valid JSON ({e})") from e
    if not isinstance(meta, dict):
        raise _damaged(path, f"its {_META!r} entry is not a JSON record")
    if meta.get("format") != FORMAT:
        raise _damaged(path, f"format {meta.get('format')!r}, expected {FORMAT!r}")
    return arrays, meta


def read_state(path: str | os.PathLike[str]) -> Any:
    """The nested state that `write_state` wrote to ``path``, checked for integrity."""
    arrays, meta = read_checkpoint(path)
    return _join(meta.get("state"), arrays, Path(path))


def load_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Restore ``trainer`` from ``path``; return the restored state.

    Everything is checked before anything changes (see
    [`Trainer.load_state_dict`][dezero.train.Trainer.load_state_dict]): a file that does not fit
    raises [`CheckpointError`][dezero.train.CheckpointError] and leaves the trainer as is.
    """
    path = Path(path)
    state = read_state(path)
    try:
        trainer.load_state_dict(state)
    except StateError as e:
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} does not fit this trainer: {e}; nothing was changed"
        ) from e
    return state
