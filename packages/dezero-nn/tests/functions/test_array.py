"""Array functions against NumPy; gradients; the facade re-exports."""

from __future__ import annotations

import numpy as np
import pytest

import dezero.core as core
import dezero.nn.functions as F
from dezero.core.testing import check_backward, check_double_backward, check_forward


def rng(seed: int = 0) -> np.random.Generator:
    """The test data's generator (seeded per use, so every run sees the same data)."""
    return np.random.default_rng(20260 + seed)


def test_facade_reexports_core_ops():
    names = "add sub mul div neg pow exp log sin cos tanh reshape transpose sum sum_to "
    names += "broadcast_to matmul get_item max min"
    for name in names.split():
        assert getattr(F, name) is getattr(core, name), name
    for name in F.__all__:
        assert callable(getattr(F, name)), name


def test_reshapes(xp):
    x = rng().normal(size=(2, 1, 3, 1))
    check_forward(xp, F.flatten, [x], lambda x: x.reshape(2, 3))
    check_forward(xp, lambda x: F.expand_dims(x, -1), [x], lambda x: x[..., None])
    check_forward(xp, lambda x: F.expand_dims(x, 0), [x], lambda x: x[None])
    check_forward(xp, F.squeeze, [x], lambda x: x.reshape(2, 3))
    check_forward(xp, lambda x: F.squeeze(x, 1), [x], lambda x: x.reshape(2, 3, 1))
    check_backward(xp, F.flatten, [x])
    with pytest.raises(ValueError, match=r"squeeze: axis 2 of shape \(2, 1, 3, 1\)"):
        F.squeeze(x, 2)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_stack_split(xp, axis):
    r = rng(1)
    a, b = r.normal(size=(2, 3)), r.normal(size=(2, 3))
    check_forward(xp, lambda a, b: F.concat([a, b], axis), [a, b],
                  lambda a, b: np.concatenate([a, b], axis))
    check_forward(xp, lambda a, b: F.stack([a, b], axis), [a, b],
                  lambda a, b: np.stack([a, b], axis))
    check_backward(xp, lambda a, b: F.concat([a, b], axis), [a, b])
    check_backward(xp, lambda a, b: F.stack([a, b], axis), [a, b])
    check_double_backward(xp, lambda a, b: F.concat([a, b], axis) ** 2, [a, b])
    c = np.concatenate([a, b, a], axis=1)
    parts = F.split(c, 3, axis=1)
    assert len(parts) == 3
    for p, ref in zip(parts, np.split(c, 3, axis=1), strict=True):
        np.testing.assert_array_equal(p.data, ref)
    # Only the second part is used: the others' gradients are zeros.
    check_backward(xp, lambda c: F.split(c, [2, 4], axis=1)[1] * 3.0, [c])
    check_backward(xp, lambda c: F.concat(F.split(c, [1, 5], axis=1), 1) ** 2, [c])


def test_concat_split_errors():
    with pytest.raises(ValueError, match=r"concat: shapes \[\(2, 3\), \(3, 3\)\] differ"):
        F.concat([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"split: axis 1 of shape \(2, 5\) does not divide"):
        F.split(np.zeros((2, 5)), 2, axis=1)
    with pytest.raises(ValueError, match=r"stack: all inputs must have one shape"):
        F.stack([np.zeros(2), np.zeros(3)])


def test_clip(xp):
    x = rng(2).uniform(-2, 2, size=(3, 4))
    x = np.where(np.abs(np.abs(x) - 1) < 0.05, 0.0, x)  # away from the kinks
    f = lambda x: F.clip(x, -1.0, 1.0)  # noqa: E731
    check_forward(xp, f, [x], lambda x: np.minimum(np.maximum(x, -1), 1))
    check_backward(xp, f, [x])
    with pytest.raises(ValueError, match=r"clip: x_min 2 is larger than x_max 1"):
        F.clip(x, 2, 1)


def test_where(xp):
    r = rng(3)
    cond = r.random(size=(3, 4)) > 0.5
    a, b = r.normal(size=(3, 4)), r.normal(size=(1, 4))  # b broadcasts
    c = cond if xp is np else xp.asarray(cond)
    f = lambda a, b: F.where(c, a, b)  # noqa: E731
    check_forward(xp, f, [a, b], lambda a, b: np.where(cond, a, b))
    check_backward(xp, f, [a, b])
    check_double_backward(xp, lambda a, b: F.where(c, a, b) ** 2, [a, b])
    with pytest.raises(TypeError, match=r"where: condition must be a boolean array"):
        F.where(np.zeros(3), a[0, :3], b[0, :3])
