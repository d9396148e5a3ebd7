"""Checking a differentiable function: forward against a reference, gradients against
central differences (first and second order), dtype, on any device.

Re-exported by [`dezero.core.testing`][dezero.core.testing]; see
[`check_function`][dezero.core.testing.check_function].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core import testing as _testing  # loaded first: testing imports this module
from dezero.core.variable import Variable

__all__ = [
    "check_function",
    "check_forward",
    "check_backward",
    "check_double_backward",
    "check_dtype_preserved",
    "to_xp",
    "to_host",
]


def to_xp(xp: Any, a: Any) -> Any:
    """A copy of the host array ``a`` on the device of array module ``xp`` (``a`` for NumPy)."""
    return a if xp is np else xp.asarray(a)


def to_host(a: Any) -> np.ndarray:
    """The NumPy (host) copy of a Variable or of an array of any registered backend."""
    if isinstance(a, Variable):
        a = a.data
    return np.asarray(_backend.to_cpu(a))


def _with(args: Sequence[Any], i: int, v: Any) -> list[Any]:
    return [v if k == i else a for k, a in enumerate(args)]


def _float64(name: str, args: Sequence[Any], argnums: Sequence[int]) -> None:
    for i in argnums:
        if args[i].dtype != np.float64:
            raise TypeError(
                f"{name}: input {i} is {args[i].dtype}; gradient checks need float64 inputs "
                f"(central differences in float32 are too coarse)"
            )


def check_forward(
    xp: Any,
    f: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    reference: Callable[..., Any],
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Any:
    """Run ``f`` on ``xp`` copies of ``inputs`` and compare with ``reference(*inputs)``.

    ``reference`` gets the host (NumPy) arrays and must be written independently of ``f``
    (a closed form, a naive loop). Also checks the output's shape, and that it keeps the
    dtype of the first input when that is a float. Returns the output Variable.
    """
    y = f(*[to_xp(xp, a) for a in inputs])
    want = np.asarray(reference(*inputs))
    got = to_host(y)
    assert got.shape == want.shape, f"check_forward: shape {got.shape} != reference {want.shape}"
    if inputs and inputs[0].dtype.kind == "f":
        assert got.dtype == inputs[0].dtype, (
            f"check_forward: output dtype {got.dtype} != input dtype {inputs[0].dtype}"
        )
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return y


def check_backward(
    xp: Any,
    f: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    argnums: Sequence[int] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """[`gradient_check`][dezero.core.testing.gradient_check] of ``f`` for each input in
    ``argnums``.

    The other inputs are passed as constant arrays. Inputs must be float64.
    """
    args = [to_xp(xp, a) for a in inputs]
    nums = list(range(len(args)) if argnums is None else argnums)
    _float64("check_backward", args, nums)
    for i in nums:
        _testing.gradient_check(lambda v, i=i: f(*_with(args, i, v)), args[i], rtol=rtol, atol=atol)


def _grad_of(
    f: Callable[..., Any], args: Sequence[Any], i: int, j: int, v: Variable
) -> Variable:
    """The gradient of ``sum(w * f)`` with respect to input ``j``, as a function of input ``i``."""
    vs: list[Any] = [Variable(a) if k == j and k != i else a for k, a in enumerate(args)]
    vs[i] = v
    y = f(*vs)
    w = np.random.Generator(np.random.PCG64(20359)).uniform(0.5, 1.5, size=y.shape)
    loss = (y * to_xp(_backend.get_array_module(y.data), w)).sum()
    loss.backward(create_graph=True)
    g = vs[j].grad
    assert g is not None, f"check_double_backward: no first-order gradient for input {j}"
    v.cleargrad()
    vs[j].cleargrad()
    # "+ 0 * sum(v)" keeps g connected to v when it does not depend on it (a zero Hessian).
    return g + v.sum() * 0.0


def check_double_backward(
    xp: Any,
    f: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    argnums: Sequence[int] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """Second derivatives of ``f`` for every pair of inputs in ``argnums``, mixed ones too.

    Each first-order gradient is built with ``create_graph=True`` and differentiated
    again; the result is compared with central differences of that gradient. Inputs
    must be float64.
    """
    args = [to_xp(xp, a) for a in inputs]
    nums = list(range(len(args)) if argnums is None else argnums)
    _float64("check_double_backward", args, nums)
    for i in nums:
        for j in nums:
            _testing.gradient_check(
                lambda v, i=i, j=j: _grad_of(f, args, i, j, v), args[i], rtol=rtol, atol=atol
            )


def check_dtype_preserved(xp: Any, f: Callable[..., Any], inputs: Sequence[np.ndarray]) -> None:
    """float32 in, float32 out, and a float32 gradient for every float32 input."""
    vs = [Variable(to_xp(xp, a)) if a.dtype == np.float32 else to_xp(xp, a) for a in inputs]
    y = f(*vs)
    assert y.dtype == np.float32, f"check_dtype_preserved: output dtype {y.dtype}"
    (y.sum() if y.ndim else y).backward()
    for k, v in enumerate(vs):
        if isinstance(v, Variable):
            assert v.grad is not None, f"check_dtype_preserved: no gradient for input {k}"
            assert v.grad.dtype == np.float32, (
                f"check_dtype_preserved: gradient {k} is {v.grad.dtype}"
            )


def check_function(
    f: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    reference: Callable[..., Any] | None = None,
    *,
    xp: Any = np,
    argnums: Sequence[int] | None = None,
    double_backward: bool = True,
    dtype: bool = True,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """Check a differentiable function the way the dezero packages check theirs.

    On the device of ``xp`` (``numpy``, or ``cupy`` through the pytest plugin's ``xp``
    fixture), with ``inputs`` given as host arrays (cast to float64 for the checks):

    1. forward: ``f(*inputs)`` against ``reference(*inputs)`` (skipped when None);
    2. backward: each gradient against central differences
       ([`check_backward`][dezero.core.testing.check_backward]);
    3. double backward: every second derivative, through ``create_graph=True``
       ([`check_double_backward`][dezero.core.testing.check_double_backward]), unless
       ``double_backward=False`` (a function whose gradient is not itself differentiable, or is zero
       almost everywhere);
    4. dtype: float32 inputs give a float32 output and float32 gradients, if ``dtype``.

    ``argnums`` picks the inputs that are differentiated (default: all); the others are
    passed as constant arrays (labels, indices). Raises AssertionError naming what
    disagrees.

    Examples:
        >>> import numpy as np
        >>> from dezero.core import Function
        >>> from dezero.core.testing import check_function
        >>> class Cube(Function):
        ...     def forward(self, x):
        ...         return x ** 3
        ...     def backward(self, gy):
        ...         x, = self.inputs
        ...         return 3 * x ** 2 * gy
        >>> x = np.random.default_rng(0).uniform(-2, 2, (3, 4))
        >>> check_function(lambda x: Cube()(x), [x], lambda x: x ** 3)
    """
    f64 = [np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else a for a in inputs]
    nums = [i for i, a in enumerate(f64) if a.dtype == np.float64] if argnums is None else argnums
    if reference is not None:
        check_forward(xp, f, f64, reference, rtol=rtol, atol=atol)
    check_backward(xp, f, f64, nums, rtol=rtol, atol=atol)
    if double_backward:
        check_double_backward(xp, f, f64, nums, rtol=rtol, atol=atol)
    if dtype:
        f32 = [a.astype(np.float32) if k in nums else a for k, a in enumerate(f64)]
        check_dtype_preserved(xp, f, f32)
