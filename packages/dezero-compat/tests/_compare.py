"""Compare two programs' printed output: equal text, numbers within a tolerance."""

from __future__ import annotations

import math
import re

_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def _normal(line: str) -> str:
    # NumPy pads array elements to a common width, which depends on the digits printed.
    line = re.sub(r"\s+", " ", line.strip())
    return re.sub(r"\[ ", "[", re.sub(r" \]", "]", line))


def differences(expected: str, got: str, rtol: float, atol: float) -> list[str]:
    """Lines on which ``got`` differs from ``expected`` (text, or numbers beyond tolerance)."""
    a, b = expected.splitlines(), got.splitlines()
    out = []
    if len(a) != len(b):
        out.append(f"{len(a)} lines expected, {len(b)} printed")
    for i, (x, y) in enumerate(zip(a, b), start=1):
        x, y = _normal(x), _normal(y)
        if _NUM.sub("#", x) != _NUM.sub("#", y):
            out.append(f"line {i}: text differs:\n  expected {x!r}\n  got      {y!r}")
            continue
        for u, v in zip(_NUM.findall(x), _NUM.findall(y)):
            fu, fv = float(u), float(v)
            if not (fu == fv or math.isclose(fu, fv, rel_tol=rtol, abs_tol=atol)):
                out.append(f"line {i}: {u} != {v} (rtol={rtol}, atol={atol}):\n  {x!r}\n  {y!r}")
                break
    return out
