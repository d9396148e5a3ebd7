"""GPU-only checks: CPU/GPU parity, transfer, scatter-add, device errors, memory pool.

Every test here carries ``@pytest.mark.gpu`` and is skipped (with the reason) by the
workspace conftest where no CUDA device answers; the module itself imports without CuPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import dezero.core as dc
import dezero.cuda
from dezero.core import Variable
from dezero.core.backend import DeviceMismatchError

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not dezero.cuda.gpu_enable(), reason=f"needs a usable GPU: {dezero.cuda.gpu_status()[1]}"
    ),
]

RNG = np.random.default_rng(0)


def _pos(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def _any(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


# name, function of Variables, input arrays (float64)
CASES: list[tuple[str, Callable[..., Any], tuple[np.ndarray, ...]]] = [
    ("add_broadcast", lambda a, b: a + b, (_any(3, 4), _any(4))),
    ("sub", lambda a, b: a - b, (_any(2, 3), _any(2, 3))),
    ("mul_broadcast", lambda a, b: a * b, (_any(3, 1), _any(1, 5))),
    ("div", lambda a, b: a / b, (_any(3, 4), _pos(3, 4))),
    ("neg", lambda a: -a, (_any(5),)),
    ("pow", lambda a: a**3, (_any(2, 3),)),
    ("exp", dc.exp, (_any(3, 3),)),
    ("log", dc.log, (_pos(3, 3),)),
    ("sin", dc.sin, (_any(4),)),
    ("cos", dc.cos, (_any(4),)),
    ("tanh", dc.tanh, (_any(2, 5),)),
    ("matmul", lambda a, b: a @ b, (_any(3, 4), _any(4, 2))),
    ("sum_axis", lambda a: a.sum(axis=1, keepdims=True), (_any(3, 4),)),
    ("reshape", lambda a: a.reshape((6, 2)) * 2.0, (_any(3, 4),)),
    ("transpose", lambda a: a.T @ a, (_any(3, 4),)),
    ("broadcast_to", lambda a: dc.broadcast_to(a, (3, 4)), (_any(1, 4),)),
    ("sum_to", lambda a: dc.sum_to(a, (1, 4)), (_any(3, 4),)),
    ("max", lambda a: a.max(axis=0), (_any(4, 5),)),
    ("min", lambda a: a.min(axis=1), (_any(4, 5),)),
    ("get_item_slice", lambda a: a[1:, ::2], (_any(4, 5),)),
    ("mlp_layer", lambda x, w: dc.tanh(x @ w).sum(), (_any(8, 5), _any(5, 3))),
]


def _run(fn: Callable[..., Any], arrays: tuple[np.ndarray, ...], gpu: bool) -> tuple[Any, ...]:
    xs = [Variable(a.copy()) for a in arrays]
    if gpu:
        for x in xs:
            x.to_gpu()
    y = fn(*xs)
    # a fixed, non-uniform upstream gradient so every output element matters
    w = Variable(np.linspace(0.5, 1.5, int(np.prod(y.shape))).reshape(y.shape))
    if gpu:
        w.to_gpu()
    (y * w).sum().backward()
    return (y.data, *[x.grad.data for x in xs])


@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=[c[0] for c in CASES])
def test_parity_forward_backward(name: str, fn: Callable[..., Any], arrays: tuple) -> None:
    cpu = _run(fn, arrays, gpu=False)
    gpu = _run(fn, arrays, gpu=True)
    for c, g in zip(cpu, gpu, strict=True):
        assert dezero.cuda.backend.is_array(g), f"{name}: result left the GPU"
        assert g.dtype == c.dtype
        np.testing.assert_allclose(dezero.cuda.as_numpy(g), c, rtol=1e-9, atol=1e-12)


def test_float32_stays_float32_on_gpu() -> None:
    x = Variable(_any(3, 4).astype(np.float32)).to_gpu()
    y = dc.exp(x * 2.0).sum()
    y.backward()
    assert y.data.dtype == np.float32 and x.grad.data.dtype == np.float32


def test_round_trip_is_exact_and_moves_grad() -> None:
    a = _any(5, 7).astype(np.float32)
    v = Variable(a.copy())
    (v * v).sum().backward()
    assert v.to_gpu() is v
    assert dezero.cuda.backend.is_array(v.data) and dezero.cuda.backend.is_array(v.grad.data)
    assert dc.backend.device_of(v) == "cuda:0" or dc.backend.device_of(v).startswith("cuda:")
    assert dc.get_array_module(v) is dezero.cuda.backend.xp
    v.to_cpu()
    assert isinstance(v.data, np.ndarray) and isinstance(v.grad.data, np.ndarray)
    np.testing.assert_array_equal(v.data, a)
    np.testing.assert_array_equal(v.grad.data, 2 * a)


def test_as_cupy_as_numpy() -> None:
    a = _any(4)
    g = dezero.cuda.as_cupy(a)
    assert dezero.cuda.backend.is_array(g)
    assert dezero.cuda.as_cupy(g) is g
    assert dezero.cuda.backend.is_array(dezero.cuda.as_cupy(Variable(a)))
    np.testing.assert_array_equal(dezero.cuda.as_numpy(g), a)
    np.testing.assert_array_equal(dezero.cuda.as_numpy(Variable(g)), a)


def test_to_gpu_explicit_device_and_bad_device() -> None:
    n = dezero.cuda.device_count()
    assert n >= 1
    last = n - 1
    v = Variable(_any(3)).to_gpu(device=last)
    assert dc.backend.device_of(v) == f"cuda:{last}"
    with dezero.cuda.device(last):
        w = Variable(_any(3)).to_gpu()
    assert dc.backend.device_of(w) == f"cuda:{last}"
    with pytest.raises(ValueError, match=f"device {n} does not exist"):
        Variable(_any(3)).to_gpu(device=n)
    with pytest.raises(ValueError, match=f"device {n} does not exist"):
        with dezero.cuda.device(n):
            pass


@pytest.mark.parametrize(
    "index",
    [np.array([0, 2, 0, 0, 3]), (np.array([1, 1, 0]), np.array([2, 2, 2]))],
    ids=["rows", "pairs"],
)
def test_get_item_grad_scatter_adds_repeated_indices(index: Any) -> None:
    xd = _any(4, 3)
    picked = xd[index]
    w = _any(*picked.shape)
    x = Variable(xd.copy()).to_gpu()
    y = (x[index] * Variable(w).to_gpu()).sum()
    y.backward()
    expected = np.zeros_like(xd)  # a naive loop, the independent reference
    if isinstance(index, tuple):
        for k, (i, j) in enumerate(zip(*index, strict=True)):
            expected[i, j] += w[k]
    else:
        for k, i in enumerate(index):
            expected[i] += w[k]
    np.testing.assert_allclose(dezero.cuda.as_numpy(x.grad), expected, rtol=1e-12)


def test_backend_scatter_add_direct() -> None:
    cp = dezero.cuda.backend.xp
    a = cp.zeros(4)
    dezero.cuda.backend.scatter_add(a, cp.asarray([1, 1, 3, 1]), cp.asarray([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(dezero.cuda.as_numpy(a), [0.0, 7.0, 0.0, 3.0])


def test_device_mismatch_names_both_devices() -> None:
    cpu = Variable(_any(3))
    gpu = Variable(_any(3)).to_gpu()
    with pytest.raises(DeviceMismatchError) as ei:
        _ = cpu + gpu
    msg = str(ei.value)
    assert "Add" in msg and "cpu" in msg and "cuda:0" in msg
    with pytest.raises(DeviceMismatchError, match="cpu.*cuda:0|cuda:0.*cpu"):
        _ = gpu * np.ones(3)  # a raw host array is a constant on the CPU


def test_memory_pool_usage_and_free() -> None:
    dezero.cuda.free_memory()
    before = dezero.cuda.memory_info()
    big = dezero.cuda.as_cupy(np.ones(1 << 20, dtype=np.float32))  # 4 MiB
    during = dezero.cuda.memory_info()
    assert during.used_bytes >= before.used_bytes + big.nbytes
    assert during.total_bytes >= during.used_bytes
    del big
    assert dezero.cuda.memory_info().used_bytes <= during.used_bytes - (1 << 22)
    released = dezero.cuda.free_memory()
    assert released >= 0
    assert dezero.cuda.memory_info().total_bytes <= during.total_bytes - (1 << 22)


def test_report_lists_the_devices(capsys: pytest.CaptureFixture[str]) -> None:
    from dezero.cuda._report import main

    assert main(["--require-gpu"]) == 0
    out = capsys.readouterr().out
    assert "cuda:0" in out and "GiB total" in out


def test_numpy_scalar_constants_meet_gpu_variables() -> None:
    # CuPy rejects 0-d numpy.ndarray operands but takes NumPy scalars: a constant
    # np.float32 must reach the kernel as a scalar, on the GPU, keeping float32.
    a = _any(4).astype(np.float32)
    x = Variable(a.copy()).to_gpu()
    y = x * np.float32(3.0) - np.float32(1.0)
    assert dezero.cuda.backend.is_array(y.data) and y.dtype == np.float32
    np.testing.assert_allclose(dezero.cuda.as_numpy(y), a * 3 - 1, rtol=1e-6)
    z = np.float32(2.0) ** x  # d/dx 2^x = 2^x ln 2, through a NumPy-scalar base
    z.backward()
    assert dezero.cuda.backend.is_array(x.grad.data)
    np.testing.assert_allclose(dezero.cuda.as_numpy(x.grad), 2.0**a * np.log(2.0), rtol=1e-5)


def test_core_seed_reaches_cupys_global_generator_once_cuda_runs() -> None:
    # For users' own cupy.random draws: seed(n) seeds CuPy's generator of the current device
    # (at once here, since dezero has started CUDA; otherwise where it first starts it).
    from dezero.core import random as drandom

    assert dezero.cuda.gpu_enable()
    cp = dezero.cuda.backend.xp
    drandom.seed(123)
    a = dezero.cuda.as_numpy(cp.random.random_sample((64,), dtype=cp.float32))
    drandom.seed(123)
    b = dezero.cuda.as_numpy(cp.random.random_sample((64,), dtype=cp.float32))
    drandom.seed(124)
    c = dezero.cuda.as_numpy(cp.random.random_sample((64,), dtype=cp.float32))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert dezero.cuda.backend._pending_seed == ()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_uniform_draws_on_each_gpu_are_fixed_by_the_framework_state(dtype: Any) -> None:
    from dezero.core import random as drandom

    for n in range(dezero.cuda.device_count()):
        drandom.seed(7)
        u = drandom.uniform((100_000,), dtype, device=f"cuda:{n}")
        assert dezero.cuda.backend.is_array(u) and u.device.id == n and u.dtype == dtype
        h = dezero.cuda.as_numpy(u).astype(np.float64)
        assert h.min() >= 0 and h.max() < 1 and abs(h.mean() - 0.5) < 0.01
        state = drandom.get_state()
        v = dezero.cuda.as_numpy(drandom.uniform((1000,), dtype, device=n))
        drandom.set_state(state)
        np.testing.assert_array_equal(dezero.cuda.as_numpy(drandom.uniform((1000,), dtype,
                                                                           device=n)), v)
        drandom.seed(7)
        np.testing.assert_array_equal(
            dezero.cuda.as_numpy(drandom.uniform((100_000,), dtype, device=n)),
            dezero.cuda.as_numpy(u),
        )


def test_cupy_device_objects_and_names_are_one_vocabulary() -> None:
    cp = dezero.cuda.backend.xp
    last = dezero.cuda.device_count() - 1
    d = dc.backend.get_device(cp.cuda.Device(last))
    assert d == f"cuda:{last}" and d is dc.backend.get_device(last)
    x = Variable(_any(3)).to_gpu(d)
    assert x.data.device.id == last and dc.backend.device_of(x) is d
    with dezero.cuda.device(last):
        assert dc.backend.get_device("cuda") is d
