"""dezero.compat.optimizers: native algorithms, DeZero's hook and update_one protocols."""

from __future__ import annotations

import numpy as np

import dezero.compat.layers as L
from dezero.compat import Parameter, optimizers


def _model_with_grads():
    lin = L.Linear(2, in_size=3)
    lin.W.data = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = lin(np.ones((1, 3), np.float32))
    (y * y).sum().backward()
    return lin


def test_sgd_step_closed_form():
    lin = _model_with_grads()
    W, g = lin.W.data.copy(), lin.W.grad.data.copy()
    optimizers.SGD(0.1).setup(lin).update()
    np.testing.assert_allclose(lin.W.data, W - 0.1 * g, rtol=1e-6)


def test_hooks_receive_a_list_of_parameters():
    lin = _model_with_grads()
    seen = []
    opt = optimizers.MomentumSGD().setup(lin)
    opt.add_hook(lambda params: seen.append(params))
    opt.update()
    assert all(isinstance(p, Parameter) for p in seen[0]) and len(seen[0]) == 2


def test_weight_decay_and_freeze_as_dezero_hooks():
    lin = _model_with_grads()
    W, g, b = lin.W.data.copy(), lin.W.grad.data.copy(), lin.b.data.copy()
    opt = optimizers.SGD(0.1).setup(lin)
    opt.add_hook(optimizers.WeightDecay(0.5))
    opt.add_hook(optimizers.FreezeParam(lin.b))
    opt.update()
    np.testing.assert_allclose(lin.W.data, W - 0.1 * (g + 0.5 * W), rtol=1e-6)
    np.testing.assert_array_equal(lin.b.data, b)


def test_a_dezero_style_optimizer():
    class Halve(optimizers.Optimizer):
        def update_one(self, param):
            param.data -= 0.5 * param.grad.data

    lin = _model_with_grads()
    W, g = lin.W.data.copy(), lin.W.grad.data.copy()
    opt = Halve().setup(lin)
    opt.add_hook(optimizers.ClipGrad(1e9))
    opt.update()
    np.testing.assert_allclose(lin.W.data, W - 0.5 * g, rtol=1e-6)


def test_adam_matches_dezeros_formula():
    lin = _model_with_grads()
    W, g = lin.W.data.astype(np.float64), lin.W.grad.data.astype(np.float64)
    optimizers.Adam().setup(lin).update()
    # t = 1: m = 0.1 g, v = 0.001 g^2, lr = 0.001 sqrt(1 - 0.999) / (1 - 0.9).
    lr = 0.001 * np.sqrt(1 - 0.999) / (1 - 0.9)
    ref = W - lr * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-8)
    np.testing.assert_allclose(lin.W.data, ref, rtol=1e-5)
