"""Each package imports with only itself and its declared siblings installed.

Runs only in the isolated environments (``hatch run iso-<pkg>:test`` names this file,
whose name pytest does not collect by itself), where ``DEZERO_ISOLATED`` names the
package under test. Standard library only: the isolated environments hold nothing else.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ISOLATED = os.environ.get("DEZERO_ISOLATED", "")
_REQ_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _declared_siblings() -> dict[str, set[str]]:
    """Distribution name -> the workspace packages its ``dependencies`` name."""
    projects = []
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        with pyproject.open("rb") as f:
            projects.append(tomllib.load(f)["project"])
    names = {p["name"] for p in projects}
    return {
        p["name"]: {_REQ_NAME.match(d).group(0).lower() for d in p.get("dependencies", [])} & names
        for p in projects
    }


DECLARED = _declared_siblings()


def _closure(name: str) -> set[str]:
    seen, todo = {name}, [name]
    while todo:
        for dep in DECLARED[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def _installed() -> set[str]:
    names = {(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()}
    return names & set(DECLARED)


def test_run_in_an_isolated_env() -> None:
    assert ISOLATED in DECLARED, (
        f"DEZERO_ISOLATED={ISOLATED!r}: run this file through 'hatch run iso-<pkg>:test'"
    )


@pytest.mark.parametrize("dist", sorted(_closure(ISOLATED)) if ISOLATED in DECLARED else [])
def test_installed_package_imports(dist: str) -> None:
    module = importlib.import_module("dezero." + dist.removeprefix("dezero-"))
    assert module.__name__ == "dezero." + dist.removeprefix("dezero-")


def test_isolated_env_holds_only_the_package_and_its_declared_siblings() -> None:
    assert ISOLATED in DECLARED, f"DEZERO_ISOLATED={ISOLATED!r} is not a workspace package"
    assert _installed() == _closure(ISOLATED)
    for dist in set(DECLARED) - _closure(ISOLATED):
        sub = "dezero." + dist.removeprefix("dezero-")
        assert importlib.util.find_spec(sub) is None, f"{sub} importable without {dist}"


def test_isolated_env_has_no_cupy() -> None:
    # So the "CuPy not installed" paths are what the isolated runs exercise.
    assert importlib.util.find_spec("cupy") is None
