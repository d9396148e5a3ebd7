"""The workspace's promises: namespace layout, dependency declarations, sibling ranges, envs."""

from __future__ import annotations

import shlex

import pytest
from _workspace import (
    ROOT,
    admits,
    current_version,
    env_config,
    env_members,
    load_toml,
    packages,
    root_config,
    sibling_closure,
    sibling_requirements,
    subpackage,
)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXPECTED_PACKAGES = {
    "dezero-core",
    "dezero-cuda",
    "dezero-nn",
    "dezero-data",
    "dezero-train",
    "dezero-dist",
    "dezero-compat",
    "dezero-onnx",
}

# Which siblings each package may stand on (ARCHITECTURE.md, "Layers").
ALLOWED_SIBLINGS = {
    "dezero-core": set(),
    "dezero-cuda": {"dezero-core"},
    "dezero-nn": {"dezero-core"},
    "dezero-data": {"dezero-core"},
    "dezero-train": {"dezero-core", "dezero-nn", "dezero-data", "dezero-dist"},
    "dezero-dist": {"dezero-core", "dezero-nn", "dezero-data"},
    "dezero-compat": {"dezero-core", "dezero-nn", "dezero-data"},
    "dezero-onnx": {"dezero-core", "dezero-nn"},
}

# Isolated environments: name -> the package whose tests it runs.
ISO_ENVS = {f"iso-{subpackage(name)}": name for name in sorted(EXPECTED_PACKAGES)}

ALL_PACKAGE_ENVS = ["default", "hatch-test", "lint", "bench", "docs"]


def test_workspace_holds_the_five_packages() -> None:
    assert set(packages()) == EXPECTED_PACKAGES


# ----------------------------------------------------------------- namespace layout


def test_no_package_ships_dezero_init() -> None:
    found = ROOT.glob("packages/*/src/dezero/__init__.py")
    offenders = sorted(str(p.relative_to(ROOT)) for p in found)
    assert offenders == [], f"dezero is a PEP 420 namespace; remove {offenders}"


@pytest.mark.parametrize("name", sorted(EXPECTED_PACKAGES))
def test_package_holds_only_its_own_subpackage(name: str) -> None:
    # The wheel ships all of src/dezero, so a stray folder there would leak into it.
    src = packages()[name] / "src" / "dezero"
    entries = sorted(p.name for p in src.iterdir() if p.name != "__pycache__")
    assert entries == [subpackage(name)]


@pytest.mark.parametrize("name", sorted(EXPECTED_PACKAGES))
def test_package_metadata(name: str) -> None:
    config = load_toml(packages()[name] / "pyproject.toml")
    proj = config["project"]
    assert proj["license"] == "MIT"
    assert proj["requires-python"] == ">=3.10"
    assert proj["dynamic"] == ["version"]
    hatch = config["tool"]["hatch"]
    assert hatch["version"]["path"] == f"src/dezero/{subpackage(name)}/__about__.py"
    wheel = hatch["build"]["targets"]["wheel"]
    launcher = {"dezero-train": "_dezero_train.py", "dezero-compat": "_dezero_port.py"}
    if name in launcher:
        # Plus the console script's launcher, which must sit outside the namespace.
        assert wheel["only-include"] == ["src/dezero", f"src/{launcher[name]}"]
        assert wheel["sources"] == ["src"]
    else:
        assert wheel["packages"] == ["src/dezero"]
    for required in ("README.md", "CHANGELOG.md", "LICENSE"):
        assert (packages()[name] / required).is_file(), f"{name}: missing {required}"
    assert (packages()[name] / "src" / "dezero" / subpackage(name) / "py.typed").is_file()


# ----------------------------------------------------------------- dependency declarations


@pytest.mark.parametrize("name", sorted(EXPECTED_PACKAGES))
def test_sibling_dependencies_follow_the_layers(name: str) -> None:
    declared = {canonicalize_name(r.name) for r in sibling_requirements(name)}
    upward_or_sideways = declared - ALLOWED_SIBLINGS[name]
    assert not upward_or_sideways, f"{name} must not depend on {sorted(upward_or_sideways)}"


def _range_cases() -> list[tuple[str, str]]:
    return [
        (name, str(req))
        for name in sorted(packages())
        for req in sibling_requirements(name, optional=True)
    ]


