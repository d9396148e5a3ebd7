"""Losses against naive NumPy references; gradients numerically; label errors."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable
from dezero.core.testing import (
    check_backward,
    check_double_backward,
    check_dtype_preserved,
    check_forward,
    to_xp,
)
from dezero.core.testing import (
    to_host as host,
)


def rng(seed: int = 0) -> np.random.Generator:
    """The test data's generator (seeded per use, so every run sees the same data)."""
    return np.random.default_rng(20260 + seed)


def _sce_ref(x, t):
    total = 0.0
    for i in range(x.shape[0]):
        row = x[i].astype(np.float64)
        m = row.max()
        total += -(row[t[i]] - m - np.log(np.exp(row - m).sum()))
    return total / x.shape[0]


def _labels(n, c, seed=0):
    return rng(seed).integers(0, c, size=n)


@pytest.mark.parametrize("shape", [(1, 2), (4, 3), (7, 10)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_forward(xp, shape, dtype):
    x = rng().normal(size=shape).astype(dtype) * 3
    t = _labels(shape[0], shape[1])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check_forward(xp, lambda x: F.softmax_cross_entropy(x, to_xp(xp, t)), [x],
                  lambda x: _sce_ref(x, t), rtol=tol, atol=tol)


def test_softmax_cross_entropy_is_stable_for_huge_scores(xp):
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]], dtype=np.float32)
    t = np.array([0, 2])
    y = F.softmax_cross_entropy(to_xp(xp, x), to_xp(xp, t))
    np.testing.assert_allclose(float(y.data), (0.0 + 2000.0) / 2, rtol=1e-6)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5)])
def test_softmax_cross_entropy_gradients(xp, shape):
    x = rng(1).normal(size=shape)
    t = to_xp(xp, _labels(shape[0], shape[1], 1))
    f = lambda x: F.softmax_cross_entropy(x, t)  # noqa: E731
    check_backward(xp, f, [x])
    check_double_backward(xp, f, [x])


def test_softmax_cross_entropy_third_derivative(xp):
    # The gradient node's own backward must be differentiable too (one more order).
    x = Variable(to_xp(xp, rng(2).normal(size=(3, 4))))
    t = to_xp(xp, np.array([0, 3, 1]))
    loss = F.softmax_cross_entropy(x, t)
    loss.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    (gx * gx).sum().backward(create_graph=True)
    hx = x.grad
    x.cleargrad()
    hx.sum().backward()
    assert x.grad is not None and x.grad.shape == (3, 4)


def test_softmax_cross_entropy_float32(xp):
    t = to_xp(xp, np.array([1, 0, 2]))
    check_dtype_preserved(xp, lambda x: F.softmax_cross_entropy(x, t),
                          [rng().normal(size=(3, 4)).astype(np.float32)])


@pytest.mark.parametrize("bad", [3, -1, 10])
def test_softmax_cross_entropy_label_out_of_range(bad):
    t = np.array([0, bad, 1])
    msg = rf"softmax_cross_entropy: label {bad} .* shape \(3, 3\) \(3 classes"
    with pytest.raises(ValueError, match=msg):
        F.softmax_cross_entropy(np.zeros((3, 3), np.float32), t)


def test_softmax_cross_entropy_bad_shapes():
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: t must have shape \(3,\)"):
        F.softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"x must be 2-d"):
        F.softmax_cross_entropy(np.zeros(4), np.array([0]))
    with pytest.raises(TypeError, match=r"integer"):
        F.softmax_cross_entropy(np.zeros((2, 4)), np.array([0.0, 1.0]))


@pytest.mark.parametrize("shape", [(5,), (5, 1), (3, 4), (2, 3, 2)])
def test_mean_squared_error(xp, shape):
    # DeZero's definition: the squared error summed, divided by the batch size len(x).
    a, b = rng(3).normal(size=shape), rng(4).normal(size=shape)
    def ref(a, b):
        return sum((u - v) ** 2 for u, v in zip(a.ravel(), b.ravel(), strict=True)) / len(a)

    check_forward(xp, F.mean_squared_error, [a, b], ref, rtol=1e-12)
    check_backward(xp, F.mean_squared_error, [a, b])
    check_double_backward(xp, F.mean_squared_error, [a, b])
    check_dtype_preserved(xp, F.mean_squared_error, [a.astype(np.float32), b.astype(np.float32)])
    with pytest.raises(ValueError, match=r"mean_squared_error: .* same shape"):
        F.mean_squared_error(a, np.concatenate([b, b]))


