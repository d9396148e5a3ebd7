"""Helpers for testing differentiable code: numerical gradients, array comparison, and a
pretend GPU backend for testing device handling on machines without a GPU.

The comparisons accept Variables and arrays of any registered backend (compared on the host).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core._check import *  # noqa: F403  (check_function & co., see _check.__all__)
from dezero.core.variable import Variable

__all__ = [
    "numerical_grad",
    "gradient_check",
    "array_allclose",
    "array_equal",
    "HostGPUBackend",
    "isolated_backends",
]


def _host(x: Any) -> np.ndarray:
    if isinstance(x, Variable):
        x = x.data
    return np.asarray(_backend.to_cpu(x))


def _weights(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    # Fixed, non-uniform output weights: a wrong gradient cannot hide behind symmetry.
    rng = np.random.Generator(np.random.PCG64(1234))
    return rng.uniform(0.5, 1.5, size=shape).astype(dtype)


def numerical_grad(
    f: Callable[..., Any], x: Any, *args: Any, eps: float = 1e-4, **kwargs: Any
) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x, *args, **kwargs))`` with respect to ``x``.

    Returns a host (NumPy) array of ``x``'s shape.
    """
    xdata = x.data if isinstance(x, Variable) else x
    backend = _backend.backend_of(xdata)
    host = _host(xdata).copy()
    grad = np.zeros(host.shape, dtype=np.float64)

    def value(a: np.ndarray) -> float:
        y = f(Variable(backend.from_numpy(a)), *args, **kwargs)
        return float(np.sum(_host(y).astype(np.float64)))

    it = np.nditer(host, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        orig = host[idx].copy()
        host[idx] = orig + eps
        fp = value(host)
        host[idx] = orig - eps
        fm = value(host)
        host[idx] = orig
        grad[idx] = (fp - fm) / (2 * eps)
        it.iternext()
    return grad


def gradient_check(
    f: Callable[..., Any],
    x: Any,
    *args: Any,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    eps: float = 1e-4,
    **kwargs: Any,
) -> bool:
    """Compare backprop's gradient of ``f`` at ``x`` with central differences.

    The outputs are weighted by fixed random factors before summing, so every
    output element's gradient is checked. Use float64 inputs. Returns True, or
    raises AssertionError describing the largest disagreement.
    """
    xdata = x.data if isinstance(x, Variable) else x
    backend = _backend.backend_of(xdata)
    xv = Variable(xdata)
    y = f(xv, *args, **kwargs)
    w = _weights(_host(y).shape, _host(y).dtype)
    yw = y * backend.from_numpy(w) if y.ndim else y * float(w)
    loss = yw.sum() if yw.ndim else yw
    loss.backward()
    if xv.grad is None:
        raise AssertionError("gradient_check: backward produced no gradient for x")
    bp = _host(xv.grad)

    def weighted(v: Variable, *a: Any, **k: Any) -> Any:
        out = f(v, *a, **k)
        return out * backend.from_numpy(w) if out.ndim else out * float(w)

    num = numerical_grad(weighted, xdata, *args, eps=eps, **kwargs)
    if bp.shape != num.shape:
        raise AssertionError(
            f"gradient_check: gradient shape {bp.shape} != input shape {num.shape}"
        )
    if not np.allclose(bp, num, rtol=rtol, atol=atol):
        err = np.abs(bp - num)
        i = np.unravel_index(np.argmax(err), err.shape)
        raise AssertionError(
            f"gradient_check: backprop and numerical gradients differ (max abs error "
            f"{err[i]:.3g} at index {tuple(int(k) for k in i)}: backprop {bp[i]!r}, "
            f"numerical {num[i]!r}; rtol={rtol}, atol={atol})"
        )
    return True


def array_allclose(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether ``a`` and ``b`` (Variables or arrays of any backend) are close, element-wise."""
    a, b = _host(a), _host(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def array_equal(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` (Variables or arrays of any backend) are equal."""
    return bool(np.array_equal(_host(a), _host(b)))


class HostGPUBackend(_backend.Backend):
    """A pretend GPU for tests: its arrays live in host memory but are their own type.

    Arrays are NumPy arrays viewed as :class:`HostGPUBackend.Array` on device ``cuda:0``,
    so code that moves data between devices, or checks where data lives, can be tested
    through the backend registry on any machine. Register it inside
    :func:`isolated_backends`.
    """

    name = "host-gpu"
    is_gpu = True

    class Array(np.ndarray):
        """The marker type of this backend's arrays."""

    @property
    def xp(self) -> Any:
        return np

    def is_array(self, x: Any) -> bool:
        return isinstance(x, HostGPUBackend.Array)

    def device(self, x: Any) -> str:
        return "cuda:0"

    def from_numpy(self, a: np.ndarray, device: Any = None) -> Any:
        return np.array(a).view(HostGPUBackend.Array)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.array(a).view(np.ndarray)

    def scatter_add(self, a: Any, indices: Any, values: Any) -> None:
        np.add.at(a, indices, values)


@contextlib.contextmanager
def isolated_backends(*backends: _backend.Backend) -> Iterator[None]:
    """Run a block with a registry holding NumPy and ``backends`` alone.

    Installed plug-ins (entry points) are treated as loaded, so none joins in; the
    previous registry comes back on exit, also after an exception.
    """
    saved = (_backend._backends, _backend._by_type, _backend._entry_points_loaded)
    _backend._backends = {"numpy": _backend._NUMPY}
    _backend._by_type = {np.ndarray: _backend._NUMPY}
    _backend._entry_points_loaded = True
    try:
        for b in backends:
            _backend.register_backend(b)
        yield
    finally:
        _backend._backends, _backend._by_type, _backend._entry_points_loaded = saved
