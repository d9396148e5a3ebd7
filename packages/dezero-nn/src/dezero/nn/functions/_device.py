"""A device check for arrays an nn function uses without taking them as Function inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core.backend import DeviceMismatchError, device_of

__all__ = ["check_same_device"]

# Scalars go anywhere: CuPy takes Python and NumPy scalars as operands.
_SCALARS = (bool, int, float, complex, np.generic)


def check_same_device(fname: str, ref_name: str, ref: Any, **others: Any) -> None:
    """Raise [`DeviceMismatchError`][dezero.core.backend.DeviceMismatchError] unless every array in
    ``others`` lives on ``ref``'s device.

    Labels, conditions and running statistics are not Function inputs, so the engine's own
    check never sees them; mixing a NumPy array with a CuPy one would otherwise fail inside
    CuPy with a message that names neither the function nor the argument.
    """
    if ref is None or isinstance(ref, _SCALARS):
        return
    want = device_of(ref)
    for name, a in others.items():
        if a is None or isinstance(a, _SCALARS):
            continue
        got = device_of(a)
        if got != want:
            raise DeviceMismatchError(
                f"{fname}: {name} is on {got} but {ref_name} is on {want}; move them to one "
                f"device first with to_cpu() or to_gpu()"
            )