def test_mean_squared_error_closed_form_gradient():
    # d/dx0 sum((x0 - x1)^2) / N = 2 (x0 - x1) / N, N = len(x0) = 3 (not x0.size = 12).
    a, b = rng(5).normal(size=(3, 4)), rng(6).normal(size=(3, 4))
    x0, x1 = Variable(a), Variable(b)
    y = F.mean_squared_error(x0, x1)
    np.testing.assert_allclose(float(y.data), np.sum((a - b) ** 2) / 3, rtol=1e-13)
    y.backward()
    np.testing.assert_allclose(x0.grad.data, 2 * (a - b) / 3, rtol=1e-13)
    np.testing.assert_allclose(x1.grad.data, -2 * (a - b) / 3, rtol=1e-13)
    # 0-d inputs: one sample.
    z = F.mean_squared_error(np.array(2.0), np.array(0.5))
    assert float(z.data) == 2.25


@pytest.mark.parametrize("shape", [(6,), (3, 2)])
def test_sigmoid_cross_entropy(xp, shape):
    x = rng(5).normal(size=shape) * 2
    t = rng(6).integers(0, 2, size=shape)
    tt = to_xp(xp, t)

    def ref(x):
        # DeZero's meaning: summed over each sample, divided by the batch size len(x).
        p = 1 / (1 + np.exp(-x))
        return -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / len(x)

    f = lambda x: F.sigmoid_cross_entropy(x, tt)  # noqa: E731
    check_forward(xp, f, [x], ref, rtol=1e-10)
    check_backward(xp, f, [x])
    check_double_backward(xp, f, [x])
    check_dtype_preserved(xp, f, [x.astype(np.float32)])
    with pytest.raises(ValueError, match=r"sigmoid_cross_entropy: targets must be in \[0, 1\]"):
        F.sigmoid_cross_entropy(x, t + 1)


def test_binary_cross_entropy(xp):
    p = rng(7).uniform(0.1, 0.9, size=(4, 3))
    t = rng(8).integers(0, 2, size=(4, 3)).astype(np.float64)
    ref = lambda p, t: -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / 4  # noqa: E731
    check_forward(xp, F.binary_cross_entropy, [p, t], ref, rtol=1e-12)
    check_backward(xp, F.binary_cross_entropy, [p, t])
    check_double_backward(xp, F.binary_cross_entropy, [p, t], argnums=[0])
    check_dtype_preserved(xp, F.binary_cross_entropy, [p.astype(np.float32), t.astype(np.int64)])
    y = F.binary_cross_entropy(to_xp(xp, np.array([0.0, 1.0])), to_xp(xp, np.array([1.0, 0.0])))
    assert float(y.data) == pytest.approx(100.0)  # log clamped at -100, never inf: 200 / 2


def test_binary_cross_entropy_gradient_is_finite_for_saturated_probabilities():
    # sigmoid(+-20) rounds to exactly 1 and 0 in float32; the loss is 0 there, and its
    # gradient with respect to the logits, sigmoid(x) - t, is about 2e-9: finite, ~0.
    from dezero.core import Variable
    from dezero.nn import functions as F

    x = Variable(np.array([20.0, -20.0], np.float32))
    F.binary_cross_entropy(F.sigmoid(x), np.array([1, 0])).backward()
    assert np.all(np.isfinite(x.grad.data))
    assert np.allclose(x.grad.data, 0.0, atol=1e-6)


def test_binary_cross_entropy_accepts_0d_input():
    from dezero.core import Variable
    from dezero.nn import functions as F

    p = Variable(np.array(0.3))
    y = F.binary_cross_entropy(p, np.array(1.0))
    assert np.isclose(float(y.data), -np.log(0.3))
    y.backward()
    assert np.isclose(float(p.grad.data), -1 / 0.3)  # d/dp of -log p


