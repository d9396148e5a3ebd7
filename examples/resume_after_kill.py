"""Resuming a killed run: the checkpoint holds everything, so the result is bit-for-bit equal.

Trains the MLP on the bundled MNIST sample three times, each in its own process:

1. uninterrupted, for the reference;
2. again, with a ``Checkpoint`` every 15 updates, and the process kills itself with
   SIGKILL in the middle of an epoch (no clean-up of any kind can run);
3. resumed from the last checkpoint with ``trainer.fit(epochs, resume=True)``.

A checkpoint holds the weights, the optimizer's state (Adam's moments and step count),
the epoch and the position inside it, the loaders' shuffling state, the history and the
random generators. So run 3 redoes the updates made after the checkpoint exactly as run 2
made them, and its final weights equal the reference's bit for bit. Writes ``resume.png``
(the loss per update of both runs) and ``metrics.json`` to ``--out``.

    python examples/resume_after_kill.py            # 3 epochs, killed at update 100
    python examples/resume_after_kill.py --quick    # 2 epochs, killed at update 50
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np


def train(out: Path, epochs: int, kill_at: int | None, resume: bool) -> None:
    """One training run (in a child process): the model, the loaders and the Trainer."""
    from dezero.data import DataLoader, datasets
    from dezero.nn import functions as F
    from dezero.nn import optimizers
    from dezero.nn.models import MLP
    from dezero.train import Callback, Checkpoint, Trainer

    class LogLoss(Callback):
        """Append every update's loss to losses.txt (what the plot shows)."""

        def on_batch_end(self, trainer, batch, logs):
            with open(out / "losses.txt", "a") as f:
                f.write(f"{trainer.iteration} {float(logs['loss'].data):.8f}\n")

    class KillAt(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.iteration == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)  # as abrupt as a crash can be

    train_loader = DataLoader(datasets.MNISTSample(train=True), batch_size=100)
    test_loader = DataLoader(datasets.MNISTSample(train=False), batch_size=100, shuffle=False)
    model = MLP((1000, 10))
    optimizer = optimizers.Adam().setup(model)
    callbacks = [LogLoss(), Checkpoint(every_n_iters=15)]
    if kill_at is not None:
        callbacks.append(KillAt())
    trainer = Trainer(model, F.softmax_cross_entropy, optimizer, train_loader, test_loader,
                      gpu=False, out=out, seed=0, progress=False, callbacks=callbacks)
    trainer.fit(epochs, resume=resume)
    model.save_weights(out / "final.npz")


def _run(*args: str) -> int:
    return subprocess.run([sys.executable, __file__, *args], check=False).returncode


def _losses(path: Path) -> dict[int, float]:
    pairs = (line.split() for line in path.read_text().splitlines())
    return {int(i): float(v) for i, v in pairs}  # a redone update overwrites its first try


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs, killed at update 50")
    parser.add_argument("--out", default="results/resume_after_kill")
    parser.add_argument("--child", nargs=3, metavar=("OUT", "EPOCHS", "KILL_AT"),
                        help=argparse.SUPPRESS)  # internal: one training run
    parser.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        out, epochs, kill_at = args.child
        train(Path(out), int(epochs), None if kill_at == "none" else int(kill_at), args.resume)
        return {}

    epochs, kill_at = (2, 50) if args.quick else (3, 100)
    out = Path(args.out)
    ref, run = out / "uninterrupted", out / "killed-and-resumed"
    for d in (ref, run):
        d.mkdir(parents=True, exist_ok=True)
        for stale in ("losses.txt", "checkpoint.npz", "final.npz"):
            (d / stale).unlink(missing_ok=True)

    assert _run("--child", str(ref), str(epochs), "none") == 0
    code = _run("--child", str(run), str(epochs), str(kill_at))
    print(f"run 2 ended with exit code {code} (SIGKILL is {-signal.SIGKILL})")
    assert code == -signal.SIGKILL, "the run was meant to be killed"
    assert not (run / "final.npz").exists()
    done_before_kill = max(_losses(run / "losses.txt"))
    assert _run("--child", str(run), str(epochs), "none", "--resume") == 0

    with np.load(ref / "final.npz") as a, np.load(run / "final.npz") as b:
        equal = sorted(a.files) == sorted(b.files) and all(
            np.array_equal(a[k], b[k]) for k in a.files
        )
    print(f"killed after update {done_before_kill}; final weights bit-for-bit equal: {equal}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref_loss, run_loss = _losses(ref / "losses.txt"), _losses(run / "losses.txt")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(list(ref_loss), list(ref_loss.values()), lw=3, alpha=0.4, label="uninterrupted")
    ax.plot(list(run_loss), list(run_loss.values()), lw=1, color="C3",
            label="killed, then resumed from its checkpoint")
    ax.axvline(done_before_kill, color="k", ls="--", lw=1)
    ax.text(done_before_kill, max(ref_loss.values()) * 0.9, "  SIGKILL", fontsize=9)
    ax.set_xlabel("update")
    ax.set_ylabel("training loss")
    ax.set_title(f"Resume after SIGKILL: final weights bit-for-bit equal = {equal}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "resume.png", dpi=80)
    plt.close(fig)

    metrics = {"bitwise_equal": float(equal), "killed_after": float(done_before_kill)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if not equal:
        sys.exit("the resumed run differs from the uninterrupted one")
    return metrics


if __name__ == "__main__":
    main()
