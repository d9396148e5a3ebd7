"""dezero.core.files: a target is its old self or complete, never half-written."""

from __future__ import annotations

import os
import stat

import pytest

from dezero.core.files import atomic_file, atomic_write_text, remove_stale_temporaries


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
