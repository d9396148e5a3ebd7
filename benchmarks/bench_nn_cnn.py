"""dezero-nn: one training step of a small CNN against a hand-written NumPy floor.

Workload: conv 3x3 1->16 pad 1, relu, max-pool 2, linear 3136->10, softmax cross-entropy,
SGD lr 0.01 (forward, backward, update), batch 100 of 1x28x28 float32 images (random data:
the step's cost does not depend on the values). The floor is written by hand with an
im2col (strided view) + matrix products, in the channels-last layout that suits it best.
Blocks of steps alternate between dezero and the floor; the table gives the medians over
the pairs and the spread. PyTorch (CPU, eager) is timed too when ``import torch`` works.

Run: ``python benchmarks/bench_nn_cnn.py [--pairs N] [--steps K]`` or
``hatch run bench:run nn_cnn`` (``BENCH_CNN_PAIRS`` sets the pairs there; default 9).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

N, C_IN, HW, C_OUT, K, CLASSES = 100, 1, 28, 16, 3, 10
POOLED = HW // 2
FLAT = C_OUT * POOLED * POOLED  # 3136
LR = 0.01


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A batch, its labels and the initial parameters (DeZero's randn * sqrt(1/fan_in))."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((N, C_IN, HW, HW), dtype=np.float32)
    t = g.integers(0, CLASSES, N).astype(np.int64)
    params = [
        (g.standard_normal((C_OUT, C_IN, K, K)) * np.sqrt(1 / (C_IN * K * K))).astype(np.float32),
        np.zeros(C_OUT, np.float32),
        (g.standard_normal((FLAT, CLASSES)) * np.sqrt(1 / FLAT)).astype(np.float32),
        np.zeros(CLASSES, np.float32),
    ]
    return x, t, params


# ---------------------------------------------------------------------------- the floor
class NumpyCNN:
    """The same step written by hand, float32 throughout, channels-last (N, H, W, C)."""

    def __init__(self, params: list[np.ndarray]) -> None:
        W1, b1, W2, b2 = (p.copy() for p in params)
        self.W1 = W1.reshape(C_OUT, -1)  # (C_OUT, C*K*K)
        self.b1 = b1
        # dezero flattens (C, H, W); the floor flattens (H, W, C): the same weights, permuted.
        self.W2 = W2.reshape(C_OUT, POOLED, POOLED, CLASSES).transpose(1, 2, 0, 3)
        self.W2 = self.W2.reshape(FLAT, CLASSES).copy()
        self.b2 = b2
        self.rows = np.arange(N)

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        n = x.shape[0]
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        col = sliding_window_view(xp, (K, K), axis=(2, 3))  # (N, C, H, W, K, K) view
        col = col.transpose(0, 2, 3, 1, 4, 5).reshape(n * HW * HW, C_IN * K * K)
        z = col @ self.W1.T
        z += self.b1
        h = np.maximum(z, 0)  # (N*H*W, C_OUT) = (N, H, W, C) channels-last
        h6 = h.reshape(n, POOLED, 2, POOLED, 2, C_OUT)
        p = h6.max(axis=(2, 4))
        mask = h6 == p[:, :, None, :, None, :]
        pf = p.reshape(n, FLAT)
        y = pf @ self.W2
        y += self.b2
        y -= y.max(axis=1, keepdims=True)
        e = np.exp(y)
        s = e.sum(axis=1, keepdims=True)
        loss = float(-(y[self.rows, t] - np.log(s[:, 0])).mean())
        e /= s
        e[self.rows, t] -= 1
        e *= np.float32(1 / n)  # dL/dy
        gW2 = pf.T @ e
        gb2 = e.sum(axis=0)
        dp = (e @ self.W2.T).reshape(n, POOLED, 1, POOLED, 1, C_OUT)
        dz = (mask * dp).reshape(n * HW * HW, C_OUT)
        dz *= z > 0
        gW1 = dz.T @ col
        gb1 = dz.sum(axis=0)
        self.W1 -= LR * gW1
        self.b1 -= LR * gb1
        self.W2 -= LR * gW2
        self.b2 -= LR * gb2
        return loss


# ---------------------------------------------------------------------------- dezero
class DezeroCNN:
    """The step in dezero: F ops on plain Variables, SGD written out (no layers needed)."""

    def __init__(self, params: list[np.ndarray]) -> None:
        from dezero.core import Variable

        self.params = [Variable(p.copy()) for p in params]

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        from dezero.nn import functions as F

        W1, b1, W2, b2 = self.params
        h = F.relu(F.conv2d(x, W1, b1, stride=1, pad=1))
        h = F.pooling(h, 2, 2)
        y = F.linear(F.flatten(h), W2, b2)
        loss = F.softmax_cross_entropy(y, t)
        for p in self.params:
            p.cleargrad()
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad.data
        return float(loss.data)


# ---------------------------------------------------------------------------- PyTorch
def make_torch(params: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], float] | None:
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        return None
    ps = [torch.tensor(p.copy(), requires_grad=True) for p in params]

    def step(x: np.ndarray, t: np.ndarray) -> float:
        W1, b1, W2, b2 = ps
        xt, tt = torch.from_numpy(x), torch.from_numpy(t)
        h = TF.max_pool2d(TF.relu(TF.conv2d(xt, W1, b1, padding=1)), 2)
        loss = TF.cross_entropy(h.reshape(h.shape[0], -1) @ W2 + b2, tt)
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
        return float(loss.detach())

    return step


# ---------------------------------------------------------------------------- timing
def _block(step: Callable[[np.ndarray, np.ndarray], float], x: np.ndarray, t: np.ndarray,
           steps: int) -> tuple[float, float]:
    """Mean seconds per step over ``steps`` steps, and the last loss."""
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(x, t)
    return (time.perf_counter() - start) / steps, loss


def run(pairs: int, steps: int) -> dict[str, object]:
    x, t, params = make_data()
    contenders: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "numpy": NumpyCNN(params).step, "dezero": DezeroCNN(params).step,
    }
    torch_step = make_torch(params)
    if torch_step is not None:
        contenders["torch"] = torch_step
    first = {name: f(x, t) for name, f in contenders.items()}  # same weights: same loss
    for f in contenders.values():  # warm-up, not timed
        _block(f, x, t, steps)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    last: dict[str, float] = {}
    names = list(contenders)
    for k in range(pairs):
        for name in names if k % 2 == 0 else names[::-1]:
            dt, last[name] = _block(contenders[name], x, t, steps)
            times[name].append(dt)
    out: dict[str, object] = {"pairs": pairs, "steps": steps, "first_loss": first, "last": last}
    for name, ts in times.items():
        ratios = [a / b for a, b in zip(ts, times["numpy"], strict=True)]
        out[name] = (statistics.median(ts), min(ts), max(ts))
        out[name + "_ratio"] = (statistics.median(ratios), min(ratios), max(ratios))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=int(os.environ.get("BENCH_CNN_PAIRS", 9)))
    ap.add_argument("--steps", type=int, default=20, help="steps per timed block")
    args = ap.parse_args([] if argv is None and __name__ != "__main__" else argv)
    r = run(args.pairs, args.steps)
    print(f"CNN step (conv3x3 1->16 pad 1, relu, maxpool 2, linear 3136->10, softmax CE, SGD), "
          f"batch {N}, float32; {r['pairs']} alternating pairs of {r['steps']}-step blocks")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(
        f"{'ms per step':24}{'median':>9}{'min':>9}{'max':>9}"
        "   ratio to floor: median [min, max]"
    )
    for name, label in [("numpy", "numpy floor"), ("dezero", "dezero (target <=1.3)"),
                        ("torch", "PyTorch CPU")]:
        if name not in r:
            if name == "torch":
                print(f"{label:24}  (torch not installed: not measured)")
            continue
        med, lo, hi = r[name]  # type: ignore[misc]
        rm, rlo, rhi = r[name + "_ratio"]  # type: ignore[misc]
        print(f"{label:24}{med * 1e3:>9.2f}{lo * 1e3:>9.2f}{hi * 1e3:>9.2f}   "
              f"{rm:.3f} [{rlo:.3f}, {rhi:.3f}]")
    fl = r["first_loss"]
    print("first-step loss (same weights): "
          + ", ".join(f"{k} {v:.5f}" for k, v in fl.items()))  # type: ignore[union-attr]


if __name__ == "__main__":
    main(sys.argv[1:])
