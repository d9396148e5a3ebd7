"""Arrays an nn function uses without taking them as Function inputs (labels, conditions,
running statistics) must share the scores' device: a clear DeviceMismatchError otherwise.

The GPU is a pretend one: its arrays are a NumPy subclass, registered in core's backend
registry for the test's duration, so the dispatch is checked on any machine.
"""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable
from dezero.core.backend import DeviceMismatchError
from dezero.core.testing import HostGPUBackend, isolated_backends


@pytest.fixture
def gpu():
    b = HostGPUBackend()
    with isolated_backends(b):
        yield b








def test_accuracy_labels_on_another_device(gpu):
    y = gpu.from_numpy(np.array([[0.1, 0.9], [0.8, 0.2]]))
    with pytest.raises(DeviceMismatchError, match=r"accuracy: t is on cpu but y is on cuda:0"):
        F.accuracy(y, np.array([1, 0]))
    # Same device: the value is still right (both rows hit).
    assert float(F.accuracy(y, gpu.from_numpy(np.array([1, 0]))).data) == 1.0


def test_sigmoid_cross_entropy_labels_on_another_device(gpu):
    x = Variable(gpu.from_numpy(np.zeros((2, 3))))
    with pytest.raises(DeviceMismatchError, match="sigmoid_cross_entropy: t is on cuda:0"):
        F.sigmoid_cross_entropy(np.zeros((2, 3)), gpu.from_numpy(np.ones((2, 3), np.int64)))
    loss = F.sigmoid_cross_entropy(x, gpu.from_numpy(np.ones((2, 3), np.int64)))
    # -log(sigmoid(0)) per element, 3 elements per sample (the default divides by len(x))
    np.testing.assert_allclose(float(loss.data), 3 * np.log(2.0))


def test_where_condition_on_another_device(gpu):
    x0 = Variable(gpu.from_numpy(np.ones(3)))
    cond = np.array([True, False, True])
    with pytest.raises(DeviceMismatchError, match="where: x0 is on cuda:0 but condition is on cpu"):
        F.where(cond, x0, 0.0)
    y = F.where(gpu.from_numpy(cond), x0, np.float64(0.0))  # scalars go anywhere
    np.testing.assert_array_equal(np.asarray(y.data), [1.0, 0.0, 1.0])


def test_batch_norm_running_stats_on_another_device(gpu):
    x = gpu.from_numpy(np.arange(6.0).reshape(3, 2))
    gamma, beta = gpu.from_numpy(np.ones(2)), gpu.from_numpy(np.zeros(2))
    with pytest.raises(DeviceMismatchError, match="batch_norm: mean is on cpu but x is on cuda:0"):
        F.batch_norm(x, gamma, beta, np.zeros(2), np.ones(2))
    mean, var = gpu.from_numpy(np.zeros(2)), gpu.from_numpy(np.ones(2))
    F.batch_norm(x, gamma, beta, mean, var, decay=0.0)
    np.testing.assert_allclose(np.asarray(mean), [2.0, 3.0])  # the column means, in place
    np.testing.assert_allclose(np.asarray(var), [4.0, 4.0])  # unbiased: 8 / 2
