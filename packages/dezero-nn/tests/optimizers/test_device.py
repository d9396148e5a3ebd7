"""Optimizer state follows the model between devices; ClipGrad reads its norm back once.

The "GPU" here is a fake backend registered in a throwaway copy of core's registry: its
arrays are a numpy.ndarray subclass, so the test runs anywhere and can see, by type,
which device every state array is on. A real-GPU variant is marked ``gpu``.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from dezero.core import Variable, backend, random
from dezero.core.testing import HostGPUBackend, isolated_backends
from dezero.nn import optimizers as O
from dezero.nn.layers import Layer, Linear


@pytest.fixture
def fake_gpu():
    with isolated_backends(HostGPUBackend()):
        yield






class Net(Layer):
    def __init__(self):
        super().__init__()
        self.l1 = Linear(3, in_size=4, dtype=np.float64)
        self.l2 = Linear(2, in_size=3, dtype=np.float64)


def _grads(step):
    """Fixed, step-dependent host gradients for Net's parameters, by name."""
    rng = np.random.default_rng(100 + step)
    shapes = {"l1.W": (4, 3), "l1.b": (3,), "l2.W": (3, 2), "l2.b": (2,)}
    return {n: rng.normal(size=s) for n, s in shapes.items()}


def _run(opt_factory, moves, to_device):
    """Five updates with the given gradients; ``moves[k]`` moves the model before step k."""
    random.seed(0)  # the same initial weights in every run
    net = Net()
    w0 = {n: p.data.copy() for n, p in net.named_params()}
    opt = opt_factory().setup(net)
    for step in range(5):
        if step in moves:
            getattr(net, moves[step])()
        for n, p in net.named_params():
            p.grad = Variable(to_device(_grads(step)[n], p.data))
        opt.update()
        # After every update each state array lives where its parameter does.
        params = dict(net.named_params())
        for pname, st in opt.state.items():
            for k, v in st.items():
                if np.ndim(v):
                    assert type(v) is type(params[pname].data), (
                        f"step {step}: state {pname}/{k} is {type(v).__name__}, the "
                        f"parameter is {type(params[pname].data).__name__}"
                    )
    return net, opt, w0


OPTIMIZERS = {
    "MomentumSGD": lambda: O.MomentumSGD(0.1, 0.9),
    "AdaGrad": lambda: O.AdaGrad(0.1),
    "AdaDelta": lambda: O.AdaDelta(),
    "Adam": lambda: O.Adam(0.05),
    "AdamW": lambda: O.AdamW(0.05, weight_decay=0.1),
    "RMSprop": lambda: O.RMSprop(0.05),
}


def _fake_like(a, ref):
    return a.view(HostGPUBackend.Array) if isinstance(ref, HostGPUBackend.Array) else a


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_follows_model_to_gpu_and_back(fake_gpu, name):
    net, opt, _ = _run(OPTIMIZERS[name], {2: "to_gpu", 4: "to_cpu"}, _fake_like)
    ref, ref_opt, _ = _run(OPTIMIZERS[name], {}, _fake_like)
    # After step 4 the model is back on the host, and so is every state array.
    for pname, st in opt.state.items():
        for k, v in st.items():
            assert type(v) is np.ndarray, f"{name}: state {pname}/{k} is {type(v).__name__}"
    for (n, p), (_, q) in zip(net.named_params(), ref.named_params(), strict=True):
        assert type(p.data) is np.ndarray
        np.testing.assert_allclose(p.data, q.data, rtol=1e-13, atol=0, err_msg=n)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_moves_to_gpu_with_the_model(fake_gpu, name):
    net, opt, _ = _run(OPTIMIZERS[name], {2: "to_gpu"}, _fake_like)
    ref, _, _ = _run(OPTIMIZERS[name], {}, _fake_like)
    for pname, st in opt.state.items():
        for k, v in st.items():
            if np.ndim(v):
                where = f"{name}: state {pname}/{k} stayed on host"
                assert isinstance(v, HostGPUBackend.Array), where
    for (n, p), (_, q) in zip(net.named_params(), ref.named_params(), strict=True):
        assert isinstance(p.data, HostGPUBackend.Array)
        np.testing.assert_allclose(np.asarray(p.data), q.data, rtol=1e-13, atol=0, err_msg=n)


def test_loaded_state_follows_a_model_moved_afterwards(fake_gpu):
    net, opt, _ = _run(OPTIMIZERS["Adam"], {}, _fake_like)
    sd = opt.state_dict()
    opt2 = O.Adam(0.05).setup(net)
    opt2.load_state_dict(sd)  # host arrays: the model is on the host
    net.to_gpu()
    for n, p in net.named_params():
        p.grad = Variable(_fake_like(_grads(9)[n], p.data))
    opt2.update()
    assert all(isinstance(opt2.state[n]["m"], HostGPUBackend.Array) for n, _ in net.named_params())


class _CountingXP(types.ModuleType):
    """numpy, except that ``dot`` returns a value that counts reads back to the host."""

    def __init__(self):
        super().__init__("countingxp")
        self.reads = 0

    def __getattr__(self, name):
        return getattr(np, name)

    def dot(self, a, b):
        return _Lazy(self, np.dot(np.asarray(a), np.asarray(b)))


class _Lazy:
    def __init__(self, owner, value):
        self.owner, self.value = owner, value

    def __add__(self, other):
        return _Lazy(self.owner, self.value + other.value)

    def __float__(self):
        self.owner.reads += 1
        return float(self.value)


def test_clip_grad_reads_the_norm_back_once(fake_gpu, monkeypatch):
    counting = _CountingXP()
    monkeypatch.setattr(HostGPUBackend, "xp", property(lambda self: counting))
    net = Net().to_gpu()
    g = {n: np.full(p.shape, 10.0 * (i + 1)) for i, (n, p) in enumerate(net.named_params())}
    for n, p in net.named_params():
        p.grad = Variable(g[n].view(HostGPUBackend.Array))
    w0 = {n: np.asarray(p.data).copy() for n, p in net.named_params()}
    O.SGD(1.0).setup(net).add_hook(O.ClipGrad(1.0)).update()
    assert counting.reads == 1  # four parameters, one synchronisation
    norm = np.sqrt(sum(np.sum(v * v) for v in g.values()))
    for n, p in net.named_params():
        np.testing.assert_allclose(np.asarray(p.data), w0[n] - g[n] / (norm + 1e-6), rtol=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["MomentumSGD", "Adam"])
def test_state_follows_model_on_a_real_gpu(name):
    def to_dev(a, ref):
        return a if type(ref) is np.ndarray else backend.backend_of(ref).from_numpy(a)

    net, opt, _ = _run(OPTIMIZERS[name], {2: "to_gpu"}, to_dev)
    ref, _, _ = _run(OPTIMIZERS[name], {}, to_dev)
    gpu_type = type(net.l1.W.data)
    assert gpu_type is not np.ndarray
    for st in opt.state.values():
        for v in st.values():
            if np.ndim(v):
                assert type(v) is gpu_type
    for (n, p), (_, q) in zip(net.named_params(), ref.named_params(), strict=True):
        np.testing.assert_allclose(backend.to_cpu(p.data), q.data, rtol=1e-6, atol=1e-9,
                                   err_msg=n)
    net.to_cpu()
    for n, p in net.named_params():
        p.grad = Variable(_grads(7)[n])
    opt.update()  # would mix NumPy and CuPy arrays if the state stayed behind
    assert all(type(v) is np.ndarray for st in opt.state.values() for v in st.values()
               if np.ndim(v))
