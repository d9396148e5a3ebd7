"""DeZero's ``dezero.utils``: graph drawing, array helpers, gradient checking, downloads.

Differences from the native [`dezero.core.testing`][dezero.core.testing], kept because they are
DeZero's:

* ``gradient_check`` converts ``x`` to float64 whatever its dtype, prints the two
  gradients when they disagree, and returns False (the native one raises);
* ``array_allclose`` broadcasts its arguments, as ``numpy.allclose`` does (the native one
  requires equal shapes).
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

import numpy as np

from dezero.compat.core import Variable, as_variable
from dezero.core import backend as _backend
from dezero.core.files import atomic_file
from dezero.core.graph import get_dot_graph, plot_dot_graph
from dezero.nn.functions.conv import get_conv_outsize, get_deconv_outsize

__all__ = [
    "get_dot_graph", "plot_dot_graph", "sum_to", "reshape_sum_backward", "logsumexp",
    "max_backward_shape", "gradient_check", "numerical_grad", "array_equal",
    "array_allclose", "show_progress", "cache_dir", "get_file", "get_conv_outsize",
    "get_deconv_outsize", "pair",
]


# ---------------------------------------------------------------- array helpers
def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum the array ``x`` down to ``shape`` (the reverse of broadcasting); arrays only."""
    lead = x.ndim - len(shape)
    lead_axes = tuple(range(lead))
    ones = tuple(lead + i for i, s in enumerate(shape) if s == 1)
    y = x.sum(lead_axes + ones, keepdims=True)
    return y.squeeze(lead_axes) if lead > 0 else y


def reshape_sum_backward(gy: Any, x_shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Reshape the gradient of ``sum(x, axis, keepdims)`` so that it broadcasts to ``x_shape``."""
    ndim = len(x_shape)
    if ndim == 0 or axis is None or keepdims:
        return gy.reshape(gy.shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    shape = list(gy.shape)
    for a in sorted(a % ndim for a in axes):
        shape.insert(a, 1)
    return gy.reshape(shape)


def logsumexp(x: Any, axis: int = 1) -> Any:
    """``log(sum(exp(x), axis, keepdims=True))`` of an array, without overflow."""
    xp = _backend.get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    return m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))


def max_backward_shape(x: Any, axis: Any) -> list[int]:
    """``x``'s shape with the reduced axes of ``max(x, axis)`` set to 1."""
    if axis is None:
        axes: Any = range(x.ndim)
    elif isinstance(axis, int):
        axes = (axis,)
    else:
        axes = axis
    return [1 if i in axes else s for i, s in enumerate(x.shape)]


# ---------------------------------------------------------------- gradient check
def _host(a: Any) -> np.ndarray:
    a = a.data if isinstance(a, Variable) else a
    return np.asarray(_backend.to_cpu(a))


def numerical_grad(f: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """Central differences (``eps = 1e-4``) of ``sum(f(x))``, ``f`` called on raw arrays."""
    eps = 1e-4
    x = x.data if isinstance(x, Variable) else x
    xp = _backend.get_array_module(x)
    grad = xp.zeros_like(x)
    it = np.nditer(_host(x), flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        keep = x[idx].copy()
        x[idx] = keep + eps
        y1 = _host(f(x, *args, **kwargs)).copy()
        x[idx] = keep - eps
        y2 = _host(f(x, *args, **kwargs)).copy()
        grad[idx] = (y1 - y2).sum() / (2 * eps)
        x[idx] = keep
        it.iternext()
    return grad


def gradient_check(f: Any, x: Any, *args: Any, rtol: float = 1e-4, atol: float = 1e-5,
                   **kwargs: Any) -> bool:
    """Whether backprop's gradient of ``sum(f(x))`` matches central differences.

    ``x`` is converted to float64 first, whatever its dtype (DeZero's rule). On a
    mismatch both gradients are printed and False is returned.
    """
    x = as_variable(x)
    x.data = x.data.astype(np.float64)
    num_grad = numerical_grad(f, x, *args, **kwargs)
    y = f(x, *args, **kwargs)
    y.backward()
    bp_grad = x.grad.data
    if bp_grad.shape != num_grad.shape:
        raise ValueError(
            f"gradient_check: backprop gradient of shape {bp_grad.shape} for x of shape "
            f"{num_grad.shape}"
        )
    ok = array_allclose(num_grad, bp_grad, atol=atol, rtol=rtol)
    if not ok:
        print()
        print("========== FAILED (Gradient Check) ==========")
        for title, g in (("Numerical Grad", num_grad), ("Backprop Grad", bp_grad)):
            print(title)
            print(f" shape: {g.shape}")
            print(f" values: {str(_host(g).flatten()[:10])[1:-1]} ...")
    return ok


def array_equal(a: Any, b: Any) -> bool:
    """Same shape and elements (Variables or arrays of any device)."""
    return bool(np.array_equal(_host(a), _host(b)))


def array_allclose(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Element-wise equal within tolerance, broadcasting ``a`` and ``b`` (DeZero's rule)."""
    return bool(np.allclose(_host(a), _host(b), atol=atol, rtol=rtol))


# ---------------------------------------------------------------- downloads
def show_progress(block_num: int, block_size: int, total_size: int) -> None:
    """A one-line progress bar, ``urlretrieve``'s reporthook."""
    done = block_num * block_size
    frac = min(done / total_size, 1.0) if total_size > 0 else 1.0
    n = int(frac * 30)
    print(f"\r[{'#' * n}{'.' * (30 - n)}] {frac * 100:.2f}%", end="")


#: DeZero's download cache.
cache_dir = os.path.join(os.path.expanduser("~"), ".dezero")


def get_file(url: str, file_name: str | None = None, timeout: float = 30.0) -> str:
    """The path of ``url``'s file in ``cache_dir``, downloaded first if it is not there.

    Written atomically: an interrupted download leaves no partial file behind.
    """
    if file_name is None:
        file_name = url[url.rfind("/") + 1:]
    path = os.path.join(cache_dir, file_name)
    if os.path.exists(path):
        return path
    print("Downloading: " + file_name)
    with urllib.request.urlopen(url, timeout=timeout) as r, atomic_file(path, suffix=".part") as f:
        total = int(r.headers.get("Content-Length") or 0)
        block, n = 1 << 16, 0
        while chunk := r.read(block):
            f.write(chunk)
            n += 1
            if total:
                show_progress(n, block, total)
    print(" Done")
    return path


# ---------------------------------------------------------------- others
def pair(x: Any) -> tuple[Any, Any]:
    """``(x, x)`` for an int, ``x`` itself for a pair."""
    if isinstance(x, int):
        return (x, x)
    if isinstance(x, tuple) and len(x) == 2:
        return x
    raise ValueError(f"pair: expected an int or a pair, got {x!r}")
