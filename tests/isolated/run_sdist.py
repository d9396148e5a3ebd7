"""Run one package's tests from its own sdist: ``python tests/isolated/run_sdist.py NAME [ARGS]``.

The ``test`` script of every isolated environment (``hatch run iso-<pkg>:test``), which
holds only the package and the siblings it declares. This script

1. builds the package's sdist with hatchling (in process: no network, no build env);
2. unpacks it into a temporary folder;
3. runs the tests the sdist ships, there, with the package imported from the unpacked
   sources (``PYTHONPATH`` puts them before the environment's own editable install, and
   the script checks that they won), so a file missing from the sdist fails the run;
4. runs ``tests/isolated/check_isolated.py``: the environment holds exactly the package
   and its declared siblings, and no CuPy.

``ARGS`` go to the sdist's pytest run (``-x``, ``-k expr``...); a path under
``packages/NAME/`` is translated to the unpacked copy. A package whose sdist ships no
tests passes step 3 with a note. Standard library only (and hatchling).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_TESTS_COLLECTED = 5  # pytest's exit code


def build_sdist(name: str, outdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(outdir)],
        cwd=ROOT / "packages" / name,
        check=True,
    )
    (sdist,) = outdir.glob("*.tar.gz")
    return sdist


def unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as tf:
        tf.extractall(into, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def _pytest_args(name: str, args: list[str], top: Path) -> list[str]:
    prefix = f"packages/{name}/"
    return [str(top / a[len(prefix) :]) if a.startswith(prefix) else a for a in args]


def _check_shadowing(name: str, top: Path, env: dict[str, str]) -> None:
    module = "dezero." + name.removeprefix("dezero-")
    where = subprocess.run(
        [sys.executable, "-c", f"import {module} as m; print(m.__file__)"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(top.resolve()):
        sys.exit(f"run_sdist: {module} was imported from {where}, not from the sdist in {top}")


def run_sdist_tests(name: str, args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix=f"{name}-sdist-") as tmp:
        sdist = build_sdist(name, Path(tmp) / "dist")
        top = unpack(sdist, Path(tmp) / "src")
        env = dict(os.environ)
        # Tests that need a workspace tool (dezero-compat's reference environment, found
        # with `hatch env find` from the workspace) learn where the workspace is.
        env.setdefault("DEZERO_WORKSPACE", str(ROOT))
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(top / "src"), env.get("PYTHONPATH", "")) if p
        )
        _check_shadowing(name, top, env)
        if not (top / "tests").is_dir():
            print(f"run_sdist: {sdist.name} ships no tests/ folder: nothing to run")
            return 0
        print(f"run_sdist: running the tests of {sdist.name}, unpacked in {top}", flush=True)
        # -c: the sdist's own pyproject.toml (no pytest section), so no configuration from
        # the workspace, or from any folder above the temporary one, applies.
        cmd = [
            sys.executable, "-m", "pytest", "-c", "pyproject.toml", "--rootdir", ".",
            "--import-mode=importlib", "-p", "no:cacheprovider", "-ra",
        ]
        rc = subprocess.run(cmd + (_pytest_args(name, args, top) or ["tests"]), cwd=top,
                            env=env).returncode
        if rc == NO_TESTS_COLLECTED:
            print(f"run_sdist: {sdist.name} ships no tests that were collected")
            return 0
        return rc


def main(argv: list[str]) -> int:
    if not argv or not (ROOT / "packages" / argv[0] / "pyproject.toml").is_file():
        names = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))
        print(f"usage: run_sdist.py NAME [PYTEST ARGS]; NAME one of {names}", file=sys.stderr)
        return 2
    name, args = argv[0], argv[1:]
    rc = run_sdist_tests(name, args)
    check = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/isolated/check_isolated.py"],
        cwd=ROOT,
    ).returncode
    return rc or check


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
