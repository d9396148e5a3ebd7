"""Layer: registration order, dotted names, state dicts and weight files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dezero.core import Parameter, Variable, backend
from dezero.nn import weights
from dezero.nn.layers import BatchNorm, Layer, Linear


class Net(Layer):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = Linear(4, in_size=3)
        self.scale = Parameter(np.array([2.0], np.float32), name="scale")
        self.l2 = Linear(2, in_size=4)

    def forward(self, x):
        return self.l2(self.l1(x) * self.scale)


def test_named_params_in_insertion_order_with_dotted_names():
    assert [n for n, _ in Net().named_params()] == ["l1.W", "l1.b", "scale", "l2.W", "l2.b"]


def test_params_and_named_params_agree_and_share_once():
    net = Net()
    assert [id(p) for p in net.params()] == [id(p) for _, p in net.named_params()]
    net.alias = net.l1  # the same layer twice: its parameters are listed once
    assert len(list(net.params())) == 5


def test_reassigning_to_non_parameter_unregisters():
    net = Net()
    net.scale = None
    assert "scale" not in dict(net.named_params())
    net.scale = Parameter(np.ones(1, np.float32))
    assert list(dict(net.named_params()))[-1] == "scale"  # re-registered at the end


def test_setattr_before_super_init_is_a_clear_error():
    class Bad(Layer):
        def __init__(self):
            self.l = Linear(2)

    with pytest.raises(RuntimeError, match="super"):
        Bad()


def test_cleargrads():
    net = Net()
    y = net(np.ones((2, 3), np.float32)).sum()
    y.backward()
    assert all(p.grad is not None for p in net.params())
    net.cleargrads()
    assert all(p.grad is None for p in net.params())


def test_state_dict_returns_host_copies():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["l1.W", "l1.b", "scale", "l2.W", "l2.b"]
    sd["l1.W"][...] = 123.0
    assert not np.any(net.l1.W.data == 123.0)


def test_load_state_dict_roundtrip_gives_identical_outputs():
    a, b = Net(), Net()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert not np.array_equal(a(x).data, b(x).data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_reports_missing_and_unexpected():
    net = Net()
    sd = net.state_dict()
    del sd["l2.b"]
    sd["l3.W"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"missing \['l2.b'\].*unexpected \['l3.W'\]"):
        net.load_state_dict(sd)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing == ["l2.b"] and res.unexpected == ["l3.W"]


def test_load_state_dict_shape_mismatch_names_parameter_and_changes_nothing():
    net = Net()
    before = net.state_dict()
    sd = {k: v + 1 for k, v in before.items()}
    sd["l2.W"] = np.zeros((5, 2), np.float32)  # after l1.W in order: l1 must stay untouched
    with pytest.raises(ValueError, match=r"'l2.W'.*\(4, 2\).*\(5, 2\)"):
        net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_keeps_dtype():
    net = Net()
    sd = {k: v.astype(np.float64) for k, v in net.state_dict().items()}
    net.load_state_dict(sd)
    assert net.l1.W.data.dtype == np.float32


def test_save_and_load_weights_identical_outputs(tmp_path):
    a, b = Net(), Net()
    path = tmp_path / "w.npz"
    a.save_weights(path)
    b.load_weights(path)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert os.listdir(tmp_path) == ["w.npz"]  # no temporary file left behind


def test_save_weights_keeps_given_name(tmp_path):
    Net().save_weights(tmp_path / "weights.bin")
    assert os.listdir(tmp_path) == ["weights.bin"]


def test_save_weights_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    Net().save_weights(path)
    old = path.read_bytes()

    def boom(f, arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(weights, "write_npz", boom)
    with pytest.raises(OSError, match="disk full"):
        Net().save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["w.npz"]


def test_load_weights_refuses_pickled_arrays(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"l1.W": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="pickle"):
        Net().load_weights(path)


def test_save_npz_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="object"):
        weights.save_npz(tmp_path / "x.npz", {"a": np.array([None], dtype=object)})


def test_load_into_fresh_lazy_model_creates_params(tmp_path):
    src = Linear(10)
    x = np.random.default_rng(1).standard_normal((4, 7)).astype(np.float32)
    y = src(x).data
    path = tmp_path / "lin.npz"
    src.save_weights(path)
    dst = Linear(10)
    assert dst.W.data is None
    assert "W" not in dst.state_dict()
    dst.load_weights(path)
    assert dst.W.shape == (7, 10)
    np.testing.assert_array_equal(dst(x).data, y)


def test_batchnorm_running_stats_are_state_not_params(tmp_path):
    bn = BatchNorm()
    bn(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    assert [n for n, _ in bn.named_params()] == ["gamma", "beta"]
    sd = bn.state_dict()
    assert list(sd) == ["gamma", "beta", "avg_mean", "avg_var"]
    bn2 = BatchNorm()
    path = tmp_path / "bn.npz"
    bn.save_weights(path)
    bn2.load_weights(path)
    np.testing.assert_array_equal(bn2.avg_mean, bn.avg_mean)
    np.testing.assert_array_equal(bn2.avg_var, bn.avg_var)


def test_to_cpu_is_noop_on_host_and_returns_self():
    net = Net()
    assert net.to_cpu() is net
    assert isinstance(net.l1.W.data, np.ndarray)


def test_to_gpu_without_gpu_is_a_clear_error():
    ok, _ = backend.gpu_status()
    if ok:
        pytest.skip("a GPU is usable here; the error path cannot be exercised")
    net = Net()
    with pytest.raises(backend.GPUUnavailableError, match="Net.to_gpu"):
        net.to_gpu()
    assert isinstance(net.l1.W.data, np.ndarray)


def test_repr_lists_sublayers():
    assert "(l1): Linear" in repr(Net())


@pytest.mark.gpu
def test_gpu_save_keeps_model_on_gpu_and_roundtrips(tmp_path):
    net = Net().to_gpu()
    x = np.ones((2, 3), np.float32)
    xg = backend.to_gpu(x)
    y = backend.to_cpu(net(Variable(xg)).data)
    path = tmp_path / "g.npz"
    net.save_weights(path)
    assert not isinstance(net.l1.W.data, np.ndarray)  # still on the GPU
    cpu = Net()
    cpu.load_weights(path)
    np.testing.assert_allclose(cpu(x).data, y, rtol=1e-5, atol=1e-6)
    gpu2 = Net().to_gpu()
    gpu2.load_weights(path)
    assert not isinstance(gpu2.l1.W.data, np.ndarray)
    np.testing.assert_array_equal(backend.to_cpu(gpu2(Variable(xg)).data), y)
