"""Weight files: strict loading from disk changes nothing on error; a model on a (fake)
GPU saves host copies, stays on the GPU, and loads back onto it.

The "GPU" is a fake backend registered in a throwaway copy of core's registry (arrays are
a numpy.ndarray subclass), so these run without a GPU; test_layer.py has the real-GPU test.
"""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Parameter, Variable, random, test_mode
from dezero.core.testing import HostGPUBackend, isolated_backends
from dezero.nn import functions as F
from dezero.nn import weights
from dezero.nn.layers import BatchNorm, Conv2d, Deconv2d, Layer, Linear
from dezero.nn.models import MLP
from dezero.nn.weights import WeightFileError


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


# ---- loading into layers that are not built yet --------------------------------------


def _mlp_file(tmp_path, dtype=np.float64, **edits):
    rng = np.random.default_rng(3)
    d = {"l0.W": rng.standard_normal((3, 4)), "l0.b": rng.standard_normal(4),
         "l1.W": rng.standard_normal((4, 2)), "l1.b": rng.standard_normal(2)}
    d = {k: v.astype(dtype) for k, v in d.items()}
    d.update(edits)
    path = tmp_path / "mlp.npz"
    weights.save_npz(path, d)
    return path, d


def _unchanged_unbuilt(model):
    assert model.l0.W.data is None and model.l1.W.data is None
    assert model.l0.in_size is None
    np.testing.assert_array_equal(model.l0.b.data, np.zeros(4, np.float32))
    assert model.l0.b.data.dtype == np.float32


def test_float64_file_into_unbuilt_model_gives_the_models_float32(tmp_path):
    path, d = _mlp_file(tmp_path, np.float64)
    model = MLP((4, 2), activation=F.relu)
    model.load_weights(path)
    for name, p in model.named_params():
        assert p.data.dtype == np.float32, name
        np.testing.assert_array_equal(p.data, d[name].astype(np.float32), err_msg=name)
    assert model.l0.in_size == 3
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    h = np.maximum(x @ d["l0.W"].astype(np.float32) + d["l0.b"].astype(np.float32), 0)
    want = h @ d["l1.W"].astype(np.float32) + d["l1.b"].astype(np.float32)
    y = model(x).data
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)


def test_float32_file_into_float64_layer_follows_the_layer(tmp_path):
    path = tmp_path / "l.npz"
    weights.save_npz(path, {"W": np.ones((3, 2), np.float32), "b": np.ones(2, np.float32)})
    layer = Linear(2, dtype=np.float64)
    layer.load_weights(path)
    assert layer.W.data.dtype == np.float64 and layer.b.data.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.complex64, np.uint8])
def test_non_float_file_is_refused_naming_the_parameter(tmp_path, dtype):
    path, _ = _mlp_file(tmp_path, np.float32, **{"l1.W": np.ones((4, 2), dtype)})
    model = MLP((4, 2))
    with pytest.raises(TypeError, match=rf"'l1.W' has dtype {np.dtype(dtype)}, not a floating"):
        model.load_weights(path)
    _unchanged_unbuilt(model)


def test_non_float_file_is_refused_by_a_built_model_too(tmp_path):
    net = Net()
    before = _snapshot(net)
    sd = dict(before)
    sd["l1.b"] = np.arange(4)
    path = tmp_path / "int.npz"
    weights.save_npz(path, sd)
    with pytest.raises(TypeError, match=r"'l1.b' has dtype int64"):
        net.load_weights(path)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_value_overflowing_the_target_dtype_is_refused(tmp_path):
    big = np.zeros((4, 2))
    big[2, 1] = 1e300
    path, _ = _mlp_file(tmp_path, np.float64, **{"l1.W": big})
    model = MLP((4, 2))
    with pytest.raises(ValueError, match=r"'l1.W' holds .*1e\+300.* at index \(2, 1\), which "
                                         r"overflows float32"):
        model.load_weights(path)
    _unchanged_unbuilt(model)


@pytest.mark.parametrize("edits, message", [
    # W's output width differs from what the layer builds.
    ({"l0.W": np.ones((3, 5))}, r"l0.W is \(3, 5\): 5 outputs, the layer has out_size=4"),
    # The next layer's input width differs from the previous layer's output.
    ({"l1.W": np.ones((6, 2))}, r"l1.W is \(6, 2\): 6 inputs, but l0 gives 4"),
    ({"l0.W": np.ones((3, 4, 1))}, r"l0.W must be 2-D"),
])
def test_shapes_are_checked_against_the_model_before_anything_changes(tmp_path, edits, message):
    path, _ = _mlp_file(tmp_path, np.float32, **{k: v.astype(np.float32)
                                                 for k, v in edits.items()})
    model = MLP((4, 2))
    with pytest.raises(ValueError, match=message):
        model.load_weights(path)
    _unchanged_unbuilt(model)


@pytest.mark.parametrize("cls, wshape, message", [
    (Conv2d, (8, 3, 5, 5), r"W is \(8, 3, 5, 5\), the layer builds \(8, 3, 3, 3\)"),
    (Conv2d, (6, 3, 3, 3), r"W is \(6, 3, 3, 3\), the layer builds \(8, 3, 3, 3\)"),
    (Deconv2d, (8, 3, 3, 3), r"W is \(8, 3, 3, 3\), the layer builds \(8, 8, 3, 3\)"),
])
def test_unbuilt_convolution_checks_its_weight_shape(tmp_path, cls, wshape, message):
    path = tmp_path / "c.npz"
    weights.save_npz(path, {"W": np.ones(wshape, np.float32), "b": np.ones(8, np.float32)})
    layer = cls(8, 3)
    with pytest.raises(ValueError, match=message):
        layer.load_weights(path)
    assert layer.W.data is None and layer.in_channels is None


def test_unbuilt_convolution_loads_and_learns_its_channels(tmp_path):
    rng = np.random.default_rng(5)
    W, b = rng.standard_normal((8, 2, 3, 3)), rng.standard_normal(8)
    path = tmp_path / "c.npz"
    weights.save_npz(path, {"W": W, "b": b})
    layer = Conv2d(8, 3)
    layer.load_weights(path)
    assert layer.in_channels == 2 and layer.W.data.dtype == np.float32
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    # A 3x3 input with a 3x3 kernel and no padding: one output pixel per channel.
    want = np.einsum("nchw,ochw->no", x, W.astype(np.float32)) + b.astype(np.float32)
    np.testing.assert_allclose(layer(x).data.reshape(1, 8), want, rtol=1e-5, atol=1e-5)


def test_unbuilt_batchnorm_checks_its_four_sizes_agree(tmp_path):
    path = tmp_path / "bn.npz"
    weights.save_npz(path, {"gamma": np.ones(3, np.float32), "beta": np.zeros(3, np.float32),
                            "avg_mean": np.zeros(4, np.float32),
                            "avg_var": np.ones(3, np.float32)})
    bn = BatchNorm()
    with pytest.raises(ValueError, match=r"1-D of one size.*avg_mean \(4,\)"):
        bn.load_weights(path)
    assert bn.gamma.data is None and bn.avg_mean is None


def test_damaged_file_raises_weight_file_error_and_changes_nothing(tmp_path):
    net = Net()
    net(np.ones((2, 3), np.float32))
    before = _snapshot(net)
    path = tmp_path / "w.npz"
    net.save_weights(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(WeightFileError, match="truncated"):
        net.load_weights(path)
    with test_mode():
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(v, before[k], err_msg=k)
