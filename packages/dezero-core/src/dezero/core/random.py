"""The framework's random generator: one seedable source for initializers and dropout.

Nothing in dezero draws from NumPy's global generator. Objects that need their own
stream (a DataLoader's shuffling) own a generator created by
[`make_generator`][dezero.core.random.make_generator]; everything else draws from the
generator returned by [`get_generator`][dezero.core.random.get_generator], on the host or,
through [`uniform`][dezero.core.random.uniform], on any backend's device. States are plain
dicts of ints and strings, so they can be stored as JSON, never pickled.

Every draw dezero makes on any device is fixed by this one generator: a GPU backend
seeds its device generator from a number drawn here (see
[`Backend.uniform`][dezero.core.backend.Backend.uniform]). So
[`seed`][dezero.core.random.seed] reaches every backend, and
[`get_state`][dezero.core.random.get_state] / [`set_state`][dezero.core.random.set_state]
save and restore every backend's draws to come.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from dezero.core import backend as _backend

__all__ = ["seed", "get_generator", "get_state", "set_state", "make_generator", "uniform"]

_generator = np.random.Generator(np.random.PCG64())


def seed(n: int | None) -> None:
    """Re-seed the framework's generator (``None`` draws fresh entropy).

    Draws on every device come from this generator (see [`uniform`][dezero.core.random.uniform]), so
    one ``seed(n)`` makes a run reproducible on every device. Each registered backend's own global
    generator (``cupy.random``'s, with dezero-cuda) is seeded too, for users' code that draws from
    it directly; a backend registered later is seeded when it registers, and CuPy's only once CUDA
    has started (seeding never starts it).
    """
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0):
        raise ValueError(f"seed: n must be a non-negative int or None, got {n!r}")
    global _generator
    n = None if n is None else int(n)
    _generator = np.random.Generator(np.random.PCG64(n))
    _backend.seed_backends(n)


def get_generator() -> np.random.Generator:
    """The framework's generator (replaced by [`seed`][dezero.core.random.seed]: do not
    cache it)."""
    return _generator


def make_generator(seed: int | None = None) -> np.random.Generator:
    """A new, independent generator for an object that owns its randomness."""
    return np.random.Generator(np.random.PCG64(seed))


def get_state(generator: np.random.Generator | None = None) -> dict[str, Any]:
    """A JSON-serialisable copy of the state of ``generator`` (default: the framework's)."""
    g = _generator if generator is None else generator
    return copy.deepcopy(dict(g.bit_generator.state))


def set_state(state: dict[str, Any], generator: np.random.Generator | None = None) -> None:
    """Restore a state returned by [`get_state`][dezero.core.random.get_state]."""
    g = _generator if generator is None else generator
    if not isinstance(state, dict) or state.get("bit_generator") != type(g.bit_generator).__name__:
        raise ValueError(
            f"set_state: state is not a {type(g.bit_generator).__name__} state: "
            f"{str(state)[:80]!r}"
        )
    g.bit_generator.state = copy.deepcopy(state)


def uniform(shape: int | tuple[int, ...], dtype: Any = np.float64, device: Any = None) -> Any:
    """Uniform draws in ``[0, 1)`` from the framework's generator, made on ``device``.

    Args:
        shape: the shape of the result.
        dtype: a floating-point dtype.
        device: where the result lives: any name
            [`dezero.core.backend.get_device`][dezero.core.backend.get_device] takes
            (``"cpu"``, ``"cuda:1"``, a Device from ``device_of(x)``); None is the CPU.

    Draws on a GPU are made there (nothing is copied from the host) and, like host draws,
    depend only on the state of [`get_generator`][dezero.core.random.get_generator]: ``seed(n)`` or
    ``set_state`` before a run gives the same draws again. They differ from the host's draws for the
    same state.
    """
    if device is None:
        dev = _backend.CPU
    elif type(device) is _backend.Device:
        dev = device
    else:
        dev = _backend.get_device(device, "uniform")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return dev.backend.uniform(_generator, shape, dtype, dev.number)
