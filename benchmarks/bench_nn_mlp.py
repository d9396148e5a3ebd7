"""dezero-nn: one epoch of the paper's MLP (784-1000-10) against hand-written NumPy floors.

Workload: sigmoid hidden layer, softmax cross-entropy, SGD lr 0.01, batch 100, float32,
60,000 Fashion-MNIST training images held in memory (random data of the same shape when
the dataset is not installed). Two floors are timed in the same run:

- the *tight* floor, which the target is about: shuffled batches drawn by fancy index
  (``x[perm[i:i + 100]]``), every step in place where hand-written code would be
  (``a += b``, the sigmoid and its gradient in the pre-activation's own array, the softmax
  in the logits' array, gradients scaled in place before ``p -= g``);
- the earlier *loose* floor (sequential slices, out-of-place sigmoid, ``p -= lr * g``),
  kept so that the two can be compared.

dezero draws the same shuffled batches as the tight floor. The three contenders alternate
(the order rotates each round); the table gives medians over the rounds and the spread.
Peak RSS is measured in fresh subprocesses that each load the same data and train one epoch.

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


# ---------------------------------------------------------------------------- the floors
def tight_epoch(params: list[np.ndarray], x: np.ndarray, t: np.ndarray,
                perm: np.ndarray) -> float:
    """One epoch as a careful hand would write it: shuffled batches, in place throughout."""
    W1, b1, W2, b2 = params
    rows = np.arange(BATCH)
    lr, inv_batch = np.float32(LR), np.float32(1 / BATCH)
    loss = 0.0
    for i in range(0, len(x), BATCH):
        idx = perm[i:i + BATCH]
        xb, tb = x[idx], t[idx]
        h = xb @ W1
        h += b1
        h *= 0.5  # sigmoid(a) = tanh(a / 2) / 2 + 1/2, in a's own array
        np.tanh(h, out=h)
        h *= 0.5
        h += 0.5
        z = h @ W2
        z += b2
        z -= z.max(axis=1, keepdims=True)
        zt = z[rows, tb]
        np.exp(z, out=z)
        s = z.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - zt))
        z /= s  # softmax, then dL/dz = (softmax - onehot) / batch, all in z
        z[rows, tb] -= 1
        z *= inv_batch
        gW2 = h.T @ z
        gb2 = z.sum(axis=0)
        dh = z @ W2.T
        dh *= h  # dh *= h * (1 - h) without a temporary: h is not needed after this
        np.subtract(1, h, out=h)
        dh *= h
        gW1 = xb.T @ dh
        gb1 = dh.sum(axis=0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            g *= lr
            p -= g
    return loss


def numpy_epoch(params: list[np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
    """The loose floor: forward, backward and SGD update by hand, float32, in order."""
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


def dezero_epoch(model, opt, x: np.ndarray, t: np.ndarray,  # type: ignore[no-untyped-def]
                 perm: np.ndarray | None = None) -> float:
    """One dezero epoch; batches in order, or drawn by ``perm`` (bench_train passes none)."""
    from dezero.nn import functions as F

    loss = None
    for i in range(0, len(x), BATCH):
        idx = slice(i, i + BATCH) if perm is None else perm[i:i + BATCH]
        y = model(x[idx])
        loss = F.softmax_cross_entropy(y, t[idx])
        model.cleargrads()
        loss.backward()
        opt.update()
    return float(loss.data)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- peak RSS
def _rss_child(which: str) -> None:
    x, t, _ = load_data()
    params = init_weights()
    perm = np.random.default_rng(1).permutation(len(x))
    if which == "numpy":
        numpy_epoch(params, x, t)
    elif which == "tight":
        tight_epoch(params, x, t, perm)
    else:
        model, opt = make_dezero(params)
        dezero_epoch(model, opt, x, t, perm)
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
    loose_params = [p.copy() for p in init]
    tight_params = [p.copy() for p in init]
    model, opt = make_dezero([p.copy() for p in init])
    rng = np.random.default_rng(1)
    # Warm-up epoch of each (caches, BLAS threads, first-call imports), not timed.
    perm = rng.permutation(len(x))
    numpy_epoch(loose_params, x, t)
    tight_epoch(tight_params, x, t, perm)
    dezero_epoch(model, opt, x, t, perm)
    times: dict[str, list[float]] = {"loose": [], "tight": [], "dezero": []}
    losses: dict[str, float] = {}
    rotations = (("tight", "dezero", "loose"), ("dezero", "loose", "tight"),
                 ("loose", "tight", "dezero"))
    for k in range(pairs):
        perm = rng.permutation(len(x))  # the tight floor and dezero see the same batches
        for who in rotations[k % 3]:
            start = time.perf_counter()
            if who == "loose":
                losses[who] = numpy_epoch(loose_params, x, t)
            elif who == "tight":
                losses[who] = tight_epoch(tight_params, x, t, perm)
            else:
                losses[who] = dezero_epoch(model, opt, x, t, perm)
            times[who].append(time.perf_counter() - start)
    assert model.l0.W.dtype == np.float32 and model.l1.W.dtype == np.float32
    # Same weights, same batches: dezero and the tight floor must still agree.
    drift = max(float(np.max(np.abs(a - np.asarray(b)))) for a, b in zip(
        tight_params, (model.l0.W.data, model.l0.b.data, model.l1.W.data, model.l1.b.data)))
    r: dict[str, object] = {"source": source, "pairs": pairs, "losses": losses,
                            "weight_drift": drift}
    for who, ts in times.items():
        r[who] = (statistics.median(ts), min(ts), max(ts))
    for name, (num, den) in {"dezero/tight": ("dezero", "tight"),
                             "dezero/loose": ("dezero", "loose"),
                             "tight/loose": ("tight", "loose")}.items():
        ratios = [a / b for a, b in zip(times[num], times[den])]
        r[name] = (statistics.median(ratios), min(ratios), max(ratios))
    rss = {who: peak_rss(who) for who in ("numpy", "tight", "dezero")}
    r["rss"] = rss
    return r


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=int(os.environ.get("BENCH_MLP_PAIRS", 7)))
    ap.add_argument("--rss-child", choices=["numpy", "tight", "dezero"], help=argparse.SUPPRESS)
    args = ap.parse_args([] if argv is None and __name__ != "__main__" else argv)
    if args.rss_child:
        _rss_child(args.rss_child)
        return
    r = run(args.pairs)
    print(f"MLP 784-1000-10 epoch, {r['source']}, batch {BATCH}, SGD lr {LR}, float32; "
          f"{r['pairs']} rounds, the three contenders alternating")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'':28}{'median':>10}{'min':>10}{'max':>10}")
    for label, key in (("tight numpy floor (s)", "tight"), ("loose numpy floor (s)", "loose"),
                       ("dezero (s)", "dezero"),
                       ("dezero / tight (<=1.10)", "dezero/tight"),
                       ("dezero / loose", "dezero/loose"), ("tight / loose", "tight/loose")):
        med, lo, hi = r[key]  # type: ignore[misc]
        print(f"{label:28}{med:>10.3f}{lo:>10.3f}{hi:>10.3f}")
    rss = r["rss"]
    print(f"peak RSS MiB: loose floor {rss['numpy']:.0f}, tight floor {rss['tight']:.0f}, "  # type: ignore[index]
          f"dezero {rss['dezero']:.0f}, dezero / tight {rss['dezero'] / rss['tight']:.3f} "  # type: ignore[index]
          "(target <=1.2)")
    ls = r["losses"]
    print(f"last-batch loss: loose {ls['loose']:.4f}, tight {ls['tight']:.4f}, "  # type: ignore[index]
          f"dezero {ls['dezero']:.4f}; largest weight difference dezero vs tight "  # type: ignore[index]
          f"{r['weight_drift']:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
