"""Reading IDX files, the format MNIST and Fashion-MNIST are published in."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["parse_idx", "read_idx", "decompress"]

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/).
_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def decompress(raw: bytes, name: str = "<bytes>") -> bytes:
    """The content of ``raw``: gunzipped when it starts with the gzip magic, else as is."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"decompress: {name} is not a complete gzip stream: {e}") from e


def parse_idx(content: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array held in the (already decompressed) IDX bytes ``content``, in native byte order."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(f"parse_idx: {name} does not start with an IDX magic number")
    code, ndim = content[2], content[3]
    if code not in _DTYPES:
        raise ValueError(f"parse_idx: {name} has unknown IDX type code 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"parse_idx: {name} is shorter than its {ndim}-dimension header")
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        raise ValueError(
            f"parse_idx: {name} holds {len(content)} bytes, but its header (shape {shape}, "
            f"{dtype.name}) needs {expected}"
        )
    data = np.frombuffer(content, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable, native-order copy


def read_idx(path: str | Path) -> np.ndarray:
    """The array in the IDX file ``path`` (``.gz`` or not)."""
    p = Path(path)
    return parse_idx(decompress(p.read_bytes(), p.name), p.name)
