"""dezero.cuda without a usable GPU: the situation of this machine, checked for real.

Each test finds out which situation holds — CuPy not importable, CuPy importable with no
usable device, or a working GPU — and asserts what that situation must give, so the same
file is meaningful in the isolated environment (no CuPy), in CI (CuPy, no GPU) and on a
GPU machine.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dezero.core.backend as core_backend
import dezero.cuda
from dezero.core import Variable
from dezero.core.backend import Backend, GPUUnavailableError
from dezero.cuda._backend import CupyBackend, device_id

PIP_HINT = 'pip install "dezero-cuda[cuda12]"'


def _situation() -> tuple[str, str]:
    """("missing" | "no-device" | "gpu", CuPy's own error text), found without dezero."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as e:
        return "missing", str(e)
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        return "no-device", str(e)
    return ("gpu", "") if n > 0 else ("no-device", "")


SITUATION, CUPY_ERROR = _situation()


def _subprocess_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


# ---------------------------------------------------------------- registration


def test_import_registers_the_cupy_backend_once() -> None:
    b = core_backend.get_backend("cupy")
    assert isinstance(b, CupyBackend) and isinstance(b, Backend)
    assert b is dezero.cuda.backend
    assert b.name == "cupy" and b.is_gpu is True
    again = dezero.cuda.load()  # the entry point, called a second time
    assert again is b and core_backend.get_backend("cupy") is b


def _declared_entry_point() -> str:
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    section = text.split('[project.entry-points."dezero.backends"]', 1)[1]
    for line in section.splitlines():
        if line.strip().startswith("cupy"):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("pyproject.toml declares no 'cupy' entry point")


def test_entry_point_loads_and_returns_the_backend() -> None:
    target = _declared_entry_point()
    assert target == "dezero.cuda._backend:load"
    from importlib.metadata import entry_points

    installed = [ep for ep in entry_points(group="dezero.backends") if ep.name == "cupy"]
    if installed:  # an installed distribution: load it the way core does
        assert installed[0].value == target
        loader = installed[0].load()
    else:  # running from source: no metadata, resolve the declared target by hand
        module, attr = target.split(":")
        loader = getattr(importlib.import_module(module), attr)
    assert loader() is dezero.cuda.backend


def test_importing_dezero_cuda_does_not_import_cupy() -> None:
    code = (
        "import sys, numpy as np, dezero.cuda\n"
        "from dezero.core import Variable\n"
        "y = (Variable(np.ones(3)) * 2).sum(); y.backward()\n"
        "assert 'cupy' not in sys.modules, 'cupy imported'\n"
        "assert not dezero.cuda.backend.is_array(np.ones(2))\n"
        "assert 'cupy' not in sys.modules, 'is_array imported cupy'\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=_subprocess_env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_get_array_module_is_core_function() -> None:
    assert dezero.cuda.get_array_module is core_backend.get_array_module
    assert dezero.cuda.get_array_module(np.ones(2)) is np
    assert dezero.cuda.get_array_module(Variable(np.ones(2))) is np


# ---------------------------------------------------------------- the situation here


def test_gpu_enable_matches_situation() -> None:
    assert dezero.cuda.gpu_enable() is (SITUATION == "gpu")
    ok, reason = dezero.cuda.gpu_status()
    assert ok is (SITUATION == "gpu")
    if SITUATION == "missing":
        assert PIP_HINT in reason and "[cuda13]" in reason
    elif SITUATION == "no-device":
        assert "CuPy" in reason and "installed" in reason
        assert CUPY_ERROR in reason  # CuPy's own words, not a paraphrase
    else:
        assert reason == ""
    # core learns the same answer through the registry
    assert core_backend.gpu_status() == (ok, reason)


def test_to_gpu_fails_with_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = CUPY_ERROR
    if SITUATION == "gpu":  # a GPU answers here: make it refuse, to check the failure path
        expected = "simulated: no device"
        monkeypatch.setattr(dezero.cuda.backend, "available", lambda: (False, expected))
    v = Variable(np.arange(3.0))
    with pytest.raises(GPUUnavailableError) as ei:
        v.to_gpu()
    msg = str(ei.value)
    assert msg.startswith("Variable.to_gpu: the GPU is not usable")
    if SITUATION == "missing":
        assert PIP_HINT in msg
    else:
        assert expected in msg
    assert isinstance(v.data, np.ndarray)  # a failed move leaves the Variable alone
    for call in (dezero.cuda.as_cupy, dezero.cuda.memory_info):
        with pytest.raises(GPUUnavailableError, match=call.__name__):
            call(np.ones(2)) if call is dezero.cuda.as_cupy else call()
    with pytest.raises(GPUUnavailableError, match="device"):
        with dezero.cuda.device(0):
            pass
    assert dezero.cuda.free_memory() == 0
    assert dezero.cuda.device_count() == 0
    with pytest.raises(GPUUnavailableError):
        core_backend.to_device(np.ones(2), "cuda:0")


def test_report_runs_and_says_why(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "dezero.cuda"],
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "NumPy" in out and np.__version__ in out
    if SITUATION == "missing":
        assert "CuPy" in out and "not installed" in out and PIP_HINT in out
    else:
        cupy = importlib.import_module("cupy")
        assert cupy.__version__ in out and "CUDA runtime" in out and "CUDA driver" in out
    if SITUATION == "gpu":
        assert re.search(r"GPU usable\s+yes", out)
        assert "cuda:0" in out
    else:
        assert "GPU usable" in out and "no:" in out
        if SITUATION == "no-device":
            assert CUPY_ERROR in out
    strict = subprocess.run(
        [sys.executable, "-m", "dezero.cuda", "--require-gpu"],
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert strict.returncode == (0 if SITUATION == "gpu" else 1)


# ---------------------------------------------------------------- CuPy missing, simulated


@pytest.fixture
def no_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import cupy`` fail in this process, as in an environment without CuPy."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "cupyx", None)


def test_cupy_missing_simulated(no_cupy: None) -> None:
    ok, reason = CupyBackend().available()
    assert ok is False and PIP_HINT in reason and "[cuda13]" in reason
    assert dezero.cuda.gpu_enable() is False
    assert PIP_HINT in dezero.cuda.gpu_status()[1]
    with pytest.raises(GPUUnavailableError, match=r'to_gpu: .*pip install "dezero-cuda\[cuda12\]"'):
        Variable(np.ones(2)).to_gpu()
    with pytest.raises(GPUUnavailableError, match="as_cupy: .*CuPy is not installed"):
        dezero.cuda.as_cupy([1.0, 2.0])
    with pytest.raises(GPUUnavailableError, match="CuPy is not installed"):
        _ = dezero.cuda.backend.xp
    assert dezero.cuda.backend.is_array(np.ones(2)) is False
    assert dezero.cuda.free_memory() == 0
    a = np.arange(4.0)
    assert dezero.cuda.as_numpy(a) is a
    # the CPU keeps working
    x = Variable(np.array([1.0, 2.0, 3.0]))
    y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])


def test_report_with_cupy_missing_simulated(
    no_cupy: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from dezero.cuda._report import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "not installed" in out and PIP_HINT in out and np.__version__ in out
    assert main(["--require-gpu"]) == 1


def test_gpu_enable_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(dezero.cuda.backend, "available", broken)
    assert dezero.cuda.gpu_enable() is False
    assert "driver exploded" in dezero.cuda.gpu_status()[1]
    assert dezero.cuda.device_count() == 0


# ---------------------------------------------------------------- host-side helpers


def test_as_numpy_accepts_variables_arrays_and_scalars() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert dezero.cuda.as_numpy(a) is a
    assert dezero.cuda.as_numpy(Variable(a)) is a
    assert dezero.cuda.as_numpy(None) is None
    s = dezero.cuda.as_numpy(3.5)
    assert isinstance(s, np.ndarray) and s.shape == () and s == 3.5
    np.testing.assert_array_equal(dezero.cuda.as_numpy([[1, 2]]), np.array([[1, 2]]))


@pytest.mark.parametrize(
    ("spec", "expected"), [(0, 0), (3, 3), (np.int64(2), 2), ("cuda:1", 1)]
)
def test_device_id_parses(spec: object, expected: int) -> None:
    assert device_id(spec) == expected


def test_device_id_reads_a_core_device() -> None:
    from dezero.core.backend import Device

    assert device_id(Device(dezero.cuda.backend, 2)) == 2


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (-1, ValueError),
        ("cuda", ValueError),
        ("cpu:0", ValueError),
        ("gpu:0", ValueError),  # one vocabulary: "cuda:N"
        ("cuda:x", ValueError),
        (True, TypeError),
        (1.0, TypeError),
    ],
)
def test_device_id_rejects(spec: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="to_gpu: device"):
        device_id(spec)


