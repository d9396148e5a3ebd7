"""dezero.core.pytest_plugin: the xp fixture, gpu skips, DEZERO_REQUIRE_GPU=1 failures."""

from __future__ import annotations

import pytest

from dezero.core import backend

SUITE = '''
import pytest

@pytest.mark.gpu
def test_needs_gpu():
    pass

def test_arrays(xp):
    assert xp.__name__ in ("numpy", "cupy")
'''


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # A machine without a usable GPU, whatever this one has.
    monkeypatch.setattr(backend, "gpu_status", lambda: (False, "no GPU here (test)"))
    monkeypatch.delenv("DEZERO_REQUIRE_GPU", raising=False)
    pytester.makeconftest('pytest_plugins = ["dezero.core.pytest_plugin"]')
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_gpu_tests_skip_with_the_reason(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)  # numpy runs; cupy case and gpu test skip
    result.stdout.fnmatch_lines(["*GPU test: no GPU here (test)*"])


def test_require_gpu_turns_skips_into_failures(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEZERO_REQUIRE_GPU", "1")
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*DEZERO_REQUIRE_GPU=1, but the GPU is not usable*"])


def test_gpu_marker_is_registered(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider")
    assert result.ret == 0 or result.parseoutcomes().get("skipped") == 2
    result.stdout.no_fnmatch_line("*not found in `markers`*")
