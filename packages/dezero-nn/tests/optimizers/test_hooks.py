"""WeightDecay, ClipGrad and FreezeParam hooks."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Parameter, Variable
from dezero.nn import optimizers as O
from dezero.nn.layers import Layer, Linear


class Net(Layer):
    def __init__(self):
        super().__init__()
        self.l1 = Linear(2, in_size=2, dtype=np.float64)
        self.l2 = Linear(2, in_size=2, dtype=np.float64)


def _set_grads(net, value):
    grads = {}
    for i, (n, p) in enumerate(net.named_params()):
        g = np.full(p.shape, value * (i + 1), np.float64)
        p.grad = Variable(g)
        grads[n] = g
    return grads


def test_weight_decay():
    net = Net()
    w0 = {n: p.data.copy() for n, p in net.named_params()}
    opt = O.SGD(0.1).setup(net).add_hook(O.WeightDecay(0.01))
    g = _set_grads(net, 1.0)
    opt.update()
    for n, p in net.named_params():
        np.testing.assert_allclose(p.data, w0[n] - 0.1 * (g[n] + 0.01 * w0[n]), rtol=1e-13)


def test_weight_decay_does_not_edit_shared_grad_in_place():
    net = Net()
    shared = Variable(np.ones((2,)))
    net.l1.b.grad = shared
    net.l2.b.grad = shared
    O.SGD(0.1).setup(net).add_hook(O.WeightDecay(0.5)).update()
    np.testing.assert_array_equal(shared.data, np.ones(2))


@pytest.mark.parametrize("value, clipped", [(10.0, True), (1e-3, False)])
def test_clip_grad_global_norm(value, clipped):
    net = Net()
    w0 = {n: p.data.copy() for n, p in net.named_params()}
    g = _set_grads(net, value)
    norm = np.sqrt(sum(np.sum(v * v) for v in g.values()))
    rate = min(1.0, 1.0 / (norm + 1e-6))
    assert (rate < 1.0) == clipped
    O.SGD(1.0).setup(net).add_hook(O.ClipGrad(1.0)).update()
    for n, p in net.named_params():
        np.testing.assert_allclose(p.data, w0[n] - g[n] * rate, rtol=1e-12)


@pytest.mark.parametrize("target", ["layer", "name", "param"])
def test_freeze_param(target):
    net = Net()
    w0 = {n: p.data.copy() for n, p in net.named_params()}
    spec = {"layer": net.l1, "name": "l1", "param": None}[target]
    hook = O.FreezeParam(spec) if spec is not None else O.FreezeParam(net.l1.W, net.l1.b)
    opt = O.Adam().setup(net).add_hook(hook)
    _set_grads(net, 1.0)
    opt.update()
    for n, p in net.named_params():
        changed = not np.array_equal(p.data, w0[n])
        assert changed == n.startswith("l2.")
    assert not any(k.startswith("l1") for k in opt.state)


def test_freeze_name_is_a_prefix_of_dotted_names_only():
    net = Net()
    net.l10 = Linear(1, in_size=1)
    net.l10.W.data = np.ones((1, 1))
    hook = O.FreezeParam("l1")
    _set_grads(net, 1.0)
    hook(list(net.named_params()))
    assert net.l10.W.grad is not None and net.l1.W.grad is None


def test_hook_argument_errors():
    with pytest.raises(ValueError, match="WeightDecay: invalid rate: -1"):
        O.WeightDecay(-1)
    with pytest.raises(ValueError, match="ClipGrad: invalid max_norm: 0"):
        O.ClipGrad(0)
    with pytest.raises(TypeError, match="FreezeParam"):
        O.FreezeParam(3)
    with pytest.raises(TypeError, match="callable"):
        O.SGD().add_hook(3)
    assert Parameter  # keep import
