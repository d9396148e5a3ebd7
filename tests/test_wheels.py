"""Every package builds an sdist and a wheel; the dezero-core wheel works installed alone."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from _workspace import current_version, packages, subpackage
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.slow

NAMES = sorted(packages())


def _build(name: str, target: str, outdir: Path) -> Path:
    # hatchling in-process (no isolated build env), so it needs no network.
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(outdir)],
        cwd=packages()[name],
        check=True,
        capture_output=True,
        text=True,
    )
    pattern = "*.whl" if target == "wheel" else "*.tar.gz"
    (built,) = outdir.glob(pattern)
    return built


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {n: _build(n, "wheel", tmp_path_factory.mktemp(f"wheel-{n}")) for n in NAMES}


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {n: _build(n, "sdist", tmp_path_factory.mktemp(f"sdist-{n}")) for n in NAMES}


def _dist_info(name: str) -> str:
    return f"{canonicalize_name(name).replace('-', '_')}-{current_version(name)}.dist-info"


@pytest.mark.parametrize("name", NAMES)
def test_wheel_holds_only_its_subpackage_and_metadata(name: str, wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels[name]) as zf:
        files = zf.namelist()
    own = f"dezero/{subpackage(name)}/"
    # dezero-train's console-script launcher must live outside the namespace it checks.
    extra = {"dezero-train": {"_dezero_train.py"}, "dezero-compat": {"_dezero_port.py"}}.get(
        name, set()
    )
    strays = [
        f for f in files if not f.startswith((own, _dist_info(name) + "/")) and f not in extra
    ]
    assert strays == [], f"{wheels[name].name} holds files outside {own}: {strays}"
    assert "dezero/__init__.py" not in files
    assert f"{own}__about__.py" in files
    assert f"{own}py.typed" in files


@pytest.mark.parametrize("name", NAMES)
def test_wheel_version_is_the_about_version(name: str, wheels: dict[str, Path]) -> None:
    version = current_version(name)
    assert wheels[name].name.startswith(f"{canonicalize_name(name).replace('-', '_')}-{version}-")
    with zipfile.ZipFile(wheels[name]) as zf:
        metadata = Parser().parsestr(zf.read(f"{_dist_info(name)}/METADATA").decode())
    assert metadata["Name"] == name
    assert metadata["Version"] == version


def test_cuda_wheel_declares_the_backend_entry_point(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["dezero-cuda"]) as zf:
        entry_points = zf.read(f"{_dist_info('dezero-cuda')}/entry_points.txt").decode()
    assert "[dezero.backends]" in entry_points
    assert "cupy = dezero.cuda._backend:load" in entry_points


def test_train_wheel_declares_the_cli(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["dezero-train"]) as zf:
        entry_points = zf.read(f"{_dist_info('dezero-train')}/entry_points.txt").decode()
    assert "dezero-train = _dezero_train:main" in entry_points


def test_compat_wheel_declares_the_port_command(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["dezero-compat"]) as zf:
        entry_points = zf.read(f"{_dist_info('dezero-compat')}/entry_points.txt").decode()
        assert "dezero/compat/imagenet_labels.txt" in zf.namelist()
    assert "dezero-port = _dezero_port:main" in entry_points


@pytest.mark.parametrize("name", NAMES)
def test_sdist_holds_the_sources_and_version(name: str, sdists: dict[str, Path]) -> None:
    version = current_version(name)
    top = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    assert sdists[name].name == f"{top}.tar.gz"
    with tarfile.open(sdists[name]) as tf:
        files = set(tf.getnames())
        pkg_info = tf.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = Parser().parsestr(pkg_info.read().decode())
    for required in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        f"src/dezero/{subpackage(name)}/__about__.py",
    ):
        assert f"{top}/{required}" in files, f"{sdists[name].name} lacks {required}"
    assert f"{top}/src/dezero/__init__.py" not in files
    assert metadata["Version"] == version


def test_core_wheel_installs_and_imports_alone(wheels: dict[str, Path], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # A fresh environment that sees neither this repository nor the test env's packages.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheels["dezero-core"])],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    probe = """
import importlib.metadata, pathlib, sys
import dezero.core
print(dezero.core.__version__)
print(importlib.metadata.version("dezero-core"))
print(pathlib.Path(dezero.core.__file__).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve()))
try:
    import dezero.nn
except ModuleNotFoundError as exc:
    print("ModuleNotFoundError", exc.name)
else:
    print("imported", dezero.nn.__file__)
"""
    run = subprocess.run(
        [str(python), "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    version = current_version("dezero-core")
    assert run.stdout.split("\n")[:4] == [version, version, "True", "ModuleNotFoundError dezero.nn"]
