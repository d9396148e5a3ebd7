"""Reductions (sum max min) with axis/keepdims, against NumPy and numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, max, min, sum
from dezero.core.backend import to_cpu
from dezero.core.testing import gradient_check

RNG = np.random.Generator(np.random.PCG64(3))
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]
OPS = {"sum": (sum, np.sum), "max": (max, np.max), "min": (min, np.min)}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction(xp, name, axis, keepdims):
    f, ref = OPS[name]
    # Distinct values: max/min are differentiable away from ties.
    x = xp.asarray(RNG.permutation(24).reshape(2, 3, 4).astype(np.float64) * 0.1)
    y = f(Variable(x), axis=axis, keepdims=keepdims)
    expected = ref(to_cpu(x), axis=axis, keepdims=keepdims)
    assert y.shape == expected.shape
    np.testing.assert_allclose(to_cpu(y.data), expected, rtol=1e-12)
    assert gradient_check(lambda v: f(v, axis=axis, keepdims=keepdims), x, eps=1e-6)


def test_methods_match_functions():
    x = Variable(np.arange(6.0).reshape(2, 3))
    assert float(x.sum().data) == 15.0
    np.testing.assert_array_equal(x.sum(axis=0).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(x.max(axis=1, keepdims=True).data, [[2.0], [5.0]])
    np.testing.assert_array_equal(x.min(axis=0).data, [0.0, 1.0, 2.0])


def test_max_ties_share_gradient():
    x = Variable(np.array([1.0, 3.0, 3.0]))
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"sum: axis 2 .*shape \(2, 3\)"):
        sum(Variable(np.ones((2, 3))), axis=2)
    with pytest.raises(ValueError, match="max: axis -3"):
        max(Variable(np.ones((2, 3))), axis=(0, -3))


def test_sum_float32(xp):
    x = Variable(xp.ones((2, 3), dtype=np.float32))
    y = x.sum(axis=0) * 2.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_numpy_integer_axes_are_accepted_and_repeated_axes_refused():
    import numpy as np
    import pytest

    from dezero.core import Variable

    a = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(Variable(a).sum(axis=np.int64(1)).data, np.array([3.0, 12.0]))
    assert np.array_equal(Variable(a).max(axis=(np.int32(0),)).data, np.array([3.0, 4.0, 5.0]))
    with pytest.raises(ValueError, match=r"sum: axis \(1, -1\) repeats an axis"):
        Variable(a).sum(axis=(1, -1))
