"""Each optimizer against its update equations written out here in NumPy, over several steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import Parameter, Variable
from dezero.nn import optimizers as O
from dezero.nn.layers import Layer

STEPS = 5


class Two(Layer):
    def __init__(self, dtype=np.float64):
        super().__init__()
        rng = np.random.default_rng(0)
        self.W = Parameter(rng.standard_normal((3, 2)).astype(dtype))
        self.b = Parameter(rng.standard_normal(2).astype(dtype))


def grads(step, dtype=np.float64):
    rng = np.random.default_rng(100 + step)
    return {"W": rng.standard_normal((3, 2)).astype(dtype),
            "b": rng.standard_normal(2).astype(dtype)}


def run(opt, dtype=np.float64, steps=STEPS):
    model = Two(dtype)
    opt.setup(model)
    for s in range(steps):
        for name, p in model.named_params():
            p.grad = Variable(grads(s, dtype)[name])
        opt.update()
    return {n: p.data for n, p in model.named_params()}


def reference(rule, steps=STEPS):
    """Apply ``rule(w, g, st, t)`` (returns the new w) to each parameter."""
    model = Two()
    out = {}
    for name, p in model.named_params():
        w, st = p.data.copy(), {}
        for s in range(steps):
            w = rule(w, grads(s)[name], st, s + 1)
        out[name] = w
    return out


def check(opt, rule, rtol=1e-12):
    got, want = run(opt), reference(rule)
    for n in want:
        np.testing.assert_allclose(got[n], want[n], rtol=rtol, atol=1e-14)


def test_sgd():
    check(O.SGD(lr=0.1), lambda w, g, st, t: w - 0.1 * g)


def test_momentum_sgd():
    def rule(w, g, st, t):
        st["v"] = 0.8 * st.get("v", 0.0) - 0.05 * g
        return w + st["v"]

    check(O.MomentumSGD(lr=0.05, momentum=0.8), rule)


def test_adagrad():
    def rule(w, g, st, t):
        st["h"] = st.get("h", 0.0) + g * g
        return w - 0.1 * g / (np.sqrt(st["h"]) + 1e-8)

    check(O.AdaGrad(lr=0.1), rule)


def test_adadelta():
    rho, eps = 0.9, 1e-6

    def rule(w, g, st, t):
        st["msg"] = rho * st.get("msg", 0.0) + (1 - rho) * g * g
        dx = np.sqrt((st.get("msdx", 0.0) + eps) / (st["msg"] + eps)) * g
        st["msdx"] = rho * st.get("msdx", 0.0) + (1 - rho) * dx * dx
        return w - dx

    check(O.AdaDelta(rho=rho, eps=eps), rule)


def test_rmsprop():
    def rule(w, g, st, t):
        st["ms"] = 0.9 * st.get("ms", 0.0) + 0.1 * g * g
        return w - 0.01 * g / (np.sqrt(st["ms"]) + 1e-8)

    check(O.RMSprop(lr=0.01, alpha=0.9), rule)


def _adam_rule(alpha, b1, b2, eps, wd=0.0):
    def rule(w, g, st, t):
        st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
        st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
        m_hat = st["m"] / (1 - b1**t)
        v_hat = st["v"] / (1 - b2**t)
        w = w - alpha * wd * w
        # Kingma & Ba's efficient form puts eps next to sqrt(v), not sqrt(v_hat).
        return w - alpha * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - b2**t))

    return rule


def test_adam():
    check(O.Adam(alpha=0.01, beta1=0.8, beta2=0.95, eps=1e-8), _adam_rule(0.01, 0.8, 0.95, 1e-8),
          rtol=1e-10)


def test_adamw():
    check(O.AdamW(alpha=0.01, weight_decay=0.1), _adam_rule(0.01, 0.9, 0.999, 1e-8, wd=0.1),
          rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda: O.SGD(0.1), lambda: O.MomentumSGD(0.1), lambda: O.AdaGrad(), lambda: O.AdaDelta(),
    lambda: O.Adam(), lambda: O.AdamW(), lambda: O.RMSprop(),
])
def test_float32_stays_float32(make):
    out = run(make(), dtype=np.float32, steps=2)
    assert all(v.dtype == np.float32 for v in out.values())


def test_params_without_grad_are_skipped():
    model = Two()
    before = model.b.data.copy()
    opt = O.Adam().setup(model)
    model.W.grad = Variable(np.ones((3, 2)))
    opt.update()
    np.testing.assert_array_equal(model.b.data, before)
    assert "b" not in opt.state and "W" in opt.state


@pytest.mark.parametrize("make, msg", [
    (lambda: O.SGD(lr=-1), "SGD: invalid learning rate: -1"),
    (lambda: O.SGD(lr=float("nan")), "SGD: invalid learning rate: nan"),
    (lambda: O.MomentumSGD(momentum=1.5), "MomentumSGD: invalid momentum: 1.5"),
    (lambda: O.AdaGrad(eps=0), "AdaGrad: invalid eps: 0"),
    (lambda: O.AdaDelta(rho=1.0), "AdaDelta: invalid rho: 1.0"),
    (lambda: O.Adam(alpha=0), r"Adam: invalid learning rate \(alpha\): 0"),
    (lambda: O.Adam(beta1=-0.1), "Adam: invalid beta1: -0.1"),
    (lambda: O.Adam(beta2=1.0), "Adam: invalid beta2: 1.0"),
    (lambda: O.AdamW(weight_decay=-1), "AdamW: invalid weight_decay: -1"),
    (lambda: O.RMSprop(alpha=2), "RMSprop: invalid alpha: 2"),
    (lambda: O.SGD(lr="0.1"), "SGD: invalid learning rate: 0.1"),
])
def test_hyperparameters_validated(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


def test_update_before_setup_is_an_error():
    with pytest.raises(RuntimeError, match="setup"):
        O.SGD().update()


def test_lr_names():
    assert O.SGD().lr_name == "lr" and O.Adam().lr_name == "alpha"
    assert O.AdamW().lr_name == "alpha" and O.RMSprop().lr_name == "lr"