def test_softmax_cross_entropy_refuses_boolean_labels():
    from dezero.core import Variable
    from dezero.nn import functions as F

    with pytest.raises(TypeError, match="softmax_cross_entropy: labels t must be an integer"):
        F.softmax_cross_entropy(Variable(np.zeros((3, 2))), np.array([True, False, True]))


# ---------------------------------------------------------------- DeZero's meanings, reduction=


def _bce_elems(p, t):
    return [-(b * np.log(a) + (1 - b) * np.log(1 - a)) for a, b in zip(p.ravel(), t.ravel())]


@pytest.mark.parametrize("reduction, divide", [("batchmean", 5), ("mean", 15), ("sum", 1)])
def test_binary_cross_entropy_reductions(xp, reduction, divide):
    # Naive loop over the elements; batchmean divides by len(p) = 5 (DeZero), mean by 15.
    p = rng(11).uniform(0.05, 0.95, size=(5, 3))
    t = rng(12).uniform(0, 1, size=(5, 3))
    f = lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction)  # noqa: E731
    check_forward(xp, f, [p, t], lambda p, t: sum(_bce_elems(p, t)) / divide, rtol=1e-12)
    check_backward(xp, f, [p, t])
    check_double_backward(xp, f, [p, t], argnums=[0])


def test_binary_cross_entropy_none_and_default(xp):
    p = rng(13).uniform(0.05, 0.95, size=(4, 2))
    t = rng(14).integers(0, 2, size=(4, 2)).astype(np.float64)
    f = lambda p, t: F.binary_cross_entropy(p, t, reduction="none")  # noqa: E731
    check_forward(xp, f, [p, t], lambda p, t: np.reshape(_bce_elems(p, t), (4, 2)), rtol=1e-12)
    check_backward(xp, f, [p, t])
    y = F.binary_cross_entropy(to_xp(xp, p), to_xp(xp, t))
    assert float(y.data) == pytest.approx(sum(_bce_elems(p, t)) / 4, rel=1e-12)


@pytest.mark.parametrize("reduction, divide", [("batchmean", 3), ("mean", 12), ("sum", 1)])
def test_sigmoid_cross_entropy_float_labels_and_reductions(xp, reduction, divide):
    x = rng(15).normal(size=(3, 4)) * 3
    t = rng(16).uniform(0, 1, size=(3, 4))  # soft targets: DeZero accepts float labels

    def ref(x):
        p = 1 / (1 + np.exp(-x))
        return sum(_bce_elems(p, t)) / divide

    f = lambda x: F.sigmoid_cross_entropy(x, to_xp(xp, t), reduction=reduction)  # noqa: E731
    check_forward(xp, f, [x], ref, rtol=1e-10)
    check_backward(xp, f, [x])
    check_double_backward(xp, f, [x])
    none = F.sigmoid_cross_entropy(to_xp(xp, x), to_xp(xp, t), reduction="none")
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(host(none), np.reshape(_bce_elems(p, t), x.shape), rtol=1e-10)


def test_losses_reshape_and_broadcast_t_as_dezero():
    # DeZero: t.reshape(*x.shape) when the number of axes differs; broadcasting otherwise.
    x = rng(17).normal(size=(4, 1))
    t = rng(18).integers(0, 2, size=4)
    p = 1 / (1 + np.exp(-x[:, 0]))
    want = sum(_bce_elems(p, t.astype(float))) / 4
    assert float(F.sigmoid_cross_entropy(x, t).data) == pytest.approx(want, rel=1e-12)
    assert float(F.binary_cross_entropy(1 / (1 + np.exp(-x)), t).data) == pytest.approx(
        want, rel=1e-12)
    # t of shape (C,) broadcast against (N, C): every row against the same targets.
    x2 = rng(19).normal(size=(3, 2))
    t2 = np.array([0.0, 1.0])
    p2 = 1 / (1 + np.exp(-x2))
    want2 = sum(_bce_elems(p2, np.broadcast_to(t2, (3, 2)))) / 3
    assert float(F.sigmoid_cross_entropy(x2, t2).data) == pytest.approx(want2, rel=1e-12)
    # softmax_cross_entropy: labels (N, 1) are accepted as DeZero ravels them.
    s = rng(20).normal(size=(3, 4))
    lab = np.array([[1], [3], [0]])
    assert float(F.softmax_cross_entropy(s, lab).data) == pytest.approx(
        _sce_ref(s, lab.ravel()), rel=1e-12)
    # mean_squared_error: x1 broadcasting to x0's shape is fine; growing x0 is refused
    # (DeZero would silently compute an (N, N) difference).
    a, b = rng(21).normal(size=(4, 3)), rng(22).normal(size=3)
    x0, x1 = Variable(a), Variable(b)
    y = F.mean_squared_error(x0, x1)
    assert float(y.data) == pytest.approx(np.sum((a - b) ** 2) / 4, rel=1e-12)
    y.backward()
    np.testing.assert_allclose(x1.grad.data, -2 * (a - b).sum(axis=0) / 4, rtol=1e-12)
    with pytest.raises(ValueError, match=r"mean_squared_error: .*\(4, 1\) and \(4,\)"):
        F.mean_squared_error(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"sigmoid_cross_entropy: t of shape \(5,\) does not fit"):
        F.sigmoid_cross_entropy(np.zeros((4, 1)), np.zeros(5))


