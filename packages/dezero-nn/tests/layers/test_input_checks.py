"""Layers on inputs they cannot use: named errors, no NaN kept in BatchNorm's statistics;
Conv2d keeps its patch matrix only when its weight needs a gradient."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Parameter, Variable, test_mode
from dezero.nn.layers import BatchNorm, Conv2d, Linear


def test_linear_on_a_0d_input_is_a_named_error():
    layer = Linear(3)
    with pytest.raises(ValueError, match=r"Linear: input must have at least 1 dimension.*0-d"):
        layer(np.float32(2.0))
    assert layer.W.data is None  # nothing was built from the bad input


@pytest.mark.parametrize("shape", [(), (4,)])
def test_batchnorm_on_input_below_2d_is_a_named_error(shape):
    bn = BatchNorm()
    with pytest.raises(ValueError, match=rf"BatchNorm: input must be at least 2-D.*{shape}"):
        bn(np.ones(shape, np.float32))
    assert bn.avg_mean is None


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 4), (2, 3, 0, 4)])
def test_batchnorm_refuses_an_empty_batch_in_training_and_keeps_its_statistics(shape):
    rng = np.random.default_rng(0)
    bn = BatchNorm()
    full = (5,) + shape[1:2] + tuple(max(s, 1) for s in shape[2:])
    x = rng.standard_normal(full).astype(np.float32)
    bn(x)
    mean, var = bn.avg_mean.copy(), bn.avg_var.copy()
    with pytest.raises(ValueError, match=r"batch_norm: empty batch in training mode"):
        bn(np.zeros(shape, np.float32))
    np.testing.assert_array_equal(bn.avg_mean, mean)
    np.testing.assert_array_equal(bn.avg_var, var)
    assert np.all(np.isfinite(bn.avg_mean)) and np.all(np.isfinite(bn.avg_var))
    # The statistics are still those of the one real batch: (1 - decay) * its mean.
    axes = (0,) + tuple(range(2, x.ndim))
    np.testing.assert_allclose(bn.avg_mean, 0.1 * x.mean(axis=axes), rtol=1e-5, atol=1e-7)


def test_batchnorm_on_an_empty_batch_in_test_mode_gives_an_empty_result():
    bn = BatchNorm()
    bn(np.ones((2, 3), np.float32))
    with test_mode():
        y = bn(np.zeros((0, 3), np.float32))
    assert y.shape == (0, 3)


def test_conv2d_keeps_its_patch_matrix_only_when_the_weight_needs_a_gradient():
    rng = np.random.default_rng(1)
    x = Variable(rng.standard_normal((2, 3, 5, 5)).astype(np.float32))
    W = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    trained = Parameter(W.copy())
    frozen = Parameter(W.copy())
    frozen.requires_grad = False
    y_trained = F.conv2d(x, trained, pad=1)
    y_frozen = F.conv2d(x, frozen, pad=1)
    assert y_trained.creator.col is not None
    assert y_frozen.creator.col is None
    # The input's gradient is the same either way.
    y_trained.backward()
    gx_trained = x.grad.data.copy()
    x.cleargrad()
    y_frozen.backward()
    np.testing.assert_allclose(x.grad.data, gx_trained, rtol=1e-6)
    assert frozen.grad is None and trained.grad is not None


def test_conv2d_layer_with_frozen_weight_still_trains_its_bias():
    rng = np.random.default_rng(2)
    layer = Conv2d(2, 3, pad=1, in_channels=1)
    layer.W.requires_grad = False
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    y = layer(x)
    assert y.creator.col is None
    F.sum(y).backward()
    # d sum(y) / d b = the number of output pixels per channel.
    np.testing.assert_array_equal(layer.b.grad.data, np.full(2, 16, np.float32))
