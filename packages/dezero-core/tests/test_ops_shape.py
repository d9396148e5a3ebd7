"""Shape ops (reshape transpose broadcast_to sum_to get_item) against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, broadcast_to, get_item, reshape, sum_to, transpose
from dezero.core.backend import to_cpu
from dezero.core.testing import gradient_check

RNG = np.random.Generator(np.random.PCG64(2))


def _arr(xp, shape):
    return xp.asarray(RNG.standard_normal(shape))


@pytest.mark.parametrize("shape,new", [((2, 3), (3, 2)), ((2, 3), (6,)), ((6,), (1, 2, 3)),
                                        ((2, 3, 4), (-1, 4)), ((1,), ())])
def test_reshape(xp, shape, new):
    x = _arr(xp, shape)
    y = reshape(Variable(x), new)
    np.testing.assert_array_equal(to_cpu(y.data), to_cpu(x).reshape(new))
    assert gradient_check(lambda v: reshape(v, new), x)


def test_reshape_method_forms():
    x = Variable(np.arange(6.0))
    assert x.reshape(2, 3).shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape([1, 6]).shape == (1, 6)


def test_reshape_error_names_function_and_shapes():
    with pytest.raises(ValueError) as e:
        reshape(Variable(np.ones((2, 3))), (4, 2))
    assert "Reshape" in str(e.value) and "(2, 3)" in str(e.value)


@pytest.mark.parametrize("shape,axes", [((2, 3), None), ((2, 3, 4), (1, 0, 2)),
                                         ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, 0, 1))])
def test_transpose(xp, shape, axes):
    x = _arr(xp, shape)
    y = transpose(Variable(x), axes)
    np.testing.assert_array_equal(to_cpu(y.data), np.transpose(to_cpu(x), axes))
    assert gradient_check(lambda v: transpose(v, axes), x)


def test_transpose_method_and_T():
    x = Variable(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4)
    assert x.transpose((2, 1, 0)).shape == (4, 3, 2)
    with pytest.raises(ValueError, match="transpose"):
        x.transpose(0, 0, 1)


@pytest.mark.parametrize("shape,to", [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (2, 2)),
                                       ((1, 3), (4, 2, 3))])
def test_broadcast_to_and_sum_to(xp, shape, to):
    x = _arr(xp, shape)
    y = broadcast_to(Variable(x), to)
    np.testing.assert_array_equal(to_cpu(y.data), np.broadcast_to(to_cpu(x), to))
    assert gradient_check(lambda v: broadcast_to(v, to), x)
    big = _arr(xp, to)
    s = sum_to(Variable(big), shape)
    # Reference: a naive loop adding every element into its broadcast source.
    ref = np.zeros(shape)
    hb = to_cpu(big)
    for idx in np.ndindex(*to):
        src = tuple(0 if d == 1 else i for d, i in zip(shape, idx[len(to) - len(shape):]))
        ref[src] += hb[idx]
    np.testing.assert_allclose(to_cpu(s.data), ref, rtol=1e-12)
    assert gradient_check(lambda v: sum_to(v, shape), big)


def test_sum_to_bad_shape():
    with pytest.raises(ValueError, match="sum_to"):
        sum_to(Variable(np.ones((2, 3))), (4,))


@pytest.mark.parametrize(
    "index",
    [1, -1, slice(0, 2), (slice(None), 1), (Ellipsis, 0), (None, 0),
     np.array([0, 2, 0, 0]), [1, 1, 2], (np.array([0, 1, 1]), np.array([2, 0, 2])),
     np.array([True, False, True])],
    ids=["int", "neg", "slice", "col", "ellipsis", "newaxis", "fancy_repeat", "list",
         "pairs_repeat", "mask"],
)
def test_get_item(xp, index):
    x = _arr(xp, (3, 4))
    idx = xp.asarray(index) if isinstance(index, np.ndarray) else index
    y = Variable(x)[idx]
    np.testing.assert_array_equal(to_cpu(y.data), to_cpu(x)[index])
    assert gradient_check(lambda v: get_item(v, idx), x)


def test_get_item_repeated_index_accumulates():
    x = Variable(np.arange(4.0))
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 1.0])


def test_get_item_double_backward():
    x = Variable(np.arange(4.0))
    y = (x[np.array([0, 0, 2])] ** 2).sum()
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.sum().backward()
    # d/dx sum(grad) where grad = [4 x0, 0, 2 x2, 0]: [4, 0, 2, 0]
    np.testing.assert_array_equal(x.grad.data, [4.0, 0.0, 2.0, 0.0])


def test_broadcast_to_error_names_function_and_both_shapes():
    with pytest.raises(ValueError) as e:
        broadcast_to(Variable(np.ones((2, 3))), (4,))
    msg = str(e.value)
    assert "BroadcastTo" in msg and "(2, 3)" in msg and "(4,)" in msg
