"""The environment report of ``python -m dezero.cuda``: "why doesn't my GPU work?"."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dezero.cuda import __version__, gpu_status
from dezero.cuda._backend import INSTALL_HINT

__all__ = ["report", "main"]

_CUPY_DISTS = ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy")


def _cuda_version(v: int) -> str:
    # CUDA encodes 12.9 as 12090; 0 means "no driver".
    return "none" if v == 0 else f"{v // 1000}.{(v % 1000) // 10}"


def _try(fn: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, fn()
    except Exception as e:  # the report must describe failures, never raise them
        return False, f"unavailable ({type(e).__name__}: {e})"


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def report() -> tuple[str, bool]:
    """The report text and whether the GPU is usable. Never raises."""
    lines: list[tuple[str, str]] = [
        ("dezero-cuda", __version__),
        ("Python", f"{platform.python_version()} ({platform.system()} {platform.machine()})"),
        ("NumPy", np.__version__),
    ]
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as e:
        cupy = None
        lines.append(("CuPy", f"not installed ({e})"))
    if cupy is not None:
        dists = [f"{d} {v}" for d in _CUPY_DISTS if (v := _dist_version(d)) is not None]
        lines.append(("CuPy", f"{cupy.__version__} ({', '.join(dists) or 'from source'})"))
        rt = cupy.cuda.runtime
        ok, v = _try(rt.runtimeGetVersion)
        lines.append(("CUDA runtime", _cuda_version(v) if ok else v))
        ok, v = _try(rt.driverGetVersion)
        lines.append(("CUDA driver", _cuda_version(v) if ok else v))
    lines.append(("CUDA_VISIBLE_DEVICES", os.environ.get("CUDA_VISIBLE_DEVICES", "(not set)")))

    devices: list[str] = []
    if cupy is not None:
        ok, count = _try(cupy.cuda.runtime.getDeviceCount)
        lines.append(("Devices", str(count) if ok else count))
        for i in range(count if ok else 0):
            devices.append(_describe_device(cupy, i))

    usable, reason = gpu_status()
    if cupy is None and not usable:
        reason = INSTALL_HINT
    lines.append(("GPU usable", "yes" if usable else f"no: {reason}"))
    hint = _hint(lines, usable)
    if hint:
        lines.append(("Hint", hint))
    width = max(len(k) for k, _ in lines)
    text = "\n".join(f"{k:<{width}}  {v}" for k, v in lines)
    if devices:
        text += "\n" + "\n".join(devices)
    return text, usable


def _hint(lines: list[tuple[str, str]], usable: bool) -> str:
    """The likeliest fix for the common failures, read off the report's own lines."""
    if usable:
        return ""
    info = dict(lines)
    if info["CuPy"].startswith("not installed"):
        return 'pip install "dezero-cuda[cuda12]" (or [cuda13]) into this environment'
    driver, runtime = info.get("CUDA driver", ""), info.get("CUDA runtime", "")
    if driver == "none":
        return (
            "no NVIDIA driver is loaded: this machine needs an NVIDIA GPU and driver "
            "(nvidia-smi must list the GPU)"
        )
    d, r = _version_tuple(driver), _version_tuple(runtime)
    if d is not None and r is not None and d < r:
        return (
            f"the driver supports CUDA {driver} but this CuPy needs {runtime}: "
            "update the driver or install the cupy-cudaXXx wheel matching it"
        )
    if info.get("CUDA_VISIBLE_DEVICES", "(not set)") not in ("(not set)",):
        return "CUDA_VISIBLE_DEVICES limits which GPUs are visible: check its value"
    return ""


def _version_tuple(v: str) -> tuple[int, ...] | None:
    """``"12.10"`` -> ``(12, 10)``; None for anything else ("none", an error text).

    Versions compare as tuples of ints: as floats, 12.10 would sort before 12.9.
    """
    parts = v.split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _describe_device(cupy: Any, i: int) -> str:
    ok, props = _try(lambda: cupy.cuda.runtime.getDeviceProperties(i))
    if not ok:
        return f"  cuda:{i}  {props}"
    name = props.get("name", b"?")
    name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    cc = f"compute {props.get('major', '?')}.{props.get('minor', '?')}"

    def free_total() -> tuple[int, int]:
        with cupy.cuda.Device(i):
            free, total = cupy.cuda.runtime.memGetInfo()
        return int(free), int(total)

    ok, mem = _try(free_total)
    if ok:
        memory = f"{_gib(mem[1])} total, {_gib(mem[0])} free"
    else:
        memory = f"{_gib(int(props.get('totalGlobalMem', 0)))} total, free {mem}"
    return f"  cuda:{i}  {name}  {cc}  {memory}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dezero.cuda",
        description="Print NumPy/CuPy/CUDA versions, the visible GPUs, and why the GPU "
        "is unusable when it is.",
    )
    parser.add_argument(
        "--require-gpu",
        action="store_true",
        help="exit with status 1 when the GPU is not usable (for scripts)",
    )
    args = parser.parse_args(argv)
    text, usable = report()
    print(text)
    sys.stdout.flush()
    return 1 if args.require_gpu and not usable else 0
