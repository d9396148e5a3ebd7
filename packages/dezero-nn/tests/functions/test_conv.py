"""conv2d, deconv2d, im2col/col2im against naive loops written here; gradients; errors."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core.testing import (
    check_backward,
    check_double_backward,
    check_dtype_preserved,
    check_forward,
    to_xp,
)


def rng(seed: int = 0) -> np.random.Generator:
    """The test data's generator (seeded per use, so every run sees the same data)."""
    return np.random.default_rng(20260 + seed)


def _pad(x, ph, pw):
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=np.float64)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def naive_conv2d(x, W, b=None, stride=(1, 1), pad=(0, 0)):
    """Direct definition: y[n,o,i,j] = sum over c,a,e of xpad[n,c,i*sy+a,j*sx+e] W[o,c,a,e]."""
    (sy, sx), (ph, pw) = stride, pad
    xp_ = _pad(x, ph, pw)
    n, c, hp, wp = xp_.shape
    oc, _, kh, kw = W.shape
    oh, ow = (hp - kh) // sy + 1, (wp - kw) // sx + 1
    y = np.zeros((n, oc, oh, ow))
    for a in range(n):
        for o in range(oc):
            for i in range(oh):
                for j in range(ow):
                    patch = xp_[a, :, i * sy : i * sy + kh, j * sx : j * sx + kw]
                    y[a, o, i, j] = np.sum(patch * W[o]) + (0 if b is None else b[o])
    return y


def naive_deconv2d(x, W, b=None, stride=(1, 1), pad=(0, 0), outsize=None):
    """Direct definition: each input pixel adds x * W[c] into its output window."""
    (sy, sx), (ph, pw) = stride, pad
    n, c, h, w = x.shape
    _, oc, kh, kw = W.shape
    oh, ow = outsize or (sy * (h - 1) + kh - 2 * ph, sx * (w - 1) + kw - 2 * pw)
    hb, wb = max(oh + 2 * ph, sy * (h - 1) + kh), max(ow + 2 * pw, sx * (w - 1) + kw)
    big = np.zeros((n, oc, hb, wb))
    for a in range(n):
        for ci in range(c):
            for i in range(h):
                for j in range(w):
                    big[a, :, i * sy : i * sy + kh, j * sx : j * sx + kw] += x[a, ci, i, j] * W[ci]
    y = big[:, :, ph : ph + oh, pw : pw + ow]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


CONFIGS = [  # x shape, W shape (conv), stride, pad
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0)),
    ((1, 2, 6, 7), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((2, 1, 5, 6), (2, 1, 2, 3), (2, 3), (1, 2)),
    ((1, 2, 4, 4), (2, 2, 1, 1), (1, 1), (0, 0)),
]


