"""dezero.compat.functions: DeZero's names, the *_simple versions and DeZero's meanings."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat.functions as F
from dezero.compat import Variable, test_mode
from dezero.compat.utils import gradient_check

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
