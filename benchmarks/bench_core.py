"""dezero-core benchmarks: per-op overhead against a plain-NumPy floor, backward scaling, memory.

Run with ``python benchmarks/run.py core`` (or ``hatch run bench:run core``); set
``DEZERO_BENCH_QUICK=1`` for a short smoke run.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from dezero.core import Variable, no_grad

QUICK = os.environ.get("DEZERO_BENCH_QUICK") == "1"
CHAIN = 2_000 if QUICK else 20_000
PAIRS = 3 if QUICK else 9
A, B = 0.999, 0.001


# ---------------------------------------------------------------- per-op overhead
def _array_operands() -> tuple[np.ndarray, np.ndarray]:
    """A and B as shape-(1,) float32 arrays: every op then has a second, constant input,
    as ``x * w`` with an array ``w`` has (no scalar-operand nodes)."""
    return np.full(1, A, np.float32), np.full(1, B, np.float32)


def _dezero_chain(a: float | np.ndarray = A, b: float | np.ndarray = B) -> tuple[float, float]:
    """Seconds for forward and backward of the chain (2 ops per iteration)."""
    x = Variable(np.ones(1, np.float32))
    y = x
    t0 = time.perf_counter()
    for _ in range(CHAIN):
        y = y * a + b
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    assert x.grad is not None and x.grad.dtype == np.float32
    return t1 - t0, t2 - t1


def _dezero_chain_gc_off() -> tuple[float, float]:
    """The chain with the cycle collector paused: how much of the cost is the collector's."""
    gc.disable()
    try:
        return _dezero_chain()
    finally:
        gc.enable()


def _dezero_no_grad() -> float:
    y = Variable(np.ones(1, np.float32))
    t0 = time.perf_counter()
    with no_grad():
        for _ in range(CHAIN):
            y = y * A + B
    return time.perf_counter() - t0


def _floor_chain(a: float | np.ndarray = A, b: float | np.ndarray = B) -> tuple[float, float]:
    """The same chain in plain NumPy: a forward loop, then the hand-written backward loop."""
    y = np.ones(1, np.float32)
    t0 = time.perf_counter()
    for _ in range(CHAIN):
        y = y * a + b
    t1 = time.perf_counter()
    g = np.ones(1, np.float32)
    for _ in range(CHAIN):
        g = g * a  # d(y * a + b)/dy: the add passes the gradient through unchanged
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def _us_per_op(seconds: float) -> float:
    return seconds / (2 * CHAIN) * 1e6


def _median_spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} [{min(values):.2f}-{max(values):.2f}]"


def bench_overhead() -> dict[str, float]:
    keys = ("ffwd", "fbwd", "dfwd", "dbwd", "dng", "gfwd", "gbwd", "afwd", "abwd", "xfwd", "xbwd")
    rows: dict[str, list[float]] = {k: [] for k in keys}
    arrays = _array_operands()
    _dezero_chain(), _floor_chain(), _dezero_chain(*arrays), _floor_chain(*arrays)  # warm-up
    for _ in range(PAIRS):  # alternate, so machine noise hits both sides alike
        ffwd, fbwd = _floor_chain()
        dfwd, dbwd = _dezero_chain()
        dng = _dezero_no_grad()
        gfwd, gbwd = _dezero_chain_gc_off()
        afwd, abwd = _floor_chain(*arrays)
        xfwd, xbwd = _dezero_chain(*arrays)
        for k, v in zip(keys, (ffwd, fbwd, dfwd, dbwd, dng, gfwd, gbwd, afwd, abwd, xfwd, xbwd)):
            rows[k].append(_us_per_op(v))
    ftot = [a + b for a, b in zip(rows["ffwd"], rows["fbwd"])]
    dtot = [a + b for a, b in zip(rows["dfwd"], rows["dbwd"])]
    ratio_tot = [d / f for d, f in zip(dtot, ftot)]
    ratio_ng = [d / f for d, f in zip(rows["dng"], rows["ffwd"])]
    print(f"per-op overhead: y = y * {A} + {B}, shape (1,) float32, {CHAIN} iterations "
          f"({2 * CHAIN} ops), median [min-max] of {PAIRS} alternating runs, µs/op")
    print(f"  {'':28s} {'forward':>22s} {'backward':>22s} {'fwd+bwd':>22s}")
    print(f"  {'numpy floor':28s} {_median_spread(rows['ffwd']):>22s} "
          f"{_median_spread(rows['fbwd']):>22s} {_median_spread(ftot):>22s}")
    print(f"  {'dezero':28s} {_median_spread(rows['dfwd']):>22s} "
          f"{_median_spread(rows['dbwd']):>22s} {_median_spread(dtot):>22s}")
    print(f"  {'dezero no_grad':28s} {_median_spread(rows['dng']):>22s}")
    gtot = [a + b for a, b in zip(rows["gfwd"], rows["gbwd"])]
    print(f"  {'dezero, gc paused (ref.)':28s} {_median_spread(rows['gfwd']):>22s} "
          f"{_median_spread(rows['gbwd']):>22s} {_median_spread(gtot):>22s}")
    atot = [a + b for a, b in zip(rows["afwd"], rows["abwd"])]
    xtot = [a + b for a, b in zip(rows["xfwd"], rows["xbwd"])]
    ratio_arr = [d / f for d, f in zip(xtot, atot)]
    print(f"  {'numpy floor, array operands':28s} {_median_spread(rows['afwd']):>22s} "
          f"{_median_spread(rows['abwd']):>22s} {_median_spread(atot):>22s}")
    print(f"  {'dezero, array operands':28s} {_median_spread(rows['xfwd']):>22s} "
          f"{_median_spread(rows['xbwd']):>22s} {_median_spread(xtot):>22s}")
    print(f"  ratio fwd+bwd / floor        {_median_spread(ratio_tot)}   (target <= 6)")
    print(f"  ratio, array operands        {_median_spread(ratio_arr)}   (reference: no "
          f"scalar-operand nodes)")
    print(f"  ratio no_grad fwd / floor fwd {_median_spread(ratio_ng)}   (target <= 4)")
    return {
        "ratio_total": statistics.median(ratio_tot),
        "ratio_no_grad": statistics.median(ratio_ng),
        "ratio_arrays": statistics.median(ratio_arr),
    }


