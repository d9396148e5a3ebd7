"""The IDX reader, against bytes written by hand."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from dezero.data._idx import decompress, parse_idx, read_idx


def test_uint8_images_round_trip(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 4) + a.tobytes()
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "a").write_bytes(raw)
    for name in ("a", "a.gz"):
        got = read_idx(tmp_path / name)
        assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
        np.testing.assert_array_equal(got, a)
        assert got.flags.writeable


def test_big_endian_int32_and_float32():
    vals = [1, -2, 70000]
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + struct.pack(">iii", *vals)
    got = parse_idx(raw)
    assert got.dtype == np.int32 and got.dtype.byteorder in "=|<" and got.tolist() == vals
    raw = bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 2) + struct.pack(">ff", 1.5, -0.25)
    assert parse_idx(raw).tolist() == [1.5, -0.25]


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"\x01\x00\x08\x01", "magic"),
        (bytes([0, 0, 0x42, 1]) + struct.pack(">I", 1) + b"x", "type code 0x42"),
        (bytes([0, 0, 8, 2]) + struct.pack(">I", 2), "header"),
        (bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"abc", "holds 11 bytes"),
    ],
)
def test_malformed(raw, match):
    with pytest.raises(ValueError, match=match):
        parse_idx(raw, "bad")


def test_truncated_gzip():
    data = gzip.compress(b"0" * 1000)
    with pytest.raises(ValueError, match="not a complete gzip stream"):
        decompress(data[:-10], "x.gz")
