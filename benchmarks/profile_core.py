"""Where the per-op time goes: cProfile of a 10k-op chain, forward and backward.

``python benchmarks/profile_core.py [N]`` builds ``y = y * a + b`` for N iterations
(2N ops, default N = 5000, so 10k ops), runs ``backward()``, and prints the functions
by their own time (tottime). Not part of ``run.py``: a diagnostic, not a measurement
(the profiler itself slows Python-level calls more than C calls).
"""

from __future__ import annotations

import cProfile
import pstats
import sys

import numpy as np

from dezero.core import Variable


def chain(n: int) -> None:
    x = Variable(np.ones(1, np.float32))
    y = x
    for _ in range(n):
        y = y * 0.999 + 0.001
    y.backward()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    chain(n)  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    chain(n)
    prof.disable()
    stats = pstats.Stats(prof).strip_dirs().sort_stats("tottime")
    print(f"cProfile of y = y * a + b, {n} iterations ({2 * n} ops), forward and backward")
    stats.print_stats(18)


if __name__ == "__main__":
    main()
