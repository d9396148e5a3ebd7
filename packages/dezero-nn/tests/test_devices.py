"""Layers and optimizers on several GPUs: moved once, checked once, state following.

The GPUs are dezero.core.testing.HostGPUBackend's pretend devices, whose arrays carry
their device number, so "the model went to GPU 1" is something a test can see fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.core.backend import device_of, on_device_of
from dezero.core.testing import HostGPUBackend, isolated_backends
from dezero.nn import optimizers as O
from dezero.nn.layers import BatchNorm, Layer, Linear


@pytest.fixture
def gpus():
    b = HostGPUBackend(devices=2)
    with isolated_backends(b):
        yield b


class Net(Layer):
    def __init__(self):
        super().__init__()
        self.l1 = Linear(3, in_size=4, dtype=np.float64)
        self.bn = BatchNorm()
        self.l2 = Linear(2, in_size=3, dtype=np.float64)

    def forward(self, x):
        return self.l2(self.bn(self.l1(x)))


def _arrays(net):
    out = {n: p.data for n, p in net.named_params() if p.data is not None}
    out.update({n: getattr(layer, s) for n, layer, s in net._named_states()
                if getattr(layer, s) is not None})
    return out


@pytest.mark.parametrize("spec", ["cuda:1", 1])
def test_model_moves_to_gpu_1_with_one_check(gpus, spec):
    random.seed(0)
    net = Net()
    net(Variable(np.ones((5, 4))))  # BatchNorm's running statistics now exist
    host = {n: np.array(a) for n, a in _arrays(net).items()}
    checks, transfers = gpus.checks, gpus.transfers
    assert net.to_gpu(spec) is net
    assert gpus.checks == checks + 1  # one check for the whole model, not one per array
    moved = _arrays(net)
    assert gpus.transfers == transfers + len(moved)
    assert len(moved) == 8  # 2 x (W, b), BatchNorm's gamma, beta, avg_mean, avg_var
    for n, a in moved.items():
        assert device_of(a) == "cuda:1", n
        np.testing.assert_array_equal(np.asarray(a), host[n], err_msg=n)
    net.to_cpu()
    assert all(type(a) is np.ndarray for a in _arrays(net).values())


def test_to_gpu_without_a_device_uses_the_current_one(gpus):
    with gpus.use_device(1):
        net = Net().to_gpu()
    assert {str(device_of(a)) for a in _arrays(net).values()} == {"cuda:1"}


def test_lazy_layers_are_built_where_their_input_lives(gpus):
    lin = Linear(3)
    lin.to_gpu("cuda:1")  # only b exists yet
    y = lin(Variable(np.ones((2, 5))).to_gpu("cuda:1"))
    assert device_of(lin.W) == device_of(lin.b) == device_of(y) == "cuda:1"


def test_loaded_weights_go_where_the_model_is(gpus):
    random.seed(1)
    src = Net()
    src(Variable(np.ones((5, 4))))
    sd = src.state_dict()
    dst = Net()
    dst(Variable(np.ones((5, 4))))
    dst.to_gpu("cuda:1")
    dst.load_state_dict(sd)
    for n, a in _arrays(dst).items():
        assert device_of(a) == "cuda:1", n
        np.testing.assert_array_equal(np.asarray(a), sd[n], err_msg=n)


class Mlp(Layer):
    def __init__(self):
        super().__init__()
        self.l1 = Linear(3, in_size=4, dtype=np.float64)
        self.l2 = Linear(2, in_size=3, dtype=np.float64)


def _train(moves):
    """Five Adam updates with fixed gradients; ``moves[k]`` names a device before step k."""
    random.seed(0)
    net = Mlp()
    opt = O.Adam(0.05).setup(net)
    for step in range(5):
        if step in moves:
            net.to_device(moves[step])
        rng = np.random.default_rng(100 + step)
        for p in net.params():
            p.grad = Variable(on_device_of(rng.normal(size=p.shape), p.data))
        opt.update()
        for n, p in net.named_params():
            for k, v in opt.state[n].items():
                if np.ndim(v):
                    assert device_of(v) == device_of(p.data), (step, n, k)
    return net, opt


def test_optimizer_state_follows_the_model_from_gpu_0_to_gpu_1(gpus):
    net, opt = _train({0: "cuda:0", 2: "cuda:1", 4: "cpu"})
    ref, _ = _train({})
    for (n, p), (_, q) in zip(net.named_params(), ref.named_params(), strict=True):
        assert type(p.data) is np.ndarray
        np.testing.assert_allclose(p.data, q.data, rtol=1e-13, atol=0, err_msg=n)


def test_a_model_that_stays_put_copies_no_state(gpus):
    net, opt = _train({0: "cuda:1"})
    for p in net.params():
        p.grad = Variable(on_device_of(np.ones(p.shape), p.data))
    transfers = gpus.transfers
    opt.update()
    assert gpus.transfers == transfers


def test_loaded_optimizer_state_goes_to_the_parameters_gpu(gpus):
    net, opt = _train({})
    sd = opt.state_dict()
    net.to_gpu("cuda:1")
    opt2 = O.Adam(0.05).setup(net)
    opt2.load_state_dict(sd)
    for n, _ in net.named_params():
        assert device_of(opt2.state[n]["m"]) == "cuda:1"
        np.testing.assert_array_equal(np.asarray(opt2.state[n]["m"]), sd[f"state/{n}/m"])
