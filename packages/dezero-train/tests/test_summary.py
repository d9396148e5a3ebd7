"""Summary: weighted (sum, count) pairs, exact means and exact merges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import Variable
from dezero.train.summary import Summary


def test_means_are_sample_weighted_whatever_the_value_types():
    s = Summary()
    # A Variable, a 0-d array, a NumPy scalar, a 1-element array and a Python float.
    s.add({"loss": Variable(np.array(0.5)), "acc": np.array(1.0)}, 10)
    s.add({"loss": np.float64(0.25), "acc": np.array([0.5])}, 30)
    s.add({"loss": 2.0, "acc": 0.0}, 20)
    want_loss = (0.5 * 10 + 0.25 * 30 + 2.0 * 20) / 60
    want_acc = (1.0 * 10 + 0.5 * 30 + 0.0 * 20) / 60
    assert s.means() == {"loss": want_loss, "acc": want_acc}
    assert list(s.means()) == ["loss", "acc"]  # first-seen order: the record's columns
    assert s.count == 60


def test_a_non_scalar_value_is_named():
    s = Summary()
    with pytest.raises(ValueError, match=r"'loss' must be a scalar.*shape \(4,\)"):
        s.add({"loss": np.ones(4)}, 4)


def test_merged_halves_equal_the_whole():
    rng = np.random.default_rng(0)
    vals = rng.random(10)
    sizes = rng.integers(1, 9, 10)
    whole, a, b = Summary(), Summary(), Summary()
    for i, (v, n) in enumerate(zip(vals, sizes)):
        whole.add({"m": v}, int(n))
        (a if i < 4 else b).add({"m": v}, int(n))
    a.merge(b)
    assert a.counts == whole.counts == {"m": int(sizes.sum())}
    # Naive reference: the sample-weighted mean.
    ref = float((vals * sizes).sum() / sizes.sum())
    assert math.isclose(a.means()["m"], ref, rel_tol=1e-14)
    assert math.isclose(whole.means()["m"], ref, rel_tol=1e-14)


def test_state_round_trip_and_validation():
    s = Summary()
    s.add({"loss": np.float32(0.3), "acc": 0.5}, 7)
    t = Summary()
    t.load_state_dict(s.state_dict())
    assert t.means() == s.means() and t.counts == s.counts and t.narrow == s.narrow
    for bad in ({"sums": {"a": 1.0}, "counts": {"a": -1}, "narrow": []},
                {"sums": {"a": "x"}, "counts": {"a": 1}, "narrow": []},
                {"sums": {"a": 1.0}, "counts": {"b": 1}, "narrow": []},
                {"sums": {}, "counts": {}}):
        with pytest.raises(ValueError, match="Summary.load_state_dict"):
            t.load_state_dict(bad)
    assert t.means() == s.means()  # a refused state changed nothing
