"""The dezero-train command on the real Fashion-MNIST (Debian's package), with no network."""

from __future__ import annotations

import csv

import pytest

from dezero.train import cli

pytestmark = pytest.mark.requires_system("fashion-mnist")


def test_fashion_mnist_dataset_flag_trains_on_the_full_set(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEZERO_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("DEZERO_DATASETS", raising=False)
    monkeypatch.delenv("DEZERO_SYSTEM_DATASETS", raising=False)
    out = tmp_path / "fm"
    code = cli.main(["--dataset", "fashion-mnist", "--epochs", "1", "--hidden", "32",
                     "--batch-size", "200", "--optimizer", "adam", "--gpu", "false",
                     "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("dezero-train: fashion-mnist (60000 train / 10000 test)")
    assert "epoch 1/1  loss " in captured.out
    with open(out / "history.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    # One epoch of Adam on 60,000 real images: far above chance (0.1).
    assert float(row["test_acc"]) > 0.75
    for name in ("history.png", "weights.npz", "checkpoint.npz"):
        assert (out / name).is_file()