def test_cpu_unaffected_get_item_repeated_indices() -> None:
    # After registering CuPy, NumPy arrays still dispatch to NumPy, and get_item's
    # gradient still accumulates repeated indices (against a naive loop).
    assert core_backend.backend_of(np.ones(2)).name == "numpy"
    rng = np.random.default_rng(0)
    xd = rng.standard_normal((4, 3))
    idx = np.array([0, 2, 0, 0, 3])
    x = Variable(xd)
    w = rng.standard_normal((5, 3))
    y = (x[idx] * Variable(w)).sum()
    y.backward()
    expected = np.zeros_like(xd)
    for k, i in enumerate(idx):
        expected[i] += w[k]
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


# ---------------------------------------------------------------- seeding CuPy's generator


def test_core_seed_never_imports_cupy_nor_raises() -> None:
    # Seeding on a CPU-only run must not import CuPy (nor touch CUDA) just to seed it.
    code = (
        "import sys, dezero.cuda\n"
        "from dezero.core import random\n"
        "random.seed(0); random.seed(None)\n"
        "assert 'cupy' not in sys.modules, 'seed imported cupy'\n"
        "assert dezero.cuda.backend._pending_seed == (None,)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=_subprocess_env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


class _FakeCupy:
    """Just enough of CuPy for CupyBackend: one device, a generator that records seeds."""

    __version__ = "0.0-fake"

    def __init__(self, devices: int = 1) -> None:
        self.seeds: list[int | None] = []
        outer = self

        class Runtime:
            @staticmethod
            def getDeviceCount() -> int:
                return devices

        class Cuda:
            runtime = Runtime

        class Random:
            @staticmethod
            def seed(n: int | None) -> None:
                outer.seeds.append(n)

        self.cuda = Cuda
        self.random = Random


def test_cupy_seed_applied_at_once_once_dezero_has_started_cuda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    b = CupyBackend()
    assert b.available()[0]  # dezero starts CUDA
    b.seed(21)
    assert fake.seeds == [21] and b._pending_seed == ()
    b.available()
    _ = b.xp  # nothing pending: no second seeding
    assert fake.seeds == [21]


def test_cupy_seed_waits_until_dezero_first_starts_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # not imported yet
    b = CupyBackend()
    b.seed(4)  # CuPy absent: kept, no error
    assert b._pending_seed == (4,)
    fake = _FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)  # imported later, by the user, say
    b.seed(5)  # CuPy imported but CUDA not started by dezero: still kept, CUDA untouched
    assert b.xp is fake  # reaching the module is not starting CUDA: no seeding there
    assert fake.seeds == [] and b._pending_seed == (5,)
    assert b.available()[0]  # the first start applies it, once
    assert fake.seeds == [5] and b._pending_seed == ()
    b.available()
    assert fake.seeds == [5]


