"""Initializers: exact draws from a seeded generator and their closed-form scales."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import random
from dezero.nn import initializers as I

SHAPE = (30, 20)  # Linear layout: fan_in 30, fan_out 20


def gen(seed=0):
    return np.random.Generator(np.random.PCG64(seed))


@pytest.mark.parametrize("init, draw", [
    (I.Normal(0.3, mean=1.0), lambda g: g.standard_normal(SHAPE) * 0.3 + 1.0),
    (I.Uniform(0.2), lambda g: g.uniform(-0.2, 0.2, SHAPE)),
    (I.LeCunNormal(), lambda g: g.standard_normal(SHAPE) * math.sqrt(1 / 30)),
    (I.LeCunUniform(), lambda g: g.uniform(-math.sqrt(3 / 30), math.sqrt(3 / 30), SHAPE)),
    (I.HeNormal(), lambda g: g.standard_normal(SHAPE) * math.sqrt(2 / 30)),
    (I.HeUniform(), lambda g: g.uniform(-math.sqrt(6 / 30), math.sqrt(6 / 30), SHAPE)),
    (I.GlorotNormal(), lambda g: g.standard_normal(SHAPE) * math.sqrt(2 / 50)),
    (I.GlorotUniform(), lambda g: g.uniform(-math.sqrt(6 / 50), math.sqrt(6 / 50), SHAPE)),
    (I.Zeros(), lambda g: np.zeros(SHAPE)),
    (I.Constant(-2.5), lambda g: np.full(SHAPE, -2.5)),
])
def test_draws_match_closed_form(init, draw):
    random.seed(11)
    got = init(SHAPE, np.float64)
    np.testing.assert_allclose(got, draw(gen(11)), rtol=1e-12, atol=0)
    got32 = init(SHAPE, np.float32, generator=gen(11))  # explicit generator, float32
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, draw(gen(11)).astype(np.float32))


@pytest.mark.parametrize("init, std", [
    (I.HeNormal(), math.sqrt(2 / 400)), (I.HeUniform(), math.sqrt(2 / 400)),
    (I.GlorotUniform(), math.sqrt(2 / 600)), (I.LeCunNormal(2.0), 2 * math.sqrt(1 / 400)),
])
def test_variance_of_large_draws(init, std):
    w = init((400, 200), np.float64, generator=gen(1))
    assert abs(w.std() - std) / std < 0.02
    assert abs(w.mean()) < 0.05 * std


def test_conv_fans_and_explicit_fans():
    assert I.get_fans((8, 3, 5, 5)) == (75, 200)
    assert I.get_fans((30, 20)) == (30, 20)
    w = I.LeCunNormal()((2, 2), np.float64, fan_in=100, generator=gen(0))
    np.testing.assert_allclose(w, gen(0).standard_normal((2, 2)) * 0.1)


def test_constructor_generator_is_used():
    init = I.Normal(1.0, generator=gen(5))
    np.testing.assert_array_equal(init((3,), np.float64), gen(5).standard_normal(3))


def test_bad_arguments():
    with pytest.raises(ValueError, match="HeNormal: invalid scale: -1"):
        I.HeNormal(-1)
    with pytest.raises(ValueError, match="Normal: invalid scale"):
        I.Normal(-0.1)
    with pytest.raises(ValueError, match="negative dimension"):
        I.Zeros()((-1, 2))
    with pytest.raises(ValueError, match="fan must be positive"):
        I.HeNormal()((0, 3))
