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


def test_dropout_mask_is_drawn_on_the_inputs_own_gpu():
    # A pretend machine with two GPUs: the mask is made on GPU 1, where x lives, from the
    # framework's generator (restoring its state repeats the mask).
    from dezero.core import backend, random
    from dezero.core.testing import HostGPUBackend, isolated_backends

    gpus = HostGPUBackend(devices=2)
    with isolated_backends(gpus):
        x = Variable(np.ones((40, 30), np.float32)).to_gpu("cuda:1")
        transfers = gpus.transfers
        random.seed(3)
        y = F.dropout(x, 0.25)
        assert backend.device_of(y) == "cuda:1"
        assert gpus.transfers == transfers  # nothing copied from the host
        assert backend.device_of(y.creator.mask) == "cuda:1"
        # The mask, written out from the documented scheme.
        key = int(np.random.Generator(np.random.PCG64(3)).integers(0, 2**63))
        u = np.random.Generator(np.random.Philox(key)).random((40, 30), dtype=np.float32)
        np.testing.assert_allclose(to_host(y), (u >= 0.25) / 0.75, rtol=1e-6)
        state = random.get_state()
        a = to_host(F.dropout(x, 0.25))
        random.set_state(state)
        np.testing.assert_array_equal(to_host(F.dropout(x, 0.25)), a)


@pytest.mark.gpu
def test_gpu_dropout_repeats_after_seed_and_after_restoring_the_state():
    from dezero.core import backend, random

    x = Variable(np.ones((256, 512), np.float32)).to_gpu()
    seed(42)
    a = to_host(F.dropout(x, 0.4))
    state = random.get_state()
    b = to_host(F.dropout(x, 0.4))
    seed(42)
    np.testing.assert_array_equal(to_host(F.dropout(x, 0.4)), a)
    random.set_state(state)  # as a resumed checkpoint does
    np.testing.assert_array_equal(to_host(F.dropout(x, 0.4)), b)
    assert not np.array_equal(a, b)
    seed(43)
    assert not np.array_equal(to_host(F.dropout(x, 0.4)), a)
    kept = a != 0
    np.testing.assert_allclose(a[kept], 1 / 0.6, rtol=1e-6)
    assert abs(kept.mean() - 0.6) < 0.01  # 131,072 draws: 5 sigma is about 0.007
    assert backend.backend_of(F.dropout(x, 0.4).data).is_gpu
