"""Every core op (``dezero.core.ops``) carries a docstring example, and the example runs:
its printed output is checked by :mod:`doctest`."""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

import dezero.core.ops
from dezero.core import Variable


def run_examples(obj: object, name: str) -> doctest.TestResults:
    """Run the ``>>>`` examples of ``obj``'s own docstring; fail with doctest's report."""
    module = inspect.getmodule(obj)
    globs = {**vars(module), "np": np, "Variable": Variable}
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, module=module, globs=globs)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    result = doctest.TestResults(runner.failures, runner.tries)
    if result.failed:
        pytest.fail(f"{name}: {result.failed} of {result.attempted} examples failed\n"
                    + "".join(report), pytrace=False)
    return result


@pytest.mark.parametrize("name", dezero.core.ops.__all__)
def test_docstring_example_runs(name):
    obj = getattr(dezero.core.ops, name)
    doc = obj.__doc__ or ""
    assert ">>>" in doc, f"dezero.core.ops.{name} has no example in its docstring"
    assert "Examples:" in doc, f"{name}: the example is not in an 'Examples:' section"
    result = run_examples(obj, name)
    assert result.attempted >= 1


def test_a_wrong_example_fails():
    def wrong():
        """Examples:
        >>> exp(np.array([0.0])).data
        array([0.])
        """

    wrong.__module__ = "dezero.core.ops.elementwise"
    with pytest.raises(pytest.fail.Exception, match=r"1 of 1 examples failed(.|\n)*Expected"):
        run_examples(wrong, "wrong")
