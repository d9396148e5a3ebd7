"""dezero-nn: one epoch of the paper's MLP (784-1000-10) against a hand-written NumPy floor.

Workload: sigmoid hidden layer, softmax cross-entropy, SGD lr 0.01, batch 100, float32,
60,000 Fashion-MNIST training images held in memory (random data of the same shape when
the dataset is not installed). Epochs alternate between dezero and the floor; the table
gives medians over the pairs and the spread. Peak RSS is measured in two fresh
subprocesses that each load the same data and train one epoch.

Run: ``python benchmarks/bench_nn_mlp.py [--pairs N]`` or ``hatch run bench:run nn_mlp``
(``BENCH_MLP_PAIRS`` sets the number of pairs there; default 7).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
N, D, H, C = 60_000, 784, 1000, 10
BATCH, LR = 100, 0.01


def load_data() -> tuple[np.ndarray, np.ndarray, str]:
    """Images as float32 in [0, 1] of shape (60000, 784), int64 labels, and their source."""
    img, lab = DATA_DIR / "train-images-idx3-ubyte.gz", DATA_DIR / "train-labels-idx1-ubyte.gz"
    if img.exists() and lab.exists():
        with gzip.open(img, "rb") as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, D)
        with gzip.open(lab, "rb") as f:
            t = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
        return (x.astype(np.float32) / np.float32(255.0)), t, "Fashion-MNIST"
    rng = np.random.default_rng(0)
    return (rng.random((N, D), dtype=np.float32), rng.integers(0, C, N).astype(np.int64),
            "random data (Fashion-MNIST not installed)")


def init_weights(seed: int = 0) -> list[np.ndarray]:
    """DeZero's initialisation (randn * sqrt(1/in)), float32, for both contenders."""
    g = np.random.default_rng(seed)
    return [
        (g.standard_normal((D, H)) * np.sqrt(1 / D)).astype(np.float32), np.zeros(H, np.float32),
        (g.standard_normal((H, C)) * np.sqrt(1 / H)).astype(np.float32), np.zeros(C, np.float32),
    ]


