"""A model trained by dezero-train, exported by dezero-onnx, gives the same test accuracy
in onnxruntime (the issue's end-to-end check; nothing in the stack imports dezero.onnx)."""

from __future__ import annotations

import csv

import onnxruntime as ort
from _workspace import root_config

from dezero.data import DataLoader, datasets
from dezero.onnx import cli as onnx_cli
from dezero.train import cli as train_cli


def test_one_epoch_on_the_sample_exports_with_the_same_test_accuracy(tmp_path, capsys):
    out = tmp_path / "run"
    code = train_cli.main(["--dataset", "mnist-sample", "--epochs", "1", "--hidden", "100",
                           "--optimizer", "adam", "--gpu", "false", "--seed", "0", "--quiet",
                           "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    with open(out / "history.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))

    onnx_path = out / "model.onnx"
    assert onnx_cli.main(["mlp", str(out / "weights.npz"), "--out", str(onnx_path)]) == 0

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    correct = total = 0
    # Batches of 250 (the trainer evaluated in batches of 100): the batch axis is symbolic.
    for x, t in DataLoader(datasets.MNISTSample(train=False), 250, shuffle=False):
        (y,) = sess.run(None, {"input": x})
        correct += int((y.argmax(axis=1) == t).sum())
        total += len(t)
    assert total == 1000
    # The trainer's accuracy (a mean over 10 batches of 100) printed as the CSV prints it.
    acc = correct / total
    assert float(row["test_acc"]) == acc, (row["test_acc"], acc)
    assert acc > 0.5  # one epoch of Adam learns (chance is 0.1)


def test_export_demo_script_exports_the_demo_weights():
    scripts = root_config()["tool"]["hatch"]["envs"]["default"]["scripts"]
    demo_out = scripts["demo"].split("--out", 1)[1].split()[0]
    assert scripts["export-demo"].startswith(f"dezero-onnx mlp {demo_out}/weights.npz ")
