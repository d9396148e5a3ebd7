"""dropout: inverted scaling, identity in test mode, reproducible from core's generator."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable, seed, test_mode
from dezero.core.testing import to_host, to_xp


def test_dropout_train_scales_kept_units_and_masks_the_gradient(xp):
    x = Variable(to_xp(xp, np.ones((200, 50), np.float32)))
    y = F.dropout(x, 0.3)
    yd = to_host(y)
    assert yd.dtype == np.float32
    kept = yd != 0
    np.testing.assert_allclose(yd[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02  # 10,000 draws: 5 sigma is about 0.023
    y.backward()
    np.testing.assert_array_equal(to_host(x.grad), yd)


def test_dropout_is_identity_in_test_mode(xp):
    x = to_xp(xp, np.arange(6.0).reshape(2, 3))
    with test_mode():
        y = F.dropout(x, 0.5)
    np.testing.assert_array_equal(to_host(y), np.arange(6.0).reshape(2, 3))


def test_dropout_draws_from_core_generator():
    x = np.ones((10, 10))
    seed(7)
    a = to_host(F.dropout(x))
    seed(7)
    b = to_host(F.dropout(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, to_host(F.dropout(x)))


def test_dropout_ratio_zero_and_errors():
    x = np.ones(4)
    np.testing.assert_array_equal(to_host(F.dropout(x, 0.0)), x)
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"dropout: dropout_ratio must be in \[0, 1\)"):
            F.dropout(x, bad)