@pytest.mark.parametrize(("name", "requirement"), _range_cases())
def test_sibling_range_admits_the_siblings_current_version(name: str, requirement: str) -> None:
    req = Requirement(requirement)
    sibling = canonicalize_name(req.name)
    version = current_version(sibling)
    assert admits(req, version), (
        f"{name} requires {requirement}, which excludes {sibling} {version} "
        f"(packages/{sibling}/src/dezero/{subpackage(sibling)}/__about__.py). "
        f"Widen the range in packages/{name}/pyproject.toml in the same change (CONTRIBUTING.md)."
    )


def test_sibling_ranges_are_bounded_compatible_ranges() -> None:
    # ">=0.1,<0.2": a lower and an upper bound, so a downstream pin still resolves.
    for name, requirement in _range_cases():
        ops = {spec.operator for spec in Requirement(requirement).specifier}
        assert {">=", "<"} <= ops, f"{name}: {requirement} is not a bounded range"


@pytest.mark.parametrize(
    ("requirement", "version", "expected"),
    [
        ("dezero-core>=0.1,<0.2", "0.1.0", True),
        ("dezero-core>=0.1,<0.2", "0.1.7", True),
        ("dezero-core>=0.1,<0.2", "0.2.0", False),
        ("dezero-core>=0.1,<0.2", "0.0.9", False),
        ("dezero-core>=0.1,<0.3", "0.2.0", True),
        ("dezero-core>=0.2,<0.3", "0.2.0rc1", False),
        ("dezero-core>=0.2rc1,<0.3", "0.2.0rc1", True),
    ],
)
def test_range_check_detects_an_excluded_version(
    requirement: str, version: str, expected: bool
) -> None:
    assert admits(requirement, version) is expected


def test_versions_are_read_from_about() -> None:
    for name in packages():
        assert current_version(name) == project_version_via_hatchling(name)


def project_version_via_hatchling(name: str) -> str:
    from hatchling.metadata.core import ProjectMetadata
    from hatchling.plugin.manager import PluginManager

    metadata = ProjectMetadata(str(packages()[name]), PluginManager())
    return metadata.version


# ----------------------------------------------------------------- hatch environments


@pytest.mark.parametrize(("env", "name"), sorted(ISO_ENVS.items()))
def test_isolated_env_holds_exactly_the_package_and_its_declared_siblings(
    env: str, name: str
) -> None:
    members = [m["name"] for m in env_members(env)]
    assert len(members) == len(set(members)), f"{env}: duplicate members {members}"
    expected = {name} | sibling_closure(name)
    assert set(members) == expected, (
        f"[tool.hatch.envs.{env}] workspace.members must list {sorted(expected)}: "
        f"{name} and the siblings it declares (transitively); it lists {sorted(members)}"
    )


@pytest.mark.parametrize(("env", "name"), sorted(ISO_ENVS.items()))
def test_isolated_env_runs_only_its_packages_tests_without_cupy(env: str, name: str) -> None:
    config = env_config(env)
    assert config.get("template") == env, f"{env} must not inherit from another env"
    command = shlex.split(config["scripts"]["test"])
    # The package's tests run from its own sdist (built, unpacked, run there), then
    # check_isolated.py checks what the environment holds.
    assert command == ["python", "tests/isolated/run_sdist.py", name, "{args}"], command
    assert any(d.startswith("hatchling") for d in config.get("dependencies", [])), (
        f"{env}: run_sdist.py builds the sdist with hatchling; list it in dependencies"
    )
    assert config["env-vars"]["DEZERO_ISOLATED"] == name
    deps = config.get("dependencies", []) + config.get("extra-dependencies", [])
    assert not [d for d in deps if "cupy" in d.lower()], f"{env} must not install CuPy"
    # Extras that complete a package (MPI for dezero-dist) are welcome; CuPy's never.
    cuda_features = [f for m in env_members(env) for f in m["features"] if f.startswith("cuda")]
    assert not cuda_features, f"{env}: no CuPy extras, found {cuda_features}"


@pytest.mark.parametrize("env", ALL_PACKAGE_ENVS)
def test_shared_envs_install_every_package(env: str) -> None:
    assert {m["name"] for m in env_members(env)} == set(packages())


def test_test_env_installs_cupy_so_the_no_gpu_path_is_real() -> None:
    deps = env_config("hatch-test").get("extra-dependencies", [])
    assert any(d.startswith("cupy-cuda12x") for d in deps)


def test_pytest_runs_every_package_and_the_workspace_tests() -> None:
    options = root_config()["tool"]["pytest"]["ini_options"]
    assert "--import-mode=importlib" in options["addopts"]
    assert options["testpaths"] == ["packages/*/tests", "tests"]
