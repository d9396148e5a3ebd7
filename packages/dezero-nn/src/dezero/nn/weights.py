"""Weight files: ``.npz`` or ``.safetensors``, written atomically, read without pickle.

The format follows the file's suffix: ``.safetensors`` is safetensors (the optional
``safetensors`` package, ``pip install "dezero-nn[safetensors]"``), anything else is NumPy's
``.npz``. Every write goes through [`dezero.core.files`][dezero.core.files], so a crash leaves the
old file or the new one, never half of one. Every read checks the file first and raises
`WeightFileError`, naming the file and the problem, when it is not a weight file.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dezero.core.files import atomic_file, write_npz

__all__ = [
    "WeightFileError",
    "DeZeroFormatWarning",
    "save",
    "load",
    "save_npz",
    "load_npz",
    "save_safetensors",
    "load_safetensors",
    "is_dezero_names",
    "from_dezero_names",
    "cast_checked",
]

SAFETENSORS_SUFFIX = ".safetensors"


class WeightFileError(ValueError):
    """A weight file that cannot be read: damaged, of another kind, or not matching a model."""


class DeZeroFormatWarning(UserWarning):
    """A weight file in DeZero 0.0.13's naming (``l0/W``) was read and converted."""


def _check_arrays(func: str, arrays: Mapping[str, Any]) -> None:
    for k, a in arrays.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"{func}: names must be non-empty strings, got {k!r}")
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{func}: {k!r} is {type(a).__name__}, not a numpy.ndarray")
        if a.dtype.hasobject:
            raise TypeError(f"{func}: {k!r} has dtype object, which cannot be saved safely")


# ---- .npz ----------------------------------------------------------------------------
def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz``, atomically.

    Object arrays are refused: they would need pickle to be read back.
    """
    _check_arrays("save_npz", arrays)
    with atomic_file(path) as f:
        write_npz(f, arrays)


def _describe_start(head: bytes) -> str:
    if head.startswith(b"\x93NUMPY"):
        return "a single-array .npy file, not a .npz archive of named arrays"
    if _looks_like_text(head):
        return "text, not a .npz archive"
    return f"not a .npz archive (it starts with {head[:8]!r})"


def _looks_like_text(head: bytes) -> bool:
    try:
        s = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in s)


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of the ``.npz`` at ``path``; pickled objects are never loaded.

    Raises:
        WeightFileError: the file is empty, truncated, damaged (CRC), of another kind
            (``.npy``, text) or holds something other than numeric arrays.
        FileNotFoundError: there is no file at ``path``.
    """
    p = os.fspath(path)
    with open(p, "rb") as f:
        head = f.read(64)
    if not head:
        raise WeightFileError(f"load_npz: {p!r} is empty (0 bytes)")
    if not head.startswith(b"PK"):
        raise WeightFileError(f"load_npz: {p!r} is {_describe_start(head)}")
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(p, allow_pickle=False) as z:
            for k in z.files:
                try:
                    a = z[k]
                except ValueError as e:
                    if "pickle" in str(e):  # numpy's text suggests unsafe loading: never
                        raise WeightFileError(
                            f"load_npz: {p!r}: entry {k!r} holds pickled Python objects; "
                            "dezero reads numeric arrays only and never unpickles"
                        ) from None
                    raise
                if not isinstance(a, np.ndarray):
                    raise WeightFileError(f"load_npz: {p!r}: entry {k!r} is not a NumPy array")
                out[k] = a
    except WeightFileError:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError, KeyError) as e:
        kind = "truncated" if isinstance(e, EOFError) or "not a zip" in str(e) else "damaged"
        raise WeightFileError(
            f"load_npz: {p!r} is a {kind} .npz archive ({type(e).__name__}: {e})"
        ) from None
    return out


# ---- .safetensors --------------------------------------------------------------------
def _safetensors_numpy(func: str) -> Any:
    try:
        from safetensors import numpy as st_numpy
    except ImportError:
        raise ImportError(
            f"{func}: .safetensors files need the 'safetensors' package: "
            'pip install "dezero-nn[safetensors]" (or: pip install safetensors)'
        ) from None
    return st_numpy