# ---------------------------------------------------------------------------- the floor
def numpy_epoch(params: list[np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
    """One epoch written by hand: forward, backward and SGD update, float32 throughout."""
    W1, b1, W2, b2 = params
    rows = np.arange(BATCH)
    loss = 0.0
    for i in range(0, len(x), BATCH):
        xb, tb = x[i:i + BATCH], t[i:i + BATCH]
        a = xb @ W1
        a += b1
        h = np.tanh(a * 0.5) * 0.5 + 0.5  # sigmoid
        z = h @ W2
        z += b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(-(z[rows, tb] - np.log(s[:, 0])).mean())
        e /= s
        e[rows, tb] -= 1
        e *= np.float32(1 / BATCH)  # dL/dz
        gW2 = h.T @ e
        gb2 = e.sum(axis=0)
        dh = e @ W2.T
        dh *= h * (1 - h)
        gW1 = xb.T @ dh
        gb1 = dh.sum(axis=0)
        W1 -= LR * gW1
        b1 -= LR * gb1
        W2 -= LR * gW2
        b2 -= LR * gb2
    return loss


# ---------------------------------------------------------------------------- dezero
def make_dezero(params: list[np.ndarray]):  # type: ignore[no-untyped-def]
    from dezero.nn import functions as F
    from dezero.nn import optimizers
    from dezero.nn.models import MLP

    model = MLP((H, C), activation=F.sigmoid)
    model.load_state_dict(dict(zip(["l0.W", "l0.b", "l1.W", "l1.b"], params)))
    opt = optimizers.SGD(lr=LR).setup(model)
    return model, opt


def dezero_epoch(model, opt, x: np.ndarray, t: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    from dezero.nn import functions as F

    loss = None
    for i in range(0, len(x), BATCH):
        y = model(x[i:i + BATCH])
        loss = F.softmax_cross_entropy(y, t[i:i + BATCH])
        model.cleargrads()
        loss.backward()
        opt.update()
    return float(loss.data)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- peak RSS
def _rss_child(which: str) -> None:
    x, t, _ = load_data()
    params = init_weights()
    if which == "numpy":
        numpy_epoch(params, x, t)
    else:
        model, opt = make_dezero(params)
        dezero_epoch(model, opt, x, t)
        assert model.l0.W.dtype == np.float32
    print(json.dumps({"maxrss_kib": _peak_rss_kib()}))


def _peak_rss_kib() -> int:
    """This process's own peak RSS in KiB.

    Linux carries ``ru_maxrss`` over from the parent across fork and exec, so a child
    started by a big parent (the runner, after other benchmarks) would report the
    parent's peak; ``VmHWM`` belongs to the current address space alone.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss(which: str) -> float:
    """Peak RSS in MiB of a fresh process that loads the data and trains one epoch."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss-child", which],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["maxrss_kib"] / 1024


# ---------------------------------------------------------------------------- main
def run(pairs: int) -> dict[str, object]:
    x, t, source = load_data()
    init = init_weights()
    floor_params = [p.copy() for p in init]
    model, opt = make_dezero([p.copy() for p in init])
    # Warm-up epoch of each (caches, BLAS threads, first-call imports), not timed.
    numpy_epoch(floor_params, x, t)
    dezero_epoch(model, opt, x, t)
    t_np, t_dz, losses = [], [], (0.0, 0.0)
    for k in range(pairs):
        order = ("np", "dz") if k % 2 == 0 else ("dz", "np")
        for who in order:
            start = time.perf_counter()
            if who == "np":
                ln = numpy_epoch(floor_params, x, t)
                t_np.append(time.perf_counter() - start)
            else:
                ld = dezero_epoch(model, opt, x, t)
                t_dz.append(time.perf_counter() - start)
        losses = (ln, ld)
    ratios = [d / n for d, n in zip(t_dz, t_np)]
    assert model.l0.W.dtype == np.float32 and model.l1.W.dtype == np.float32
    rss_np, rss_dz = peak_rss("numpy"), peak_rss("dezero")
    return {
        "source": source, "pairs": pairs,
        "numpy_median": statistics.median(t_np), "numpy_min": min(t_np), "numpy_max": max(t_np),
        "dezero_median": statistics.median(t_dz), "dezero_min": min(t_dz),
        "dezero_max": max(t_dz),
        "ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "loss_numpy": losses[0], "loss_dezero": losses[1],
        "rss_numpy": rss_np, "rss_dezero": rss_dz, "rss_ratio": rss_dz / rss_np,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=int(os.environ.get("BENCH_MLP_PAIRS", 7)))
    ap.add_argument("--rss-child", choices=["numpy", "dezero"], help=argparse.SUPPRESS)
    args = ap.parse_args([] if argv is None and __name__ != "__main__" else argv)
    if args.rss_child:
        _rss_child(args.rss_child)
        return
    r = run(args.pairs)
    print(f"MLP 784-1000-10 epoch, {r['source']}, batch {BATCH}, SGD lr {LR}, float32; "
          f"{r['pairs']} alternating pairs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(f"{'':22}{'median':>10}{'min':>10}{'max':>10}")
    print(f"{'numpy floor (s)':22}{r['numpy_median']:>10.3f}{r['numpy_min']:>10.3f}"
          f"{r['numpy_max']:>10.3f}")
    print(f"{'dezero (s)':22}{r['dezero_median']:>10.3f}{r['dezero_min']:>10.3f}"
          f"{r['dezero_max']:>10.3f}")
    print(f"{'ratio (target <=1.10)':22}{r['ratio_median']:>10.3f}{r['ratio_min']:>10.3f}"
          f"{r['ratio_max']:>10.3f}")
    print(f"peak RSS MiB: numpy {r['rss_numpy']:.0f}, dezero {r['rss_dezero']:.0f}, "
          f"ratio {r['rss_ratio']:.3f} (target <=1.2)")
    print(f"last-batch loss: numpy {r['loss_numpy']:.4f}, dezero {r['loss_dezero']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
