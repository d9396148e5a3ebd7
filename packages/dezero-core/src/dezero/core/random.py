"""The framework's random generator: one seedable source for initializers and dropout.

Nothing in dezero draws from NumPy's global generator. Objects that need their own
stream (a DataLoader's shuffling) own a generator created by :func:`make_generator`;
everything else draws from the generator returned by :func:`get_generator`. States
are plain dicts of ints and strings, so they can be stored as JSON, never pickled.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from dezero.core import backend as _backend

__all__ = ["seed", "get_generator", "get_state", "set_state", "make_generator"]

_generator = np.random.Generator(np.random.PCG64())


def seed(n: int | None) -> None:
    """Re-seed the framework's generator (``None`` draws fresh entropy).

    Every registered backend with a generator of its own is seeded too (CuPy's, with
    dezero-cuda: GPU dropout), and so is any backend registered later, so one ``seed(n)``
    makes a run reproducible on every device.
    """
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0):
        raise ValueError(f"seed: n must be a non-negative int or None, got {n!r}")
    global _generator
    n = None if n is None else int(n)
    _generator = np.random.Generator(np.random.PCG64(n))
    _backend.seed_backends(n)


def get_generator() -> np.random.Generator:
    """The framework's generator (replaced by :func:`seed`: do not cache it)."""
    return _generator


def make_generator(seed: int | None = None) -> np.random.Generator:
    """A new, independent generator for an object that owns its randomness."""
    return np.random.Generator(np.random.PCG64(seed))


def get_state(generator: np.random.Generator | None = None) -> dict[str, Any]:
    """A JSON-serialisable copy of the state of ``generator`` (default: the framework's)."""
    g = _generator if generator is None else generator
    return copy.deepcopy(dict(g.bit_generator.state))


def set_state(state: dict[str, Any], generator: np.random.Generator | None = None) -> None:
    """Restore a state returned by :func:`get_state`."""
    g = _generator if generator is None else generator
    if not isinstance(state, dict) or state.get("bit_generator") != type(g.bit_generator).__name__:
        raise ValueError(
            f"set_state: state is not a {type(g.bit_generator).__name__} state: "
            f"{str(state)[:80]!r}"
        )
    g.bit_generator.state = copy.deepcopy(state)
