"""The Python examples in the package README run as written and say what is true."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _run(i: int, ns: dict) -> dict:
    exec(compile(BLOCKS[i], f"README.md[block {i}]", "exec"), ns)
    return ns


def test_readme_has_its_examples():
    assert len(BLOCKS) == 7


def test_tour_first_derivative():
    ns = _run(0, {"__name__": "__readme__"})
    assert float(ns["x"].grad.data) == 24.0  # 4x^3 - 4x at 2, as the comment says


def test_tour_higher_order():
    ns = _run(1, _run(0, {"__name__": "__readme__"}))
    assert float(ns["gx"].data) == 24.0 and float(ns["x"].grad.data) == 44.0


def test_user_function_example():
    ns = _run(2, _run(0, {"__name__": "__readme__"}))
    x = ns["Variable"](np.array([1.5, -2.0]))
    y = ns["Square"]()(x)
    y.backward(create_graph=True)
    np.testing.assert_array_equal(y.data, [2.25, 4.0])
    np.testing.assert_array_equal(x.grad.data, [3.0, -4.0])  # 2x
    gx = x.grad
    x.cleargrad()
    gx.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])  # "double backprop works"


def test_checker_example_passes_and_catches_a_wrong_gradient():
    ns = _run(3, {"__name__": "__readme__"})  # runs check_function: raises if it fails
    wrong = BLOCKS[3].replace("return 3 * x ** 2 * gy", "return 2 * x ** 2 * gy")
    assert wrong != BLOCKS[3]
    with pytest.raises(AssertionError):
        exec(compile(wrong, "README.md[block 3, broken]", "exec"), {"__name__": "__readme__"})
    assert "Cube" in ns


def test_plugin_example_is_a_working_test():
    ns = _run(4, {"__name__": "__readme__"})
    ns["test_cube"](np)


def test_devices_example():
    ns = _run(5, {"__name__": "__readme__"})
    assert ns["w"].tolist() == [0.0, 0.0, 0.0] and type(ns["w"]) is np.ndarray


def test_randomness_example():
    _run(6, {"__name__": "__readme__"})
