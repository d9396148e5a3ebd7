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
