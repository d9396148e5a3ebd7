"""Check helper for dezero.nn.functions: inputs + a NumPy reference -> forward, gradient and
double-gradient checks, on any device (``xp``).

* :func:`check_forward` compares the op, run on ``xp`` arrays, with the reference run on
  NumPy arrays.
* :func:`check_backward` runs ``gradient_check`` (central differences, float64) for each
  differentiable input in turn.
* :func:`check_double_backward` differentiates each first-order gradient again (built with
  ``create_graph=True``) and compares it with central differences of that gradient, for
  every pair of inputs: the second derivatives of the op, mixed ones included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dezero.core import Variable, backend
from dezero.core.testing import gradient_check

_RNG_SEED = 20260


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_RNG_SEED + seed))


def to_xp(xp: Any, a: Any) -> Any:
    """A copy of host array ``a`` on the device of array module ``xp``."""
    return a if xp is np else xp.asarray(a)


def host(a: Any) -> np.ndarray:
    if isinstance(a, Variable):
        a = a.data
    return np.asarray(backend.to_cpu(a))


def _call(f: Callable[..., Any], args: Sequence[Any], i: int, v: Any) -> Any:
    return f(*[v if k == i else a for k, a in enumerate(args)])


def check_forward(
    xp: Any,
    f: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    reference: Callable[..., Any],
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Any:
    """Run ``f`` on ``xp`` copies of ``inputs``; compare with ``reference(*inputs)``.

    Also checks that the output keeps the dtype of the first input. Returns the output.
    """
    y = f(*[to_xp(xp, a) for a in inputs])
    want = np.asarray(reference(*inputs))
    got = host(y)
    assert got.shape == want.shape, f"shape {got.shape} != reference {want.shape}"
    if inputs and inputs[0].dtype.kind == "f":
        assert got.dtype == inputs[0].dtype, f"dtype {got.dtype} != input {inputs[0].dtype}"
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
    """``gradient_check`` of ``f`` with respect to each input in ``argnums`` (float64)."""
    args = [to_xp(xp, a) for a in inputs]
    for i in range(len(args)) if argnums is None else argnums:
        assert args[i].dtype == np.float64, "gradient checks need float64 inputs"
        gradient_check(lambda v, i=i: _call(f, args, i, v), args[i], rtol=rtol, atol=atol)


def _grad_of(
    f: Callable[..., Any], args: Sequence[Any], i: int, j: int, v: Variable
) -> Variable:
    """The gradient of ``sum(w * f)`` with respect to input ``j``, as a function of input ``i``."""
    vs = [Variable(a) if k == j and k != i else a for k, a in enumerate(args)]
    vs[i] = v
    y = f(*vs)
    w = rng(99).uniform(0.5, 1.5, size=y.shape)
    loss = (y * to_xp(backend.get_array_module(y.data), w)).sum()
    loss.backward(create_graph=True)
    g = vs[j].grad
    assert g is not None, f"no first-order gradient for input {j}"
    v.cleargrad()
    if not isinstance(vs[j], Variable) or vs[j] is not v:
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
    """Second derivatives of ``f`` for every pair of inputs in ``argnums`` (float64)."""
    args = [to_xp(xp, a) for a in inputs]
    nums = list(range(len(args)) if argnums is None else argnums)
    for i in nums:
        for j in nums:
            gradient_check(
                lambda v, i=i, j=j: _grad_of(f, args, i, j, v), args[i], rtol=rtol, atol=atol
            )


def check_dtype_preserved(xp: Any, f: Callable[..., Any], inputs: Sequence[np.ndarray]) -> None:
    """float32 in, float32 out, and float32 gradients for every float32 input."""
    vs = [Variable(to_xp(xp, a)) if a.dtype == np.float32 else to_xp(xp, a) for a in inputs]
    y = f(*vs)
    assert y.dtype == np.float32, f"output dtype {y.dtype}"
    (y.sum() if y.ndim else y).backward()
    for k, v in enumerate(vs):
        if isinstance(v, Variable):
            assert v.grad is not None, f"no gradient for input {k}"
            assert v.grad.dtype == np.float32, f"gradient {k} is {v.grad.dtype}"
