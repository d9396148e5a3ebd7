"""Weight files: strict loading from disk changes nothing on error; a model on a (fake)
GPU saves host copies, stays on the GPU, and loads back onto it.

The "GPU" is a fake backend registered in a throwaway copy of core's registry (arrays are
a numpy.ndarray subclass), so these run without a GPU; test_layer.py has the real-GPU test.
"""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Parameter, Variable, random
from dezero.core.testing import HostGPUBackend, isolated_backends
from dezero.nn import weights
from dezero.nn.layers import BatchNorm, Layer, Linear


@pytest.fixture
def fake_gpu():
    with isolated_backends(HostGPUBackend()):
        yield






class Net(Layer):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = Linear(4, in_size=3)
        self.bn = BatchNorm()
        self.scale = Parameter(np.array([2.0], np.float32))

    def forward(self, x):
        return self.bn(self.l1(x)) * self.scale


def _snapshot(net):
    return {k: v.copy() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("l1.b"), r"Net.load_state_dict: .*missing \['l1.b'\]"),
    (lambda d: d.__setitem__("l9.W", np.zeros((2, 2), np.float32)),
     r"Net.load_state_dict: .*unexpected \['l9.W'\]"),
    (lambda d: d.__setitem__("l1.b", np.zeros(5, np.float32)),
     r"Net.load_state_dict: shape mismatch for 'l1.b': the layer has \(4,\), the state has \(5,\)"),
])
def test_bad_weight_file_names_the_entry_and_changes_nothing(tmp_path, edit, message):
    random.seed(1)
    src = Net()
    src(np.ones((2, 3), np.float32))  # BatchNorm's running averages exist now
    d = {k: v + 1 for k, v in src.state_dict().items()}  # every value differs from dst's
    edit(d)
    path = tmp_path / "bad.npz"
    weights.save_npz(path, d)
    dst = Net()
    dst(np.ones((2, 3), np.float32))
    before = _snapshot(dst)
    with pytest.raises(ValueError, match=message):
        dst.load_weights(path)
    after = dst.state_dict()
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)


def test_gpu_model_saves_host_copies_and_stays_on_gpu(fake_gpu, tmp_path):
    random.seed(2)
    net = Net()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    net(x)
    net.to_gpu()
    assert isinstance(net.l1.W.data, HostGPUBackend.Array)
    assert isinstance(net.bn.avg_mean, HostGPUBackend.Array)
    sd = net.state_dict()
    assert all(type(v) is np.ndarray for v in sd.values()), {k: type(v) for k, v in sd.items()}
    sd["l1.W"][...] = 0  # a copy: the model is untouched
    assert np.any(np.asarray(net.l1.W.data) != 0)
    path = tmp_path / "w.npz"
    net.save_weights(path)
    assert isinstance(net.l1.W.data, HostGPUBackend.Array)  # still on the "GPU"
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == sorted(sd)
    # Into a host model, and into a GPU model (arrays land on the GPU): same outputs.
    xg = x.view(HostGPUBackend.Array)
    from dezero.core import test_mode

    with test_mode():
        want = np.asarray(net(Variable(xg)).data)
        host = Net()
        host.load_weights(path)
        assert type(host.l1.W.data) is np.ndarray
        np.testing.assert_array_equal(host(x).data, want)
        gpu = Net().to_gpu()
        gpu.load_weights(path)
        assert isinstance(gpu.l1.W.data, HostGPUBackend.Array)
        assert isinstance(gpu.bn.avg_var, HostGPUBackend.Array)
        np.testing.assert_array_equal(np.asarray(gpu(Variable(xg)).data), want)
