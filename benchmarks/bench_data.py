"""dezero-data: mini-batch throughput of DataLoader against plain NumPy and DeZero's loop.

Workload: one epoch over Fashion-MNIST's 60,000 training images (uint8, held in memory),
batch 100, shuffled, MNIST's default transform (flatten, float32, / 255), labels too.

- dezero: ``for x, t in DataLoader(FashionMNIST(), 100, shuffle=True)``.
- numpy: the same work written by hand: a permutation, then per batch a fancy index of
  the same uint8 array, ``.reshape(n, -1).astype(np.float32) / 255`` and the labels.
- loop: DeZero's algorithm: per batch a Python loop of ``dataset[i]`` (per-sample
  transform), then ``np.array`` of the samples; once over dezero's Dataset and
  transforms, once over DeZero's own ``__getitem__`` and transforms, reproduced here.

- numpy, in place: the same with ``x /= 255`` in place (what dezero's Compose does).

dezero and numpy epochs alternate (the order flips every round); the table gives
medians over the pairs with the min-max spread of the per-pair ratio. The loop, being
slow, runs fewer times. Random data of the same shape stands in when Fashion-MNIST is
not installed (the table says so).

Run: ``python benchmarks/bench_data.py [--pairs N] [--loop-runs N]`` or
``hatch run bench:run data`` (``BENCH_DATA_PAIRS`` sets the pairs there; default 9).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dezero.data import ArrayDataset, DataLoader
from dezero.data.datasets import FashionMNIST, mnist_transform
from dezero.data.download import DatasetNotFoundError

BATCH = 100


def load() -> tuple[Any, str]:
    try:
        return FashionMNIST(train=True, download=False), "Fashion-MNIST train (60,000)"
    except DatasetNotFoundError:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, size=(60_000, 1, 28, 28), dtype=np.uint8)
        t = rng.integers(0, 10, size=60_000).astype(np.int64)
        return ArrayDataset(
            x, t, transform=mnist_transform()
        ), "random uint8 stand-in (Fashion-MNIST not installed)"


def epoch_dezero(loader: DataLoader) -> Callable[[], int]:
    def run() -> int:
        n = 0
        for _x, t in loader:
            n += len(t)
        return n

    return run


def epoch_numpy(X: np.ndarray, T: np.ndarray, seed: int = 0) -> Callable[[], int]:
    rng = np.random.default_rng(seed)

    def run() -> int:
        order = rng.permutation(len(X))
        n = 0
        for i in range(0, len(X), BATCH):
            idx = order[i : i + BATCH]
            X[idx].reshape(len(idx), -1).astype(np.float32) / 255.0
            t = T[idx]
            n += len(t)
        return n

    return run


def epoch_numpy_inplace(X: np.ndarray, T: np.ndarray, seed: int = 0) -> Callable[[], int]:
    """The floor written for speed: divide in place, one batch-sized float array per batch."""
    rng = np.random.default_rng(seed)

    def run() -> int:
        order = rng.permutation(len(X))
        n = 0
        for i in range(0, len(X), BATCH):
            idx = order[i : i + BATCH]
            x = X[idx].reshape(len(idx), -1).astype(np.float32)
            x /= 255.0
            t = T[idx]
            n += len(t)
        return n

    return run


def epoch_loop(ds: Any, seed: int = 0) -> Callable[[], int]:
    rng = np.random.default_rng(seed)

    def run() -> int:
        order = rng.permutation(len(ds))
        n = 0
        for i in range(0, len(ds), BATCH):
            batch = [ds[int(j)] for j in order[i : i + BATCH]]
            np.array([b[0] for b in batch])
            t = np.array([b[1] for b in batch])
            n += len(t)
        return n

    return run


class _DeZeroMNIST:
    """DeZero's own code path, reproduced: its Dataset.__getitem__ and MNIST transform
    (``Compose([Flatten(), ToFloat(), Normalize(0., 255.)])`` from dezero/transforms.py)."""

    def __init__(self, data: np.ndarray, label: np.ndarray) -> None:
        self.data, self.label = data, label
        self.target_transform = lambda x: x

    @staticmethod
    def transform(array: np.ndarray) -> np.ndarray:
        array = array.flatten()  # Flatten
        array = array.astype(np.float32)  # ToFloat
        mean, std = 0.0, 255.0  # Normalize(mean=0., std=255.)
        return (array - mean) / std

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        assert np.isscalar(index)
        return self.transform(self.data[index]), self.target_transform(self.label[index])

    def __len__(self) -> int:
        return len(self.data)


def timed(fn: Callable[[], int]) -> float:
    t0 = time.perf_counter()
    n = fn()
    dt = time.perf_counter() - t0
    if n != 60_000:
        raise RuntimeError(f"bench_data: an epoch saw {n} samples, expected 60000")
    return dt


def measure(pairs: int, loop_runs: int) -> dict[str, Any]:
    ds, source = load()
    runs = {
        "dezero": epoch_dezero(DataLoader(ds, BATCH, shuffle=True, seed=0)),
        "numpy": epoch_numpy(ds.data, ds.label),
        "numpy_inplace": epoch_numpy_inplace(ds.data, ds.label),
    }
    for fn in runs.values():  # warm-up: page in the arrays, fill caches
        fn()
    times: dict[str, list[float]] = {"dezero": [], "numpy": [], "numpy_inplace": []}
    for k in range(pairs):
        order = (
            ("dezero", "numpy", "numpy_inplace")
            if k % 2 == 0
            else ("numpy_inplace", "numpy", "dezero")
        )
        for name in order:
            times[name].append(timed(runs[name]))
    loop, original = epoch_loop(ds), epoch_loop(_DeZeroMNIST(ds.data, ds.label))
    times["loop"], times["dezero_code"] = [], []
    for _ in range(loop_runs):
        times["loop"].append(timed(loop))
        times["dezero_code"].append(timed(original))
    ratios = [d / n for d, n in zip(times["dezero"], times["numpy"])]
    ratios_inplace = [d / n for d, n in zip(times["dezero"], times["numpy_inplace"])]
    return {"source": source, "times": times, "ratios": ratios, "ratios_inplace": ratios_inplace}


def report(res: dict[str, Any]) -> str:
    t = res["times"]
    med = {k: statistics.median(v) for k, v in t.items()}
    lines = [
        f"dezero-data throughput: {res['source']}, batch {BATCH}, shuffled, default transform",
        f"machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{datetime.date.today().isoformat()}",
        "",
        f"{'variant':<28}{'median s/epoch':>16}{'samples/s':>14}{'min-max s':>18}{'runs':>6}",
    ]
    names = {
        "numpy": "plain NumPy (floor)",
        "numpy_inplace": "NumPy, in-place / 255",
        "dezero": "dezero DataLoader",
        "loop": "loop, dezero's dataset[i]",
        "dezero_code": "loop, DeZero's own code",
    }
    for k in ("numpy", "numpy_inplace", "dezero", "loop", "dezero_code"):
        lines.append(
            f"{names[k]:<28}{med[k]:>16.4f}{60_000 / med[k]:>14,.0f}"
            f"{f'{min(t[k]):.4f}-{max(t[k]):.4f}':>18}{len(t[k]):>6}"
        )
    r = res["ratios"]
    lines += [
        "",
        f"dezero / NumPy, median of {len(r)} alternating pairs: {statistics.median(r):.3f}x "
        f"(spread {min(r):.3f}-{max(r):.3f}); target <= 1.2x",
        f"dezero / in-place NumPy: {statistics.median(res['ratios_inplace']):.3f}x "
        f"(spread {min(res['ratios_inplace']):.3f}-{max(res['ratios_inplace']):.3f})",
        f"loop of dezero's dataset[i] / dezero: {med['loop'] / med['dezero']:.1f}x; "
        f"loop of DeZero's own code / dezero: {med['dezero_code'] / med['dezero']:.1f}x; "
        "target >= 10x",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=int(os.environ.get("BENCH_DATA_PAIRS", 9)))
    p.add_argument("--loop-runs", type=int, default=3)
    args = p.parse_args(sys.argv[1:] if argv is None and __name__ == "__main__" else (argv or []))
    if args.pairs < 7:
        p.error("--pairs must be at least 7")
    print(report(measure(args.pairs, args.loop_runs)), flush=True)


if __name__ == "__main__":
    main()