# ---------------------------------------------------------------- backward scaling
def _deep(n: int) -> tuple[Variable, Variable]:
    x = Variable(np.ones(1, np.float32))
    y = x
    for _ in range(n):
        y = y * A
    return x, y


def _wide(n: int) -> tuple[Variable, Variable]:
    """``n`` leaves summed pairwise into one output (n - 1 Add nodes, a balanced tree)."""
    xs = [Variable(np.full(1, i, np.float32)) for i in range(n)]
    level: list[Variable] = list(xs)
    while len(level) > 1:
        nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return xs[0], level[0]


def _fan_in(n: int) -> tuple[Variable, Variable]:
    """One leaf used ``n`` times: its gradient accumulates ``n`` contributions."""
    x = Variable(np.ones(1, np.float32))
    y = x * A
    for _ in range(n - 1):
        y = y + x
    return x, y


def bench_scaling() -> None:
    sizes = [10_000, 100_000] if QUICK else [10_000, 100_000, 1_000_000]
    print("backward scaling: µs per node (one run each; build time shown for reference)")
    print(f"  {'graph':34s} {'nodes':>9s} {'build µs/node':>14s} {'backward µs/node':>17s}")
    builders: list[tuple[str, Callable[[int], tuple[Variable, Variable]]]] = [
        ("deep chain (y = y * a)", _deep),
        ("wide tree (pairwise sum)", _wide),
        ("fan-in (x reused n times)", _fan_in),
    ]
    for label, build in builders:
        for n in sizes:
            gc.collect()
            t0 = time.perf_counter()
            x, y = build(n)
            t1 = time.perf_counter()
            y.backward()
            t2 = time.perf_counter()
            assert x.grad is not None
            print(f"  {label:34s} {n:9d} {(t1 - t0) / n * 1e6:14.2f} {(t2 - t1) / n * 1e6:17.2f}")
            del x, y


# ---------------------------------------------------------------- memory
def _rss_mib() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024


def bench_memory() -> None:
    print(f"memory: chain of {CHAIN} iterations ({2 * CHAIN} ops, shape (1,) float32)")
    gc.collect()
    tracemalloc.start()
    x, y = Variable(np.ones(1, np.float32)), None
    y = x
    for _ in range(CHAIN):
        y = y * A + B
    graph_bytes = tracemalloc.get_traced_memory()[0]
    y.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  graph held in memory        {graph_bytes / 2**20:8.2f} MiB "
          f"({graph_bytes / (2 * CHAIN):.0f} B/op)")
    print(f"  traced peak incl. backward  {peak / 2**20:8.2f} MiB")
    del x, y
    # Freeing: with outputs held weakly there are no cycles, so dropping the last
    # reference frees the whole graph by reference counting, the collector idle.
    gc.disable()
    try:
        x = Variable(np.ones(1, np.float32))
        y = x
        for _ in range(CHAIN):
            y = y * A + B
        y.backward()
        t0 = time.perf_counter()
        del y
        t1 = time.perf_counter()
        left = gc.collect()
    finally:
        gc.enable()
    print(f"  time to free finished graph {(t1 - t0) * 1e3:8.2f} ms "
          f"({(t1 - t0) / (2 * CHAIN) * 1e9:.0f} ns/op); objects left for the collector: {left}")
    print(f"  peak RSS of this process    {_rss_mib():8.1f} MiB (ru_maxrss, whole run so far)")


def main() -> None:
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cpus")
    bench_overhead()
    bench_memory()  # before scaling: ru_maxrss is the process's peak so far
    bench_scaling()


if __name__ == "__main__":
    main()
