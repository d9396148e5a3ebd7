"""No reference cycles (memory flat with the collector off) and very deep graphs."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np

from dezero.core import Variable


def _step(x: Variable) -> None:
    y = (x * 2.0 + 1.0).sum()
    y = y * y
    y.backward()


def test_graphs_freed_without_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        x = Variable(np.ones(8))
        refs = []
        for i in range(10_000):
            h = x * 3.0
            out = (h * h).sum()
            out.backward()
            x.cleargrad()
            if i % 1000 == 0:
                refs.append(weakref.ref(h))
                refs.append(weakref.ref(out.creator))
            del h, out
        # Every graph died by reference counting alone.
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_memory_flat_over_10000_iterations():
    x = Variable(np.ones(16))
    gc.collect()
    gc.disable()
    try:
        for _ in range(200):  # warm caches
            _step(x)
            x.cleargrad()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(10_000):
            _step(x)
            x.cleargrad()
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    finally:
        gc.enable()
    # One leaked graph per iteration would be several MB; allow small allocator noise.
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 10,000 iterations"


def test_backward_through_100000_op_chain():
    limit = sys.getrecursionlimit()
    x = Variable(np.array([1.0]))
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad.data[0] == 1.0
    # Freeing the deep graph must not recurse either.
    del y
