"""The ``dezero-train`` command: the paper's MLP experiment, end to end, with the Trainer."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]

DATASETS = ("mnist-sample", "mnist", "fashion-mnist", "spiral")
OPTIMIZERS = ("sgd", "momentum", "adam")
_DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}  # DeZero's defaults


def _gpu_arg(value: str) -> bool | str | int:
    v = value.strip().lower()
    if v == "auto":
        return "auto"
    if v in ("true", "yes", "on"):
        return True
    if v in ("false", "no", "off"):
        return False
    if v in ("cpu", "cuda") or (v.startswith("cuda:") and v[5:].isdigit()):
        return v
    if v.isdigit():
        return int(v)  # a GPU number, as Chainer's --gpu N
    raise argparse.ArgumentTypeError(
        f"--gpu takes auto, true, false, cpu, cuda, cuda:N or a GPU number N, not {value!r}"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dezero-train",
        description="Train the paper's MLP (784-H-10, sigmoid) with the dezero Trainer; "
        "writes history.csv, history.png, weights.npz and checkpoint.npz to --out.",
    )
    p.add_argument("--dataset", choices=DATASETS, default="mnist-sample",
                   help="mnist-sample (bundled, offline; default), mnist, fashion-mnist, spiral")
    p.add_argument("--epochs", type=int, default=5, help="epochs to train (default 5)")
    p.add_argument("--hidden", type=int, default=1000, help="hidden units (default 1000)")
    p.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default 100)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default sgd")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: sgd/momentum 0.01, adam 0.001)")
    p.add_argument("--gpu", type=_gpu_arg, default="auto",
                   help="auto (GPU when usable; default), true (GPU or fail), false, "
                   "or a device: cpu, cuda, cuda:N, N")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--data-dir", default=None,
                   help="folder holding the MNIST/Fashion-MNIST .gz files")
    p.add_argument("--resume", action="store_true",
                   help="continue from <out>/checkpoint.npz")
    p.add_argument("--no-stop-on-nan", dest="stop_on_nan", action="store_false",
                   help="keep training when the loss becomes NaN/Inf (default: stop before "
                   "that update, keep the last finite weights, exit with status 3)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of mpiexec (needs dezero-train[dist]); "
                   "--batch-size is per rank; NCCL on GPUs, MPI on CPUs")
    return p


def _datasets(name: str, data_dir: str | None) -> tuple[Any, Any, int]:
    from dezero.data import datasets

    if name == "mnist-sample":
        return datasets.MNISTSample(train=True), datasets.MNISTSample(train=False), 10
    if name == "spiral":
        return datasets.Spiral(train=True), datasets.Spiral(train=False), 3
    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    return cls(train=True, root=data_dir), cls(train=False, root=data_dir), 10


def _optimizer(name: str, lr: float | None) -> Any:
    from dezero.nn import optimizers

    rate = _DEFAULT_LR[name] if lr is None else lr
    if name == "sgd":
        return optimizers.SGD(lr=rate)
    if name == "momentum":
        return optimizers.MomentumSGD(lr=rate)
    return optimizers.Adam(alpha=rate)


class Diverged(RuntimeError):
    """The loss became NaN or infinite and training stopped (exit status 3)."""


#: Files the command writes into --out; temporaries of interrupted writes are cleared.
OUTPUTS = ("checkpoint.npz", "history.csv", "history.png", "weights.npz")


def _communicator(args: argparse.Namespace) -> Any:
    try:
        from dezero.dist import create_communicator
    except ImportError as e:
        raise ImportError(
            "dezero-train: --distributed needs dezero-dist: pip install 'dezero-train[dist]'"
        ) from e
    from dezero.train._distributed import register

    kind = {True: "nccl", False: "mpi"}.get(args.gpu, "auto")
    comm = create_communicator(kind)
    register(comm)
    return comm


def run(args: argparse.Namespace) -> Path:
    """Train as ``args`` say, holding ``--out`` for this run alone; return the folder."""
    from dezero.train.lock import OutputLock, OutputLockedError

    for flag, value in (("--epochs", args.epochs), ("--hidden", args.hidden),
                        ("--batch-size", args.batch_size)):
        if value < 1:
            raise ValueError(f"dezero-train: {flag} must be a positive integer, got {value}")
    out = Path(args.out)
    if args.resume and not (out / "checkpoint.npz").is_file():
        raise FileNotFoundError(
            f"dezero-train: --resume needs {out / 'checkpoint.npz'}, which does not exist; "
            f"run once without --resume (same --out) first"
        )
    comm = _communicator(args) if getattr(args, "distributed", False) else None
    if comm is None:
        with OutputLock(out):
            return _run_locked(args, out, None)
    # Rank 0 holds the folder (its host and pid in the lock); the others learn whether it
    # could, so that all go on or all stop.
    lock, problem = OutputLock(out), None
    if comm.rank == 0:
        try:
            lock.acquire()
        except OutputLockedError as e:
            problem = str(e)
    problem = comm.bcast_obj(problem, root=0)
    if problem is not None:
        raise OutputLockedError(problem if comm.rank == 0 else f"rank 0: {problem}")
    try:
        return _run_locked(args, out, comm)
    finally:
        lock.release()


def _run_locked(args: argparse.Namespace, out: Path, comm: Any) -> Path:
    import dezero.nn.functions as F
    from dezero.core.files import remove_stale_temporaries
    from dezero.data import DataLoader
    from dezero.nn.models import MLP
    from dezero.train import Checkpoint, CSVLogger, TerminateOnNaN, Trainer

    root = comm is None or comm.rank == 0
    if root:
        for name in OUTPUTS:  # left by a run killed mid-write; this run owns the folder now
            remove_stale_temporaries(out / name)
    train_set, test_set, n_classes = _datasets(args.dataset, args.data_dir)
    if comm is not None:
        from dezero.dist import scatter_dataset

        # A new global order each epoch (seed + epoch), the same on every rank; each
        # rank takes its shard of it, in that order.
        train_loader = DataLoader(scatter_dataset(train_set, comm, shuffle=True, seed=args.seed),
                                  args.batch_size, shuffle=False)
        test_loader = DataLoader(scatter_dataset(test_set, comm), args.batch_size, shuffle=False)
    else:
        # Unseeded here: Trainer(seed=) seeds the framework and both loaders, once.
        train_loader = DataLoader(train_set, args.batch_size, shuffle=True)
        test_loader = DataLoader(test_set, args.batch_size, shuffle=False)
    model = MLP((args.hidden, n_classes))
    optimizer = _optimizer(args.optimizer, args.lr).setup(model)
    nan_stop = TerminateOnNaN()
    callbacks = [CSVLogger("history.csv"), Checkpoint("checkpoint.npz")]
    trainer = Trainer(
        model, F.softmax_cross_entropy, optimizer, train_loader, test_loader,
        gpu=args.gpu, out=out, seed=args.seed,
        callbacks=[*callbacks, nan_stop] if args.stop_on_nan else callbacks,
        progress=not args.quiet, comm=comm,
    )
    # Saved in the checkpoint: --resume with another value is refused, naming the flag.
    trainer.settings = {
        "--dataset": args.dataset, "--hidden": args.hidden, "--batch-size": args.batch_size,
        "--optimizer": args.optimizer, "--lr": _DEFAULT_LR[args.optimizer] if args.lr is None
        else args.lr, "--seed": args.seed, "model": type(model).__name__,
        # Distributed: the Trainer's; another world size is refused on resume.
        **{k: v for k, v in trainer.settings.items() if k == "world_size"},
    }
    if not args.quiet and root:
        ranks = "" if comm is None else f", {comm.size} rank(s) over {comm.kind.upper()}"
        print(f"dezero-train: {args.dataset} ({len(train_set)} train / {len(test_set)} test), "
              f"MLP {args.hidden}-{n_classes}, {args.optimizer}, device {trainer.device}{ranks}",
              flush=True)
    if args.resume:
        trainer.load_checkpoint(out / "checkpoint.npz")
        if trainer.epoch >= args.epochs:
            if not root:
                return out
            print(f"dezero-train: {out / 'checkpoint.npz'} already has {trainer.epoch} epochs "
                  f"done and --epochs is {args.epochs}: nothing left to do (raise --epochs to "
                  f"train further)", flush=True)
            return out
    trainer.fit(args.epochs)
    diverged = nan_stop.stopped
    if comm is not None:  # the stop was agreed; whether a NaN caused it, only its rank knows
        diverged = any(comm.allgather_obj(diverged))
    if not root:
        return out  # rank 0 writes the outputs
    trainer.history.to_csv(out / "history.csv")
    plot = trainer.plot(out / "history.png", show=False)
    model.save_weights(out / "weights.npz")
    if not args.quiet:
        print(f"wrote {out / 'history.csv'}, {plot}, {out / 'weights.npz'}", flush=True)
    if diverged:
        raise Diverged(f"{trainer.stop_reason} The weights written are the last finite ones.")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m dezero.train``; returns the exit code.

    The ``dezero-train`` command enters through the launcher ``_dezero_train.main``, which
    first checks that the original DeZero does not shadow the namespace (this module could
    not even be imported then).
    """
    args = build_parser().parse_args(argv)
    from dezero.core.backend import GPUUnavailableError
    from dezero.data.download import DatasetNotFoundError
    from dezero.train.checkpoint import CheckpointError
    from dezero.train.lock import OutputLockedError

    try:
        run(args)
    except DatasetNotFoundError as e:
        # The message names root= and DEZERO_DATASETS (the library's words); say the flag too.
        print(f"dezero-train: error: {e}\nWith dezero-train: --data-dir <dir> names that "
              f"folder (the files in <dir> or in <dir>/{args.dataset}/).", file=sys.stderr)
        _abort_peers()
        return 1
    except Diverged as e:
        print(f"dezero-train: error: {e}", file=sys.stderr)
        return 3
    except (GPUUnavailableError, CheckpointError, OutputLockedError, FileNotFoundError, OSError,
            ValueError) as e:
        # Expected failures (no GPU, dataset not found, bad checkpoint): a message, no trace.
        print(f"dezero-train: error: {e}", file=sys.stderr)
        _abort_peers()
        return 1
    except KeyboardInterrupt:
        print("dezero-train: interrupted; continue with --resume", file=sys.stderr)
        _abort_peers(130)
        return 130
    return 0


def _abort_peers(code: int = 1) -> None:
    """Distributed, an error handled on one rank must still end the others (no hang)."""
    if "dezero.train._distributed" in sys.modules:
        from dezero.train._distributed import abort_peers

        abort_peers(code)
