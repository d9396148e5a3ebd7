"""linear and embed_id against NumPy; gradients, double backprop, shape errors."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable, no_grad
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


def _linear_ref(x, W, b=None):
    y = np.einsum("...i,ij->...j", x, W)
    return y if b is None else y + b


@pytest.mark.parametrize("xshape", [(4, 3), (1, 3), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_forward(xp, xshape, bias, dtype):
    r = rng()
    inputs = [r.normal(size=xshape).astype(dtype), r.normal(size=(3, 2)).astype(dtype)]
    if bias:
        inputs.append(r.normal(size=2).astype(dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check_forward(xp, F.linear, inputs, _linear_ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("xshape", [(4, 3), (2, 2, 3)])
def test_linear_gradients(xp, xshape):
    r = rng(1)
    inputs = [r.normal(size=xshape), r.normal(size=(3, 2)), r.normal(size=2)]
    check_backward(xp, F.linear, inputs)
    check_double_backward(xp, F.linear, inputs)
    check_backward(xp, F.linear, inputs[:2])


def test_linear_float32_and_needs_input_grad(xp):
    r = rng(2)
    x, W, b = (r.normal(size=s).astype(np.float32) for s in [(5, 3), (3, 4), (4,)])
    check_dtype_preserved(xp, F.linear, [x, W, b])
    # A constant input gets no gradient computed at all.
    Wv = Variable(to_xp(xp, W))
    y = F.linear(to_xp(xp, x), Wv)
    assert y.creator.needs_input_grad == (False, True)
    y.sum().backward()
    assert Wv.grad.dtype == np.float32


def test_linear_records_nothing_under_no_grad():
    with no_grad():
        y = F.linear(Variable(np.ones((2, 3))), Variable(np.ones((3, 4))))
    assert y.creator is None


@pytest.mark.parametrize(
    "xs, ws, bs",
    [((4, 3), (2, 5), None), ((4, 3), (3,), None), ((4, 3), (3, 5), (4,))],
)
def test_linear_shape_errors_name_the_shapes(xs, ws, bs):
    b = None if bs is None else np.zeros(bs)
    with pytest.raises(ValueError, match=r"linear: .*shape") as e:
        F.linear(np.zeros(xs), np.zeros(ws), b)
    assert str(ws) in str(e.value)


def test_embed_id(xp):
    r = rng(3)
    W = r.normal(size=(5, 3))
    ids = np.array([[0, 4], [4, 2]])
    ti = to_xp(xp, ids)
    f = lambda W: F.embed_id(ti, W)  # noqa: E731
    y = check_forward(xp, f, [W], lambda W: np.stack([[W[i] for i in row] for row in ids]))
    assert y.shape == (2, 2, 3)
    check_backward(xp, f, [W])  # id 4 twice: the gradient rows add up
    check_double_backward(xp, f, [W])
    check_dtype_preserved(xp, f, [W.astype(np.float32)])
    with pytest.raises(ValueError, match=r"embed_id: id 5 .* 5 rows"):
        F.embed_id(np.array([5]), W)
    with pytest.raises(TypeError, match=r"embed_id: x must be an integer array"):
        F.embed_id(np.array([0.0]), W)