def save_safetensors(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as ``.safetensors``, atomically."""
    _check_arrays("save_safetensors", arrays)
    st = _safetensors_numpy("save_safetensors")
    # safetensors wants C-contiguous arrays; the bytes are built in memory, then written once.
    data = st.save({k: np.ascontiguousarray(a) for k, a in arrays.items()},
                   metadata={"format": "np", "writer": "dezero"})
    with atomic_file(path) as f:
        f.write(data)


def load_safetensors(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every tensor of the ``.safetensors`` file at ``path`` as NumPy arrays.

    Raises:
        WeightFileError: the file is empty, truncated or damaged, or holds a dtype NumPy
            cannot represent (bfloat16).
        ImportError: the ``safetensors`` package is not installed (says what to install).
    """
    st = _safetensors_numpy("load_safetensors")
    p = os.fspath(path)
    data = Path(p).read_bytes()
    if not data:
        raise WeightFileError(f"load_safetensors: {p!r} is empty (0 bytes)")
    if len(data) < 8:
        raise WeightFileError(f"load_safetensors: {p!r} is truncated ({len(data)} bytes)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8:
        why = (f"its header claims {header_len} bytes, the file has {len(data) - 8} after "
               "the length")
        if data[:1] in (b"P", b"\x93") or _looks_like_text(data[:64]):
            why = f"not a .safetensors file (it starts with {data[:8]!r})"
        raise WeightFileError(f"load_safetensors: {p!r} is {why}")
    try:
        arrays = st.load(data)
    except Exception as e:  # safetensors raises its own SafetensorError (and a few others)
        raise WeightFileError(
            f"load_safetensors: {p!r} is damaged or not a .safetensors file "
            f"({type(e).__name__}: {e})"
        ) from None
    return {k: np.asarray(a) for k, a in arrays.items()}


# ---- by suffix -----------------------------------------------------------------------
def _is_safetensors(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).lower().endswith(SAFETENSORS_SUFFIX)


def save(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path``: ``.safetensors`` by that suffix, else ``.npz``."""
    if _is_safetensors(path):
        save_safetensors(path, arrays)
    else:
        save_npz(path, arrays)


def load(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a weight file written by `save` (format chosen by the suffix)."""
    return load_safetensors(path) if _is_safetensors(path) else load_npz(path)


# ---- DeZero 0.0.13's names -----------------------------------------------------------
def is_dezero_names(names: Any) -> bool:
    """True when the names are DeZero 0.0.13's (``l0/W``): dezero's own never hold ``/``."""
    names = list(names)
    return bool(names) and any("/" in n for n in names) and not any("." in n for n in names)


def from_dezero_names(arrays: Mapping[str, Any]) -> dict[str, Any]:
    """Rename DeZero 0.0.13's weight names to dezero's dotted ones (``l0/W`` -> ``l0.W``).

    DeZero's ``Layer._flatten_params`` joins attribute names with ``/`` in registration
    order; dezero joins the same names with ``.``, so the mapping is one-to-one.
    """
    out: dict[str, Any] = {}
    for k, v in arrays.items():
        new = k.replace("/", ".")
        if new in out:
            raise WeightFileError(f"from_dezero_names: {k!r} and another entry both map to {new!r}")
        out[new] = v
    return out


# ---- dtype conversion for loading ----------------------------------------------------
def cast_checked(func: str, name: str, arr: np.ndarray, dtype: Any) -> np.ndarray:
    """``arr`` as a new array of float ``dtype``; refuses non-float kinds and overflow.

    Raises:
        TypeError: ``arr`` is not a floating-point array (int, bool, complex...).
        ValueError: a finite value of ``arr`` is out of ``dtype``'s range.
    """
    dtype = np.dtype(dtype)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{func}: {name!r} has dtype {arr.dtype}, not a floating-point dtype; weights "
            f"are loaded as {dtype}, so save them as floats"
        )
    if arr.dtype == dtype:
        return arr.copy()
    with np.errstate(over="ignore"):  # overflow is reported below, by name and index
        out = arr.astype(dtype)
    if np.finfo(dtype).max < np.finfo(arr.dtype).max:
        bad = np.isfinite(arr) & ~np.isfinite(out)
        if bad.any():
            idx = np.unravel_index(int(np.argmax(bad)), arr.shape) if arr.ndim else ()
            raise ValueError(
                f"{func}: {name!r} holds {arr[idx]!r} at index {tuple(int(i) for i in idx)}, "
                f"which overflows {dtype} (largest {np.finfo(dtype).max})"
            )
    return out