@pytest.mark.parametrize("reduction, divide", [("batchmean", 2), ("mean", 6), ("sum", 1)])
def test_mean_squared_error_reductions(reduction, divide):
    a, b = rng(23).normal(size=(2, 3)), rng(24).normal(size=(2, 3))
    f = lambda a, b: F.mean_squared_error(a, b, reduction=reduction)  # noqa: E731
    check_forward(np, f, [a, b], lambda a, b: np.sum((a - b) ** 2) / divide, rtol=1e-12)
    check_backward(np, f, [a, b])
    none = F.mean_squared_error(a, b, reduction="none")
    np.testing.assert_allclose(none.data, (a - b) ** 2, rtol=1e-12)


def test_softmax_cross_entropy_reductions():
    s = rng(25).normal(size=(4, 3))
    lab = np.array([2, 0, 1, 1])
    per = [_sce_ref(s[i:i + 1], lab[i:i + 1]) for i in range(4)]
    for red, want in [("batchmean", sum(per) / 4), ("mean", sum(per) / 4), ("sum", sum(per))]:
        assert float(F.softmax_cross_entropy(s, lab, reduction=red).data) == pytest.approx(
            want, rel=1e-12)
    none = F.softmax_cross_entropy(s, lab, reduction="none")
    np.testing.assert_allclose(none.data, per, rtol=1e-12)
    for red in ("sum", "none"):
        f = lambda x, red=red: F.sum(F.softmax_cross_entropy(x, lab, reduction=red))  # noqa: E731
        check_backward(np, f, [s])


def test_reduction_is_checked():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: reduction must be one of"):
        F.binary_cross_entropy(np.full(2, 0.5), np.ones(2), reduction="avg")


@pytest.mark.parametrize("call", [
    lambda: F.mean_squared_error(np.zeros((0, 3)), np.zeros((0, 3))),
    lambda: F.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, np.int64)),
    lambda: F.sigmoid_cross_entropy(np.zeros((0, 2)), np.zeros((0, 2))),
    lambda: F.binary_cross_entropy(np.zeros((0, 2)), np.zeros((0, 2))),
    lambda: F.accuracy(np.zeros((0, 3)), np.zeros(0, np.int64)),
])
def test_empty_batch_is_an_error_not_nan(call):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way either
        with pytest.raises(ValueError, match=r"empty batch"):
            call()


def test_average_against_numpy():
    from dezero.core.testing import gradient_check

    a = rng(26).normal(size=(3, 4))
    for axis, keep in [(None, False), (0, False), (1, True), ((0, 1), False)]:
        y = F.average(a, axis=axis, keepdims=keep)
        np.testing.assert_allclose(y.data, np.mean(a, axis=axis, keepdims=keep), rtol=1e-13)
    assert gradient_check(lambda x: F.average(x, axis=1), a)
    x = Variable(a)
    F.average(x).backward()
    np.testing.assert_allclose(x.grad.data, np.full((3, 4), 1 / 12), rtol=1e-13)
    assert F.average(a.astype(np.float32)).dtype == np.float32
