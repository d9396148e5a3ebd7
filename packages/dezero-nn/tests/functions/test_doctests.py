"""Every public function of ``dezero.nn.functions`` (core ops included) carries a docstring
example, and the example runs: its printed output is checked by :mod:`doctest`."""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.core import Variable, random


def run_examples(obj: object, name: str) -> doctest.TestResults:
    """Run the ``>>>`` examples of ``obj``'s own docstring; fail with doctest's report."""
    module = inspect.getmodule(obj)
    # The defining module's names (so ``add(...)`` in a core op's example resolves), then
    # the names every example may use.
    globs = {**vars(module), "np": np, "F": F, "Variable": Variable}
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, name, module=module, globs=globs)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report: list[str] = []
    state = random.get_state()  # dropout's example draws from the framework's generator
    try:
        for test in tests:
            runner.run(test, out=report.append)
    finally:
        random.set_state(state)
    result = doctest.TestResults(runner.failures, runner.tries)
    if result.failed:
        pytest.fail(f"{name}: {result.failed} of {result.attempted} examples failed\n"
                    + "".join(report), pytrace=False)
    return result


@pytest.mark.parametrize("name", F.__all__)
def test_docstring_example_runs(name):
    obj = getattr(F, name)
    doc = obj.__doc__ or ""
    assert ">>>" in doc, f"F.{name} has no example in its docstring"
    assert "Examples:" in doc, f"F.{name}: the example is not in an 'Examples:' section"
    result = run_examples(obj, f"F.{name}")
    assert result.attempted >= 1


def test_a_wrong_example_fails():
    def wrong():
        """Examples:
        >>> F.relu(np.array([-1.0])).data
        array([-1.])
        """

    wrong.__module__ = "dezero.nn.functions.activation"
    with pytest.raises(pytest.fail.Exception, match=r"1 of 1 examples failed(.|\n)*Expected"):
        run_examples(wrong, "wrong")
