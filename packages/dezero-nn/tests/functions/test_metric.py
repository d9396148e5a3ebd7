"""accuracy: counted by hand, no gradient."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable
from dezero.core.testing import to_xp


def test_accuracy_counts_hits(xp):
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], dtype=np.float32)
    t = np.array([1, 1, 1, 0])
    acc = F.accuracy(Variable(to_xp(xp, y)), to_xp(xp, t))
    assert isinstance(acc, Variable)
    assert acc.shape == () and acc.dtype == np.float32
    assert float(acc.data) == pytest.approx(0.75)
    assert acc.creator is None and not acc.requires_grad


def test_accuracy_bad_shapes():
    with pytest.raises(ValueError, match=r"accuracy: .* \(4, 2\)"):
        F.accuracy(np.zeros((4, 2)), np.zeros(3, np.int64))


def test_accuracy_checks_labels_as_softmax_cross_entropy():
    y = np.zeros((3, 2))
    for t, err, msg in [
        (np.array([0.0, 1.0, 1.0]), TypeError, "labels t must be an integer array"),
        (np.array([True, False, True]), TypeError, "labels t must be an integer array"),
        (np.array([0, 2, 1]), ValueError, r"label 2 is out of range .* \[0, 2\)"),
        (np.array([0, -1, 1]), ValueError, r"label -1 is out of range"),
    ]:
        for f in (F.accuracy, F.softmax_cross_entropy):
            with pytest.raises(err, match=f"{f.__name__}: {msg}"):
                f(y, t)


def test_accuracy_takes_dezero_column_labels():
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert float(F.accuracy(y, np.array([[1], [1], [1]])).data) == pytest.approx(2 / 3)
