"""Optimizer state: keyed by parameter name, saved and restored exactly."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.nn import optimizers as O
from dezero.nn import weights
from dezero.nn.layers import Linear
from dezero.nn.models import MLP

ALGOS = [
    lambda: O.SGD(0.1), lambda: O.MomentumSGD(0.1), lambda: O.AdaGrad(0.1),
    lambda: O.AdaDelta(), lambda: O.Adam(0.01), lambda: O.AdamW(0.01), lambda: O.RMSprop(0.01),
]


def _data():
    rng = np.random.default_rng(5)
    return rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(
        np.float32)


def _step(model, opt, x, t):
    model.cleargrads()
    loss = ((model(x) - t) ** 2).sum()
    loss.backward()
    opt.update()


@pytest.mark.parametrize("make", ALGOS)
def test_resume_is_bit_exact(make, tmp_path):
    x, t = _data()
    random.seed(0)
    a = MLP((5, 2))
    oa = make().setup(a)
    for _ in range(3):
        _step(a, oa, x, t)
    a.save_weights(tmp_path / "w.npz")
    weights.save_npz(tmp_path / "o.npz", oa.state_dict())
    for _ in range(3):
        _step(a, oa, x, t)

    b = MLP((5, 2))
    b.load_weights(tmp_path / "w.npz")
    ob = make().setup(b)
    ob.load_state_dict(weights.load_npz(tmp_path / "o.npz"))
    for _ in range(3):
        _step(b, ob, x, t)
    for (na, pa), (nb, pb) in zip(a.named_params(), b.named_params()):
        assert na == nb
        np.testing.assert_array_equal(pa.data, pb.data)
    assert oa.t == ob.t == 6


def test_state_keys_use_parameter_names():
    random.seed(0)
    m = MLP((3, 2))
    opt = O.Adam().setup(m)
    x, t = _data()
    _step(m, opt, x, t)
    keys = set(opt.state_dict())
    assert {"t", "hyper/alpha", "state/l0.W/m", "state/l0.W/v", "state/l0.W/step",
            "state/l1.b/v"} <= keys
    assert all(isinstance(v, np.ndarray) for v in opt.state_dict().values())


def test_state_dict_is_a_copy():
    m = Linear(2, in_size=2)
    opt = O.MomentumSGD().setup(m)
    m.W.grad = Variable(np.ones((2, 2), np.float32))
    opt.update()
    sd = opt.state_dict()
    sd["state/W/v"][...] = 99
    assert not np.any(opt.state["W"]["v"] == 99)


def test_load_state_dict_restores_hyperparameters():
    m = Linear(2, in_size=2)
    a = O.SGD(0.5).setup(m)
    b = O.SGD(0.1).setup(m)
    b.load_state_dict(a.state_dict())
    assert b.lr == 0.5


def test_load_state_dict_errors_change_nothing():
    m = Linear(2, in_size=2)
    opt = O.MomentumSGD().setup(m)
    m.W.grad = Variable(np.ones((2, 2), np.float32))
    opt.update()
    good = opt.state_dict()
    bad = dict(good, **{"state/W/v": np.zeros((3, 3), np.float32)})
    with pytest.raises(ValueError, match=r"shape mismatch for 'state/W/v'"):
        opt.load_state_dict(bad)
    bad = dict(good, **{"state/l9.W/v": np.zeros(2, np.float32)})
    with pytest.raises(ValueError, match="'l9.W'"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="'t'"):
        opt.load_state_dict({})
    np.testing.assert_array_equal(opt.state["W"]["v"], good["state/W/v"])
    assert opt.t == 1
