"""dezero.compat.functions: DeZero's names, the *_simple versions and DeZero's meanings."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat.functions as F
from dezero.compat import Function, Variable, test_mode
from dezero.compat.utils import gradient_check
from dezero.core import Variable as NativeVariable
from dezero.core import testing as native_testing

# Every public function of DeZero 0.0.13's dezero/functions.py (and the book's average).
DEZERO_NAMES = """sin cos tanh exp log reshape expand_dims flatten sum sum_to broadcast_to matmul
linear linear_simple transpose get_item sigmoid_simple sigmoid relu softmax_simple softmax
log_softmax leaky_relu mean_squared_error_simple mean_squared_error
softmax_cross_entropy_simple softmax_cross_entropy sigmoid_cross_entropy binary_cross_entropy
accuracy embed_id dropout batch_nrom max min clip conv2d deconv2d conv2d_simple im2col col2im
pooling_simple pooling average_pooling add sub rsub mul div neg pow average mean""".split()


def test_every_dezero_function_exists():
    missing = [n for n in DEZERO_NAMES if not callable(getattr(F, n, None))]
    assert missing == []


def _rs(seed=0):
    return np.random.RandomState(seed)


def test_simple_versions_against_naive_references():
    x = _rs(1).randn(4, 3)
    w, b = _rs(2).randn(3, 2), _rs(3).randn(2)
    np.testing.assert_allclose(F.linear_simple(x, w, b).data, x @ w + b, rtol=1e-12)
    np.testing.assert_allclose(F.linear_simple(x, w).data, x @ w, rtol=1e-12)
    np.testing.assert_allclose(F.sigmoid_simple(Variable(x)).data, 1 / (1 + np.exp(-x)))
    e = np.exp(x)
    np.testing.assert_allclose(F.softmax_simple(Variable(x)).data,
                               e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    y = _rs(4).randn(4, 3)
    assert np.isclose(float(F.mean_squared_error_simple(x, y).data), ((x - y) ** 2).sum() / 4)
    t = np.array([0, 2, 1, 1])
    p = e / e.sum(axis=1, keepdims=True)
    ref = -sum(np.log(p[i, t[i]]) for i in range(4)) / 4
    assert np.isclose(float(F.softmax_cross_entropy_simple(x, t).data), ref)
    for f in (lambda v: F.sigmoid_simple(v), lambda v: F.softmax_simple(v),
              lambda v: F.linear_simple(v, w, b), lambda v: F.softmax_cross_entropy_simple(v, t)):
        assert gradient_check(f, x)


def test_mean_squared_error_broadcasts_as_dezero():
    # DeZero: x0 (N, 1) against x1 (N,) broadcasts to (N, N); the sum is divided by N.
    a, b = _rs(5).randn(3, 1), _rs(6).randn(3)
    ref = sum((a[i, 0] - b[j]) ** 2 for i in range(3) for j in range(3)) / 3
    assert np.isclose(float(F.mean_squared_error(a, b).data), ref)
    x0 = Variable(a)
    F.mean_squared_error(x0, b).backward()
    np.testing.assert_allclose(x0.grad.data[:, 0],
                               [2 * sum(a[i, 0] - b[j] for j in range(3)) / 3 for i in range(3)])


def test_binary_cross_entropy_clips_as_dezero():
    # p is clipped to [1e-15, 0.999]: p = 0.9995 counts as 0.999 and gets no gradient.
    p = Variable(np.array([0.2, 0.9995, 0.5]))
    t = np.array([0.0, 1.0, 1.0])
    y = F.binary_cross_entropy(p, t)
    ref = -(np.log(0.8) + np.log(0.999) + np.log(0.5)) / 3
    assert np.isclose(float(y.data), ref)
    y.backward()
    np.testing.assert_allclose(p.grad.data, [1 / 0.8 / 3, 0.0, -1 / 0.5 / 3])


def test_accuracy_is_float64_as_dezero():
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], np.float32)
    acc = F.accuracy(y, np.array([1, 1, 1]))
    assert acc.dtype == np.float64 and float(acc.data) == 2 / 3


def test_dropout_draws_from_numpys_global_generator():
    x = np.ones((4, 5), np.float32)
    np.random.seed(3)
    y = F.dropout(x, 0.4)
    mask = np.random.RandomState(3).rand(4, 5) > 0.4
    np.testing.assert_array_equal(y.data, np.where(mask, np.float32(1 / 0.6), 0))
    assert y.dtype == np.float32
    with test_mode():
        assert F.dropout(x).data is x


def test_average_and_mean():
    x = _rs(7).randn(3, 4)
    np.testing.assert_allclose(F.average(x, axis=1).data, x.mean(axis=1))
    np.testing.assert_allclose(F.mean(x).data, x.mean())
    assert gradient_check(lambda v: F.average(v, axis=0, keepdims=True), x)


def test_batch_nrom_is_batch_norm():
    x = _rs(8).randn(6, 2)
    mean, var = np.zeros(2), np.ones(2)
    y = F.batch_nrom(x, np.ones(2), np.zeros(2), mean, var)
    ref = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 2e-5)
    np.testing.assert_allclose(y.data, ref, rtol=1e-10)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=0))  # running mean, decay 0.9


def test_results_are_variables_of_this_package():
    for y in (F.sin(np.array(1.0)), F.relu(np.ones(2)), F.softmax(np.ones((1, 2)))):
        assert type(y) is Variable


@pytest.mark.parametrize("name", ["sigmoid_cross_entropy", "softmax_cross_entropy"])
def test_losses_keep_dezero_meaning(name):
    x = _rs(9).randn(4, 3)
    if name == "sigmoid_cross_entropy":
        t = _rs(10).randint(0, 2, size=(4, 3))
        p = 1 / (1 + np.exp(-x))
        ref = -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / 4
    else:
        t = np.array([0, 2, 1, 0])
        p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        ref = -np.mean(np.log(p[np.arange(4), t]))
    assert np.isclose(float(getattr(F, name)(x, t).data), ref)


# ---------------------------------------------------------------- DeZero's Function classes
DEZERO_CLASSES = """Sin Cos Tanh Exp Log Reshape Sum SumTo BroadcastTo MatMul Linear Transpose
GetItem GetItemGrad Sigmoid ReLU Softmax LogSoftmax LeakyReLU MeanSquaredError
SoftmaxCrossEntropy BatchNorm Max Min Clip""".split()


def test_every_dezero_function_class_exists():
    missing = [n for n in DEZERO_CLASSES if not isinstance(getattr(F, n, None), type)]
    assert missing == []
    assert all(issubclass(getattr(F, n), Function) for n in DEZERO_CLASSES)


def _check_class(make, inputs, ref, grads=(0,), rtol=1e-10):
    """``make()(*inputs)`` against the NumPy ``ref``; the gradient of each input in ``grads``
    against central differences."""
    y = make()(*inputs)
    assert isinstance(y, Variable) and type(y) is not NativeVariable
    np.testing.assert_allclose(y.data, ref, rtol=rtol, atol=1e-12)
    for i in grads:
        def f(v, i=i):
            return make()(*inputs[:i], v, *inputs[i + 1:])
        assert native_testing.gradient_check(f, inputs[i])


_X = _rs(11).randn(2, 3, 4)
_M = _rs(12).randn(4, 3)
_W = _rs(13).randn(3, 5)
_P = _rs(14).uniform(0.5, 2.0, (2, 3))
_V = _rs(19).randn(5)
_E = np.exp(_M - _M.max(axis=1, keepdims=True))
_E1 = np.exp(_M - _M.max(axis=0, keepdims=True))
_D = np.where(np.abs(_X) < 0.05, 0.3, _X)  # away from the kinks of relu, leaky_relu, clip

_CASES = [
    ("Sin", (), (_X,), np.sin(_X)),
    ("Cos", (), (_X,), np.cos(_X)),
    ("Tanh", (), (_X,), np.tanh(_X)),
    ("Exp", (), (_X,), np.exp(_X)),
    ("Log", (), (_P,), np.log(_P)),
    ("Reshape", ((4, 6),), (_X,), _X.reshape(4, 6)),
    ("Sum", (None, False), (_X,), _X.sum()),
    ("Sum", (1, True), (_X,), _X.sum(axis=1, keepdims=True)),
    ("Sum", ((0, -1), False), (_X,), _X.sum(axis=(0, 2))),
    ("SumTo", ((1, 3, 1),), (_X,), _X.sum(axis=(0, 2), keepdims=True)),
    ("BroadcastTo", ((4, 2, 3),), (_P,), np.broadcast_to(_P, (4, 2, 3))),
    ("MatMul", (), (_M, _W), _M @ _W),
    ("Linear", (), (_M, _W, _V), _M @ _W + _V),
    ("Linear", (), (_M, _W, None), _M @ _W),
    ("Transpose", (), (_X,), _X.T),
    ("Transpose", ((1, 0, 2),), (_X,), _X.transpose(1, 0, 2)),
    ("GetItem", ((slice(None), 1),), (_X,), _X[:, 1]),
    ("GetItem", ((np.array([0, 0, 1]), slice(1, 3)),), (_X,), _X[[0, 0, 1], 1:3]),
    ("Sigmoid", (), (_X,), 1 / (1 + np.exp(-_X))),
    ("ReLU", (), (_D,), np.maximum(_D, 0)),
    ("Softmax", (), (_M,), _E / _E.sum(axis=1, keepdims=True)),
    ("Softmax", (0,), (_M,), _E1 / _E1.sum(axis=0, keepdims=True)),
    ("LogSoftmax", (), (_M,), np.log(_E / _E.sum(axis=1, keepdims=True))),
    ("LeakyReLU", (0.2,), (_D,), np.where(_D > 0, _D, 0.2 * _D)),
    ("MeanSquaredError", (), (_M, _M[::-1]), ((_M - _M[::-1]) ** 2).sum() / 4),
    ("Max", (), (_X,), _X.max()),
    ("Max", (1,), (_X,), _X.max(axis=1)),
    ("Min", (-1, True), (_X,), _X.min(axis=-1, keepdims=True)),
    ("Clip", (-0.5, 0.5), (_D,), np.clip(_D, -0.5, 0.5)),
]


@pytest.mark.parametrize("name, args, inputs, ref", _CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(_CASES)])
def test_function_classes(name, args, inputs, ref):
    cls = getattr(F, name)
    grads = [i for i, a in enumerate(inputs) if a is not None]
    _check_class(lambda: cls(*args), inputs, ref, grads)


def test_get_item_grad_class():
    slices = (np.array([0, 0, 1]), slice(1, 3))
    gy = _rs(15).randn(3, 2, 4)
    ref = np.zeros_like(_X)
    np.add.at(ref, slices, gy)  # repeated indices accumulate
    _check_class(lambda: F.GetItemGrad(slices, _X.shape), (gy,), ref)


def test_softmax_cross_entropy_class_takes_t_as_an_input():
    t = np.array([2, 0, 1, 2])
    p = _E / _E.sum(axis=1, keepdims=True)
    ref = -np.log(p[np.arange(4), t]).mean()
    _check_class(lambda: F.SoftmaxCrossEntropy(), (_M, t), ref)
    with pytest.raises(TypeError, match="SoftmaxCrossEntropy: call it with \\(x, t\\)"):
        F.SoftmaxCrossEntropy()(_M)


def test_mean_squared_error_class_refuses_a_0d_difference():
    with pytest.raises(ValueError, match="MeanSquaredError: .*0-d"):
        F.MeanSquaredError()(np.array(1.0), np.array(2.0))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 2)])
def test_batch_norm_class(shape):
    x = _rs(16).randn(*shape) * 2 + 1
    gamma, beta = _rs(17).randn(3), _rs(18).randn(3)
    axes = (0,) + tuple(range(2, len(shape)))
    gs = (1, 3) + (1,) * (len(shape) - 2)
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mu.reshape(gs)) / np.sqrt(var.reshape(gs) + 2e-5)
    mean, rvar = np.zeros(3), np.ones(3)
    m = x.size // 3
    y = F.BatchNorm(mean, rvar, 0.9, 2e-5)(x, gamma, beta)
    np.testing.assert_allclose(y.data, gamma.reshape(gs) * xhat + beta.reshape(gs), rtol=1e-10)
    # DeZero's running averages, updated in place; the variance unbiased.
    np.testing.assert_allclose(mean, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(rvar, 0.9 + 0.1 * var * m / (m - 1), rtol=1e-12)
    for i, a in enumerate((x, gamma, beta)):
        def f(v, i=i):
            args = [x, gamma, beta]
            args[i] = v
            return F.BatchNorm(np.zeros(3), np.ones(3), 0.9, 2e-5)(*args)
        assert native_testing.gradient_check(f, a)
    with test_mode():
        ref = gamma.reshape(gs) * (x - mean.reshape(gs)) / np.sqrt(rvar.reshape(gs) + 2e-5)
        _check_class(lambda: F.BatchNorm(mean, rvar, 0.9, 2e-5), (x, gamma, beta),
                     ref + beta.reshape(gs), grads=(0, 1, 2))