def test_cupy_seed_kept_while_no_device_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeCupy(devices=0)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    b = CupyBackend()
    b.seed(9)
    assert b.available()[0] is False
    assert fake.seeds == [] and b._pending_seed == (9,)


def test_core_seed_reaches_the_registered_cupy_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    from dezero.core import random as drandom

    seen: list[int | None] = []
    monkeypatch.setattr(dezero.cuda.backend, "seed", seen.append)
    drandom.seed(np.int64(17))
    assert seen == [17]


def test_registered_cupy_backend_seed_never_raises_here() -> None:
    # The real situation of this machine (CuPy imported above, or missing; no device).
    dezero.cuda.backend.seed(5)
    if SITUATION != "gpu":
        assert dezero.cuda.backend._pending_seed == (5,)


# ---------------------------------------------------------------- report hint


@pytest.mark.parametrize(
    ("driver", "runtime", "driver_hint"),
    [
        ("12.9", "12.10", True),  # as floats 12.9 > 12.1: the old comparison missed it
        ("12.10", "12.9", False),
        ("12.2", "12.8", True),
        ("13.0", "12.8", False),
        ("12.8", "12.8", False),
    ],
)
def test_report_hint_compares_cuda_versions_as_numbers(
    driver: str, runtime: str, driver_hint: bool
) -> None:
    from dezero.cuda._report import _hint

    lines = [("CuPy", "14.2.0"), ("CUDA runtime", runtime), ("CUDA driver", driver),
             ("CUDA_VISIBLE_DEVICES", "(not set)")]
    hint = _hint(lines, usable=False)
    assert ("update the driver" in hint) is driver_hint, hint
    if driver_hint:
        assert f"CUDA {driver}" in hint and runtime in hint


def test_report_hint_ignores_unreadable_versions() -> None:
    from dezero.cuda._report import _hint

    lines = [("CuPy", "14.2.0"), ("CUDA runtime", "unavailable (CUDARuntimeError: x)"),
             ("CUDA driver", "none"), ("CUDA_VISIBLE_DEVICES", "(not set)")]
    assert "no NVIDIA driver" in _hint(lines, usable=False)
    lines[2] = ("CUDA driver", "unavailable (CUDARuntimeError: y)")
    assert _hint(lines, usable=False) == ""


@pytest.mark.parametrize("usable", [True, False])
def test_gpu_enable_as_flag_and_as_call_agree(
    monkeypatch: pytest.MonkeyPatch, usable: bool
) -> None:
    # DeZero users write `if dezero.cuda.gpu_enable:`; native code calls it. Both spellings
    # must follow whether a device answers (here: what the backend reports).
    monkeypatch.setattr(dezero.cuda.backend, "available", lambda: (usable, "pretend"))
    assert dezero.cuda.gpu_enable() is usable
    assert bool(dezero.cuda.gpu_enable) is usable
    took_branch = False
    if dezero.cuda.gpu_enable:
        took_branch = True
    assert took_branch is usable
    assert (not dezero.cuda.gpu_enable) is (not usable)
    assert str(usable) in repr(dezero.cuda.gpu_enable)


def test_gpu_enable_flag_matches_situation() -> None:
    assert bool(dezero.cuda.gpu_enable) is (SITUATION == "gpu")
