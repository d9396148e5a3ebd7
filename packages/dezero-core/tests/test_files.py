"""dezero.core.files: a target is its old self or complete, never half-written."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import numpy as np
import pytest

from dezero.core.files import atomic_file, atomic_write_text, remove_stale_temporaries, write_npz


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_text_replaces_content(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    atomic_write_text(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert _listing(tmp_path) == ["a.txt"]


def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "w.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_file(target) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["w.bin"]


def test_mode_follows_umask_not_mkstemp_private(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "m.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.txt").stat().st_mode) == 0o644


def test_make_parents_false_refuses_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "no" / "x", make_parents=False):
        pass
    assert not (tmp_path / "no").exists()


def test_remove_stale_temporaries_only_touches_its_own_pattern(tmp_path):
    target = tmp_path / "ck[1].npz"
    keep = ["ck[1].npz", ".other.abc.tmp", "ck[1].npz.tmp", ".ck[1].npz.abc.part"]
    stale = [".ck[1].npz.abc123.tmp", ".ck[1].npz.x.tmp"]
    for name in keep + stale:
        (tmp_path / name).write_bytes(b"")
    removed = remove_stale_temporaries(target)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert _listing(tmp_path) == sorted(keep)
    removed = remove_stale_temporaries(target, suffixes=(".part",))
    assert [p.name for p in removed] == [".ck[1].npz.abc.part"]


# ---- write_npz -------------------------------------------------------------------------


def test_write_npz_keeps_every_name_even_those_np_savez_takes_as_arguments():
    # np.savez(f, **arrays) takes "file" and "allow_pickle" as its own parameters.
    arrays = {
        "file": np.arange(6, dtype=np.float32).reshape(2, 3),
        "allow_pickle": np.array([1, 2, 3], dtype=np.int64),
        "model/l1.W": np.eye(2),
        "__meta__": np.array('{"format": 1}'),
    }
    buf = io.BytesIO()
    write_npz(buf, arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        assert sorted(z.files) == sorted(arrays)
        for k, a in arrays.items():
            assert z[k].dtype == a.dtype and z[k].shape == a.shape
            assert np.array_equal(z[k], a)
    # An uncompressed zip of "<name>.npy" members, the layout np.savez writes.
    buf.seek(0)
    with zipfile.ZipFile(buf) as zf:
        infos = zf.infolist()
    assert sorted(i.filename for i in infos) == sorted(k + ".npy" for k in arrays)
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


def test_write_npz_refuses_object_arrays():
    with pytest.raises(ValueError, match="allow_pickle"):
        write_npz(io.BytesIO(), {"x": np.array([None, 1], dtype=object)})
