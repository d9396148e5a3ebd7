"""dezero-train: the paper's epoch through ``Trainer.fit`` against the hand-written NumPy floor.

Workload: MLP 784-1000-10 (sigmoid), softmax cross-entropy, SGD lr 0.01, batch 100,
float32, the 60,000 Fashion-MNIST training images (random data of the same shape when
the dataset is not installed), as in ``bench_nn_mlp.py``, whose floor is reused here.
The Trainer runs the paper's set-up: a shuffled ``DataLoader``, the progress bar on
(drawn to a null stream, so the bar's work is counted but the terminal stays clean),
accuracy as the metric, no test set. The bare dezero loop of ``bench_nn_mlp.py`` runs
too, which separates the Trainer's own cost from the framework's. The contenders
alternate within each round (rotating who goes first); the table gives medians.

Run: ``python benchmarks/bench_train.py [--rounds N]`` or ``hatch run bench:run train``
(``BENCH_TRAIN_ROUNDS`` sets the number of rounds there; default 7).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nn_mlp import (  # noqa: E402  (the shared floor lives beside this file)
    BATCH,
    LR,
    dezero_epoch,
    init_weights,
    load_data,
    make_dezero,
    numpy_epoch,
)


def make_trainer(params: list[np.ndarray], x: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
    from dezero.data import ArrayDataset, DataLoader
    from dezero.nn import functions as F
    from dezero.train import Trainer

    model, opt = make_dezero(params)
    loader = DataLoader(ArrayDataset(x, t), batch_size=BATCH, shuffle=True, seed=0)
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "dezero-bench-train"
    return Trainer(model, F.softmax_cross_entropy, opt, loader, gpu=False, out=out,
                   progress="bar")


def trainer_epoch(trainer) -> float:  # type: ignore[no-untyped-def]
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null), \
            contextlib.redirect_stdout(null):
        trainer.fit(trainer.epoch + 1)
    return float(trainer.history[-1]["loss"])


def run(rounds: int) -> dict[str, object]:
    x, t, source = load_data()
    init = init_weights()
    floor = [p.copy() for p in init]
    model, opt = make_dezero([p.copy() for p in init])
    trainer = make_trainer([p.copy() for p in init], x, t)
    contenders = {
        "numpy": lambda: numpy_epoch(floor, x, t),
        "dezero": lambda: dezero_epoch(model, opt, x, t),
        "trainer": lambda: trainer_epoch(trainer),
    }
    for fn in contenders.values():  # warm-up: caches, BLAS threads, first imports
        fn()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    names = list(contenders)
    for k in range(rounds):
        for who in names[k % 3:] + names[:k % 3]:
            start = time.perf_counter()
            contenders[who]()
            times[who].append(time.perf_counter() - start)
    ratio_floor = [a / b for a, b in zip(times["trainer"], times["numpy"])]
    ratio_bare = [a / b for a, b in zip(times["trainer"], times["dezero"])]
    assert trainer.model.l0.W.dtype == np.float32
    return {"source": source, "rounds": rounds, "times": times,
            "ratio_floor": ratio_floor, "ratio_bare": ratio_bare,
            "acc": trainer.history[-1]["acc"]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_TRAIN_ROUNDS", 7)))
    args = ap.parse_args([] if argv is None and __name__ != "__main__" else argv)
    r = run(args.rounds)
    print(f"paper epoch (MLP 784-1000-10, {r['source']}, batch {BATCH}, SGD lr {LR}, "
          f"float32); {r['rounds']} alternating rounds")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(f"{'':34}{'median':>9}{'min':>9}{'max':>9}")
    labels = {"numpy": "numpy floor (s)", "dezero": "dezero hand loop (s)",
              "trainer": "Trainer.fit, bar on (s)"}
    for k, label in labels.items():
        ts = r["times"][k]  # type: ignore[index]
        print(f"{label:34}{statistics.median(ts):>9.3f}{min(ts):>9.3f}{max(ts):>9.3f}")
    for k, label in (("ratio_floor", "Trainer / floor (target <=1.15)"),
                     ("ratio_bare", "Trainer / dezero hand loop")):
        rs = r[k]  # type: ignore[literal-required]
        print(f"{label:34}{statistics.median(rs):>9.3f}{min(rs):>9.3f}{max(rs):>9.3f}")
    tmin = r["times"]  # type: ignore[index]
    print(f"{'Trainer min / floor min':34}{min(tmin['trainer']) / min(tmin['numpy']):>9.3f}"
          f"   (least disturbed epochs; the machine is shared)")
    print(f"Trainer train accuracy after the last epoch: {r['acc']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
