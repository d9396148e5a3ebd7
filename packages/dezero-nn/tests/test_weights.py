"""Tests of dezero.nn.weights: atomic writing, damaged files, formats."""

from __future__ import annotations

import os
import stat

import numpy as np

from dezero.nn.weights import load_npz, save_npz


def test_saved_weight_file_has_the_mode_a_plain_open_would_give(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "w.npz"
        save_npz(path, {"a": np.arange(3.0)})
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        assert np.array_equal(load_npz(path)["a"], np.array([0.0, 1.0, 2.0]))
        assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary left behind
    finally:
        os.umask(mask)
