"""The framework's random generator: seeding, JSON-able state, independence from NumPy's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dezero.core import random as drandom


def test_seed_reproducible():
    drandom.seed(42)
    a = drandom.get_generator().standard_normal(5)
    drandom.seed(42)
    b = drandom.get_generator().standard_normal(5)
    np.testing.assert_array_equal(a, b)
    drandom.seed(43)
    assert not np.array_equal(a, drandom.get_generator().standard_normal(5))


def test_state_round_trip_through_json():
    drandom.seed(0)
    drandom.get_generator().random(3)
    state = json.loads(json.dumps(drandom.get_state()))
    expected = drandom.get_generator().random(4)
    drandom.get_generator().random(10)
    drandom.set_state(state)
    np.testing.assert_array_equal(drandom.get_generator().random(4), expected)


def test_state_of_own_generator():
    g = drandom.make_generator(7)
    s = drandom.get_state(g)
    x = g.integers(0, 100, 5)
    drandom.set_state(s, g)
    np.testing.assert_array_equal(g.integers(0, 100, 5), x)
    np.testing.assert_array_equal(
        drandom.make_generator(7).integers(0, 100, 5), x
    )


def test_numpy_global_generator_untouched():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    drandom.seed(1)
    drandom.get_generator().random(100)
    drandom.make_generator(2).random(100)
    np.testing.assert_array_equal(np.random.random(3), expected)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_validates(bad):
    with pytest.raises(ValueError, match="seed"):
        drandom.seed(bad)


def test_set_state_validates():
    with pytest.raises(ValueError, match="set_state"):
        drandom.set_state({"bit_generator": "MT19937"})


# ---------------------------------------------------------------- backends' own generators
class _SeedRecorder:
    """A backend with a generator of its own: records every seed it is given."""

    def __init__(self, name: str) -> None:
        from dezero.core.backend import Backend

        class Recorder(Backend):
            seeds: list = []

            def is_array(self, x):
                return False

            def seed(self, n):
                self.seeds.append(n)

        Recorder.name = name
        self.backend = Recorder()
        self.backend.seeds = []


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so registered test backends vanish afterwards."""
    from dezero.core import backend

    monkeypatch.setattr(backend, "_backends", dict(backend._backends))
    monkeypatch.setattr(backend, "_by_type", dict(backend._by_type))
    monkeypatch.setattr(backend, "_last_seed", ())
    return backend


def test_seed_seeds_every_registered_backend(registry):
    a = registry.register_backend(_SeedRecorder("rec-a").backend)
    b = registry.register_backend(_SeedRecorder("rec-b").backend)
    assert a.seeds == [] and b.seeds == []  # registering before any seed() seeds nothing
    drandom.seed(11)
    drandom.seed(np.int64(12))
    drandom.seed(None)
    assert a.seeds == [11, 12, None] and b.seeds == [11, 12, None]
    assert all(type(s) is int for s in a.seeds[:2])  # NumPy ints reach plug-ins as int


def test_backend_registered_after_seed_gets_that_seed(registry):
    # An entry-point plug-in is loaded on first GPU use, usually after seed(n).
    drandom.seed(5)
    late = registry.register_backend(_SeedRecorder("rec-late").backend)
    assert late.seeds == [5]
    registry.register_backend(late)  # re-registering the same instance: no re-seed
    assert late.seeds == [5]


def test_invalid_seed_reaches_no_backend(registry):
    rec = registry.register_backend(_SeedRecorder("rec-bad").backend)
    with pytest.raises(ValueError):
        drandom.seed(-3)
    assert rec.seeds == []


def test_numpy_backend_seed_is_a_no_op(registry):
    # NumPy arrays draw from core's generator, which seed() already reseeds.
    drandom.seed(3)
    state = drandom.get_state()
    registry.get_backend("numpy").seed(99)
    assert drandom.get_state() == state


def test_failing_seed_on_registration_warns_instead_of_raising(registry):
    from dezero.core.backend import Backend

    class Broken(Backend):
        name = "broken-seed"

        def is_array(self, x):
            return False

        def seed(self, n):
            raise RuntimeError("no driver")

    drandom.seed(1)
    with pytest.warns(RuntimeWarning, match="broken-seed.*no driver"):
        registry.register_backend(Broken())
    assert "broken-seed" in registry._backends