@pytest.mark.parametrize("xs, ws, st, pd", CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward(xp, xs, ws, st, pd, bias, dtype):
    r = rng()
    inputs = [r.normal(size=xs).astype(dtype), r.normal(size=ws).astype(dtype)]
    if bias:
        inputs.append(r.normal(size=ws[0]).astype(dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-12

    def f(*a):
        return F.conv2d(a[0], a[1], a[2] if bias else None, stride=st, pad=pd)

    def ref(*a):
        return naive_conv2d(a[0], a[1], a[2] if bias else None, st, pd)

    check_forward(xp, f, inputs, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("xs, ws, st, pd", CONFIGS[:3])
def test_conv2d_gradients(xp, xs, ws, st, pd):
    r = rng(1)
    inputs = [r.normal(size=xs), r.normal(size=ws), r.normal(size=ws[0])]

    def f(x, W, b):
        return F.conv2d(x, W, b, stride=st, pad=pd)

    check_backward(xp, f, inputs)


@pytest.mark.parametrize("xs, ws, st, pd", [CONFIGS[0], CONFIGS[2]])
def test_conv2d_double_backward(xp, xs, ws, st, pd):
    r = rng(2)
    # Small sizes: the numerical check of every second derivative is O(size^2).
    xs = (1,) + xs[1:]
    inputs = [r.normal(size=xs), r.normal(size=ws), r.normal(size=ws[0])]

    def f(x, W, b):
        return F.conv2d(x, W, b, stride=st, pad=pd)

    check_double_backward(xp, f, inputs)


def _deconv_cases():
    # Deconvolution is the adjoint of the same convolution: W is (C_in, C_out, KH, KW).
    for xs, ws, st, pd in CONFIGS[:3]:
        oh = (xs[2] + 2 * pd[0] - ws[2]) // st[0] + 1
        ow = (xs[3] + 2 * pd[1] - ws[3]) // st[1] + 1
        yield (xs[0], ws[0], oh, ow), ws, st, pd, None
        yield (xs[0], ws[0], oh, ow), ws, st, pd, xs[2:]  # the size conv2d came from


@pytest.mark.parametrize("ys, ws, st, pd, outsize", list(_deconv_cases()))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deconv2d_forward(xp, ys, ws, st, pd, outsize, dtype):
    r = rng(3)
    inputs = [r.normal(size=ys).astype(dtype), r.normal(size=ws).astype(dtype),
              r.normal(size=ws[1]).astype(dtype)]
    tol = 1e-5 if dtype == np.float32 else 1e-12

    def f(x, W, b):
        return F.deconv2d(x, W, b, stride=st, pad=pd, outsize=outsize)

    def ref(x, W, b):
        return naive_deconv2d(x, W, b, st, pd, outsize)

    check_forward(xp, f, inputs, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("ys, ws, st, pd, outsize", list(_deconv_cases())[1::2])
def test_deconv2d_gradients(xp, ys, ws, st, pd, outsize):
    r = rng(4)
    inputs = [r.normal(size=(1,) + ys[1:]), r.normal(size=ws), r.normal(size=ws[1])]

    def f(x, W, b=None):
        return F.deconv2d(x, W, b, stride=st, pad=pd, outsize=outsize)

    check_backward(xp, f, inputs)
    check_double_backward(xp, f, inputs[:2])


def test_conv2d_float32_stays_float32(xp):
    r = rng(5)
    inputs = [r.normal(size=s).astype(np.float32) for s in [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]]
    check_dtype_preserved(xp, lambda x, W, b: F.conv2d(x, W, b, 1, 1), inputs)
    inputs = [r.normal(size=s).astype(np.float32) for s in [(2, 4, 3, 3), (4, 3, 3, 3), (3,)]]
    check_dtype_preserved(xp, lambda x, W, b: F.deconv2d(x, W, b, 2, 1), inputs)


def naive_im2col(x, kh, kw, st, pd):
    xp_ = _pad(x, *pd)
    n, c, hp, wp = xp_.shape
    oh, ow = (hp - kh) // st[0] + 1, (wp - kw) // st[1] + 1
    col = np.zeros((n, c, kh, kw, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * st[0], j * st[1]
            col[:, :, :, :, i, j] = xp_[:, :, y0 : y0 + kh, x0 : x0 + kw]
    return col


@pytest.mark.parametrize("to_matrix", [True, False])
def test_im2col_and_col2im(xp, to_matrix):
    r = rng(6)
    x = r.normal(size=(2, 3, 5, 4))
    k, st, pd = (3, 2), (2, 1), (1, 1)

    def ref(x):
        col = naive_im2col(x, *k, st, pd)
        if not to_matrix:
            return col
        n, c, kh, kw, oh, ow = col.shape
        return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)

    f = lambda x: F.im2col(x, k, st, pd, to_matrix)  # noqa: E731
    col = check_forward(xp, f, [x], ref, rtol=1e-12)
    check_backward(xp, f, [x])
    check_double_backward(xp, f, [x[:1, :1]])
    # col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>.
    c = r.normal(size=col.shape)
    back = F.col2im(to_xp(xp, c), x.shape, k, st, pd, to_matrix)
    lhs = float(np.sum(ref(x) * c))
    rhs = float(np.sum(x * np.asarray(back.data.get() if xp is not np else back.data)))
    assert lhs == pytest.approx(rhs, rel=1e-10)
    check_backward(xp, lambda c: F.col2im(c, x.shape, k, st, pd, to_matrix), [c])


@pytest.mark.parametrize(
    "xs, ws, message",
    [
        ((3, 5, 5), (4, 3, 3, 3), r"conv2d: x must be 4-d \(N, C, H, W\), got shape \(3, 5, 5\)"),
        ((1, 3, 5, 5), (4, 3, 3), r"conv2d: W must be 4-d, got shape \(4, 3, 3\)"),
        ((1, 2, 5, 5), (4, 3, 3, 3),
         r"conv2d: x has 2 channels but W of shape \(4, 3, 3, 3\) expects 3"),
        ((1, 3, 2, 2), (4, 3, 3, 3), r"conv2d: kernel \(3, 3\) is larger"),
    ],
)
def test_conv2d_errors_name_function_and_shapes(xs, ws, message):
    with pytest.raises(ValueError, match=message):
        F.conv2d(np.zeros(xs), np.zeros(ws))


def test_conv_argument_errors():
    x, W = np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: b of shape \(3,\) does not fit W"):
        F.conv2d(x, W, np.zeros(3))
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair"):
        F.conv2d(x, W, stride=(1, 2, 3))
    with pytest.raises(ValueError, match=r"deconv2d: x has 3 channels but W"):
        F.deconv2d(x, np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"deconv2d: outsize \(9, 9\) is inconsistent"):
        F.deconv2d(np.zeros((1, 4, 3, 3)), np.zeros((4, 3, 3, 3)), outsize=(9, 9))
