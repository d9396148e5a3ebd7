"""dezero.compat.functions_conv: the simple versions against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.compat.functions_conv as FC
from dezero.compat import Function, Variable
from dezero.compat.utils import gradient_check
from dezero.core import Variable as NativeVariable
from dezero.core import testing as native_testing


def _conv_naive(x, w, b, s, p):
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for q in range(ow):
                    y[i, o, r, q] = np.sum(xp[i, :, r * s:r * s + kh, q * s:q * s + kw] * w[o])
                    y[i, o, r, q] += 0 if b is None else b[o]
    return y


def _pool_naive(x, k, s, p):
    # DeZero pads with zeros (its im2col does), also for max pooling.
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for q in range(ow):
            y[:, :, r, q] = xp[:, :, r * s:r * s + k, q * s:q * s + k].max(axis=(2, 3))
    return y


@pytest.mark.parametrize("s, p, bias", [(1, 0, True), (2, 1, False), (1, 1, True)])
def test_conv2d_simple(s, p, bias):
    rs = np.random.RandomState(0)
    x, w = rs.randn(2, 3, 5, 6), rs.randn(4, 3, 3, 3)
    b = rs.randn(4) if bias else None
    y = FC.conv2d_simple(x, w, b, stride=s, pad=p)
    np.testing.assert_allclose(y.data, _conv_naive(x, w, b, s, p), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(FC.conv2d(x, w, b, s, p).data, y.data, rtol=1e-10, atol=1e-12)
    assert gradient_check(lambda v: FC.conv2d_simple(v, w, b, stride=s, pad=p), x)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1)])
def test_pooling_simple(k, s, p):
    x = np.random.RandomState(1).randn(2, 3, 6, 6)
    y = FC.pooling_simple(x, k, s, p)
    np.testing.assert_allclose(y.data, _pool_naive(x, k, s, p))
    np.testing.assert_allclose(FC.pooling(x, k, s, p).data, y.data)
    assert gradient_check(lambda v: FC.pooling(v, k, s, p), x)


# ---------------------------------------------------------------- DeZero's Function classes
DEZERO_CLASSES = """Conv2d Deconv2d Conv2DGradW Pooling Pooling2DGrad Pooling2DWithIndexes
AveragePooling Im2col Col2im""".split()


def test_every_dezero_function_class_exists():
    missing = [n for n in DEZERO_CLASSES if not isinstance(getattr(FC, n, None), type)]
    assert missing == []
    assert all(issubclass(getattr(FC, n), Function) for n in DEZERO_CLASSES)


def _check_class(make, inputs, ref, grads=(0,)):
    y = make()(*inputs)
    assert isinstance(y, Variable) and type(y) is not NativeVariable
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-12)
    for i in grads:
        def f(v, i=i):
            return make()(*inputs[:i], v, *inputs[i + 1:])
        assert native_testing.gradient_check(f, inputs[i])


def _windows(x, k, s, p):
    """Yield ``(r, q, rows, cols)`` for each window of the zero-padded ``x``."""
    h, w = x.shape[2] + 2 * p, x.shape[3] + 2 * p
    for r in range((h - k) // s + 1):
        for q in range((w - k) // s + 1):
            yield r, q, slice(r * s, r * s + k), slice(q * s, q * s + k)


def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _im2col_naive(x, k, s, p, to_matrix):
    # DeZero's layout: (N, C, KH, KW, OH, OW), or rows (n, oh, ow) of columns (c, kh, kw).
    n, c = x.shape[:2]
    wins = list(_windows(x, k, s, p))
    oh, ow = wins[-1][0] + 1, wins[-1][1] + 1
    col = np.zeros((n, c, k, k, oh, ow))
    xp = _pad(x, p)
    for r, q, rows, cols in wins:
        col[:, :, :, :, r, q] = xp[:, :, rows, cols]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1) if to_matrix else col


def _deconv_naive(x, w, b, s, p, outsize=None):
    n, c, h, wd = x.shape
    _, oc, kh, kw = w.shape
    y = np.zeros((n, oc, s * (h - 1) + kh, s * (wd - 1) + kw))
    for i in range(h):
        for j in range(wd):
            y[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], w)
    oh, ow = outsize or (y.shape[2] - 2 * p, y.shape[3] - 2 * p)
    y = np.pad(y, ((0, 0), (0, 0), (0, oh), (0, ow)))[:, :, p:p + oh, p:p + ow]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


_RS = np.random.RandomState(21)
_X = _RS.randn(2, 3, 5, 6)
_WC = _RS.randn(4, 3, 3, 3)
_BC = _RS.randn(4)


@pytest.mark.parametrize("s, p, bias", [(1, 0, True), (2, 1, False)])
def test_conv2d_class(s, p, bias):
    b = _BC if bias else None
    inputs = (_X, _WC, b) if bias else (_X, _WC)
    _check_class(lambda: FC.Conv2d(s, p), inputs, _conv_naive(_X, _WC, b, s, p),
                 grads=range(len(inputs)))


@pytest.mark.parametrize("s, p, outsize", [(1, 0, None), (2, 1, None), (2, 1, (8, 10))])
def test_deconv2d_class(s, p, outsize):
    x, w, b = _X[:, :, :4, :5], _RS.randn(3, 2, 3, 3), _RS.randn(2)
    ref = _deconv_naive(x, w, b, s, p, outsize)
    _check_class(lambda: FC.Deconv2d(s, p, outsize), (x, w, b), ref, grads=(0, 1, 2))


def test_conv2d_grad_w_class():
    s, p = 2, 1
    node = FC.Conv2d(s, p)(Variable(_X), Variable(_WC)).creator
    gy = _RS.randn(2, 4, 3, 3)
    xp = _pad(_X, p)
    ref = np.zeros_like(_WC)
    for r, q, rows, cols in _windows(_X, 3, s, p):
        ref += np.einsum("no,nckl->ockl", gy[:, :, r, q], xp[:, :, rows, cols])
    _check_class(lambda: FC.Conv2DGradW(node), (_X, gy), ref, grads=(0, 1))


def _argmax_routes(x, k, s, p):
    """For each window of the zero-padded ``x``: the padded position of its first maximum."""
    xp = _pad(x, p)
    for r, q, rows, cols in _windows(x, k, s, p):
        for i in range(x.shape[0]):
            for c in range(x.shape[1]):
                a, b = np.unravel_index(np.argmax(xp[i, c, rows, cols]), (k, k))
                yield i, c, r, q, rows.start + a, cols.start + b


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_pooling_classes(k, s, p):
    x = _X - 0.5  # negative windows at the border: the zero padding wins there
    _check_class(lambda: FC.Pooling(k, s, p), (x,), _pool_naive(x, k, s, p))
    node = FC.Pooling(k, s, p)(Variable(x)).creator
    gy, z = _RS.randn(*node.y.shape), _RS.randn(*x.shape)
    grad, picked = np.zeros(_pad(x, p).shape), np.zeros(node.y.shape)
    zp = _pad(z, p)
    for i, c, r, q, a, b in _argmax_routes(x, k, s, p):
        grad[i, c, a, b] += gy[i, c, r, q]  # DeZero: to the argmax, dropped if it is padding
        picked[i, c, r, q] = zp[i, c, a, b]
    grad = grad[:, :, p:p + x.shape[2], p:p + x.shape[3]]
    _check_class(lambda: FC.Pooling2DGrad(node), (gy,), grad)
    _check_class(lambda: FC.Pooling2DWithIndexes(node), (z,), picked)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1)])
def test_average_pooling_class(k, s, p):
    ref = _im2col_naive(_X, k, s, p, False).mean(axis=(2, 3))
    _check_class(lambda: FC.AveragePooling(k, s, p), (_X,), ref)


@pytest.mark.parametrize("to_matrix", [True, False])
@pytest.mark.parametrize("k, s, p", [(3, 1, 0), (3, 2, 1)])
def test_im2col_and_col2im_classes(k, s, p, to_matrix):
    col = _im2col_naive(_X, k, s, p, to_matrix)
    _check_class(lambda: FC.Im2col(k, s, p, to_matrix), (_X,), col)
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)> for every x.
    c = _RS.randn(*col.shape)
    ref = np.zeros(_pad(_X, p).shape)
    n, ch = _X.shape[:2]
    full = _im2col_naive(_X, k, s, p, False).shape
    c6 = c if not to_matrix else c.reshape(n, full[4], full[5], ch, k, k).transpose(
        0, 3, 4, 5, 1, 2)
    for r, q, rows, cols in _windows(_X, k, s, p):
        ref[:, :, rows, cols] += c6[:, :, :, :, r, q]
    ref = ref[:, :, p:p + _X.shape[2], p:p + _X.shape[3]]
    _check_class(lambda: FC.Col2im(_X.shape, k, s, p, to_matrix), (c,), ref)
