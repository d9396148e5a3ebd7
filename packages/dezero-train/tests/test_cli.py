"""The dezero-train command: outputs, resume, GPU refusal and the shadowing message."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import types

import pytest

from dezero.core import backend
from dezero.train import cli


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_spiral_run_writes_history_plot_weights_and_resumes(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["--dataset", "spiral", "--hidden", "10", "--optimizer", "adam", "--lr", "0.05",
            "--batch-size", "30", "--gpu", "false", "--out", str(out)]
    assert cli.main([*args, "--epochs", "2"]) == 0
    text = capsys.readouterr().out
    assert "epoch 1/2  loss" in text and "epoch 2/2  loss" in text
    for name in ("history.csv", "history.png", "weights.npz", "checkpoint.npz"):
        assert (out / name).is_file(), name
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = _rows(out / "history.csv")
    assert [r["epoch"] for r in first] == ["1", "2"]

    assert cli.main([*args, "--epochs", "4", "--resume"]) == 0
    rows = _rows(out / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[:2] == first  # the first two epochs are the checkpoint's, untouched
    assert "epoch 3/4" in capsys.readouterr().out


def test_resume_without_checkpoint_and_bad_numbers_are_reported(tmp_path, capsys):
    assert cli.main(["--dataset", "spiral", "--out", str(tmp_path), "--resume"]) == 1
    assert "--resume needs" in capsys.readouterr().err
    assert cli.main(["--dataset", "spiral", "--out", str(tmp_path), "--epochs", "0"]) == 1
    assert "--epochs must be a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--gpu", "maybe"])


def test_gpu_true_without_a_gpu_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(backend, "gpu_status", lambda: (False, "no CUDA device answers"))
    code = cli.main(["--dataset", "spiral", "--hidden", "4", "--gpu", "true",
                     "--out", str(tmp_path), "--quiet"])
    assert code == 1
    assert "no CUDA device answers" in capsys.readouterr().err


def test_original_dezero_shadowing_the_namespace_is_explained(monkeypatch, capsys):
    fake = types.ModuleType("dezero")
    fake.__file__ = "/somewhere/site-packages/dezero/__init__.py"
    monkeypatch.setitem(sys.modules, "dezero", fake)
    from _dezero_train import main

    assert main(["--dataset", "spiral"]) == 2
    err = capsys.readouterr().err
    assert "pip uninstall dezero" in err and "/somewhere/site-packages/dezero" in err


def test_namespace_dezero_is_not_reported():
    from _dezero_train import shadowing_problem

    assert shadowing_problem() is None


def test_installed_original_dezero_is_explained_by_the_console_script(tmp_path):
    # A real regular package named dezero ahead on the path, as `pip install dezero` makes:
    # `import dezero.train` itself fails there, so only the launcher can explain it.
    fake = tmp_path / "site" / "dezero"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("is_simple_core = False\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path / "site")] + [p for p in sys.path if p]
    )
    code = "import sys, _dezero_train; sys.exit(_dezero_train.main(['--dataset', 'spiral']))"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 2, r.stderr
    assert "pip uninstall dezero" in r.stderr
    assert str(fake / "__init__.py") in r.stderr
    assert "Traceback" not in r.stderr


def test_python_dash_m_runs_the_cli(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "dezero.train", "--help"], capture_output=True, text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "--dataset" in r.stdout and "mnist-sample" in r.stdout


def test_default_dataset_is_the_bundled_mnist_sample(tmp_path, capsys):
    out = tmp_path / "demo"
    code = cli.main(["--epochs", "2", "--hidden", "64", "--optimizer", "adam", "--gpu", "false",
                     "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert text.startswith("dezero-train: mnist-sample (4000 train / 1000 test), MLP 64-10, adam")
    rows = _rows(out / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    # Real digits learn fast: far above chance (0.1) after two epochs of Adam.
    assert float(rows[-1]["test_acc"]) > 0.8
    assert float(rows[-1]["test_acc"]) * 1000 == round(float(rows[-1]["test_acc"]) * 1000)


def test_mnist_not_found_lists_the_places_tried(tmp_path, capsys, monkeypatch):
    from dezero.data import datasets

    with socket.socket() as s:  # a port where nothing listens: the mirror refuses at once
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    monkeypatch.setattr(datasets.MNIST, "mirrors", (dead,))
    monkeypatch.setenv("DEZERO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DEZERO_SYSTEM_DATASETS", str(tmp_path / "system"))
    monkeypatch.delenv("DEZERO_DATASETS", raising=False)
    mine = tmp_path / "mine"
    code = cli.main(["--dataset", "mnist", "--data-dir", str(mine), "--gpu", "false",
                     "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "MNIST: could not find or download 'train-images-idx3-ubyte.gz'" in err
    places = (mine / "mnist", mine, tmp_path / "cache" / "mnist", tmp_path / "system" / "mnist")
    for place in places:
        assert str(place / "train-images-idx3-ubyte.gz") in err, place
    assert dead + "train-images-idx3-ubyte.gz" in err
    assert "To provide it by hand" in err and "--data-dir <dir>" in err
    assert "Traceback" not in err
    # Nothing half-written anywhere it tried.
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_the_launcher_is_the_only_shadowing_check(tmp_path, monkeypatch):
    import _dezero_train

    calls = []
    real = _dezero_train.shadowing_problem
    monkeypatch.setattr(_dezero_train, "shadowing_problem", lambda: calls.append(1) or real())
    args = ["--dataset", "spiral", "--hidden", "4", "--epochs", "1", "--gpu", "false",
            "--quiet", "--out", str(tmp_path)]
    assert _dezero_train.main(args) == 0
    assert calls == [1]


def test_the_seed_reaches_each_loader_once(tmp_path, monkeypatch):
    from dezero.data import DataLoader

    seeded: list[tuple[int, int | None]] = []
    real_init, real_seed = DataLoader.__init__, DataLoader.seed

    def init(self, *a, seed=None, **k):
        if seed is not None:
            seeded.append((id(self), seed))
        real_init(self, *a, seed=seed, **k)

    def reseed(self, seed):
        seeded.append((id(self), seed))
        real_seed(self, seed)

    monkeypatch.setattr(DataLoader, "__init__", init)
    monkeypatch.setattr(DataLoader, "seed", reseed)
    assert cli.main(["--dataset", "spiral", "--hidden", "4", "--epochs", "1", "--gpu", "false",
                     "--quiet", "--seed", "5", "--out", str(tmp_path)]) == 0
    loaders = [i for i, _ in seeded]
    assert len(loaders) == 2 and len(set(loaders)) == 2  # train and test, once each
    assert [s for _, s in seeded] == [5, 6]


_SPIRAL = ["--dataset", "spiral", "--hidden", "10", "--batch-size", "30", "--gpu", "false",
           "--quiet"]


@pytest.mark.parametrize(
    "changed, flag",
    [(["--lr", "0.5"], "--lr"), (["--seed", "9"], "--seed"), (["--optimizer", "adam"],
     "--optimizer"), (["--hidden", "12"], "--hidden"), (["--batch-size", "20"], "--batch-size")],
)
def test_resume_with_another_setting_is_refused_naming_it(tmp_path, capsys, changed, flag):
    out = tmp_path / "run"
    base = [*_SPIRAL, "--out", str(out), "--lr", "0.1", "--seed", "3"]
    assert cli.main([*base, "--epochs", "1"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = [*base, "--epochs", "2", "--resume"]
    if flag in args:
        args[args.index(flag) + 1] = changed[1]
    else:
        args += changed
    capsys.readouterr()
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert f"'{flag}'" in err and "resume with the same" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing rewritten


def test_resume_with_nothing_left_to_do_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*_SPIRAL, "--out", str(out), "--epochs", "2"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    for epochs in ("2", "1"):
        assert cli.main([*_SPIRAL, "--out", str(out), "--epochs", epochs, "--resume"]) == 0
        text = capsys.readouterr().out
        assert f"already has 2 epochs done and --epochs is {epochs}: nothing left to do" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the Inf
def test_a_diverging_run_stops_before_the_bad_update_and_exits_non_zero(tmp_path, capsys):
    import numpy as np

    out = tmp_path / "run"
    code = cli.main([*_SPIRAL, "--out", str(out), "--epochs", "3", "--lr", "1e38"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "TerminateOnNaN: the loss became" in err and "not applied" in err
    with np.load(out / "weights.npz", allow_pickle=False) as z:
        assert all(np.isfinite(z[k]).all() for k in z.files)  # the last finite weights
    # Asked not to stop, the same run goes on through its epochs and exits 0.
    code = cli.main([*_SPIRAL, "--out", str(tmp_path / "on"), "--epochs", "2", "--lr", "1e38",
                     "--no-stop-on-nan"])
    assert code == 0


def test_stale_temporaries_are_removed_at_the_next_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / ".checkpoint.npz.k2j3h4.tmp", out / ".history.csv.abc.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    mine = out / "notes.tmp"  # not this module's pattern: the user's, left alone
    mine.write_text("keep")
    assert cli.main([*_SPIRAL, "--out", str(out), "--epochs", "1"]) == 0
    assert not any(p.exists() for p in stale) and mine.read_text() == "keep"
    assert not (out / ".lock").exists()  # released at the end
