"""Read the workspace's own metadata: packages, versions, sibling requirements, hatch envs."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_DIR = ROOT / "packages"

_VERSION_RE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


@cache
def root_config() -> dict[str, Any]:
    return load_toml(ROOT / "pyproject.toml")


@cache
def packages() -> dict[str, Path]:
    """Distribution name -> package folder, for every folder under packages/."""
    found = {}
    for pyproject in sorted(PACKAGES_DIR.glob("*/pyproject.toml")):
        name = canonicalize_name(load_toml(pyproject)["project"]["name"])
        found[name] = pyproject.parent
    return found


def project(name: str) -> dict[str, Any]:
    return load_toml(packages()[name] / "pyproject.toml")["project"]


def subpackage(name: str) -> str:
    """The import subpackage of a distribution: ``dezero-core`` -> ``core``."""
    return name.removeprefix("dezero-")


def about_path(name: str) -> Path:
    return packages()[name] / "src" / "dezero" / subpackage(name) / "__about__.py"


def current_version(name: str) -> str:
    match = _VERSION_RE.search(about_path(name).read_text(encoding="utf-8"))
    if match is None:
        raise AssertionError(f"{about_path(name)}: no __version__ = '...' line")
    return match.group(1)


def sibling_requirements(name: str, *, optional: bool = False) -> list[Requirement]:
    """The requirements of ``name`` on other workspace packages.

    ``optional=True`` adds those of its extras (``dezero-train[cuda12]`` -> ``dezero-cuda``).
    """
    proj = project(name)
    reqs = [Requirement(r) for r in proj.get("dependencies", [])]
    if optional:
        for extra in proj.get("optional-dependencies", {}).values():
            reqs.extend(Requirement(r) for r in extra)
    return [r for r in reqs if canonicalize_name(r.name) in packages()]


def sibling_closure(name: str) -> set[str]:
    """Every workspace package that installing ``name`` pulls in (not counting itself)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for req in sibling_requirements(todo.pop()):
            dep = canonicalize_name(req.name)
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    seen.discard(name)
    return seen


def admits(requirement: str | Requirement, version: str) -> bool:
    """Whether ``requirement``'s range admits ``version`` (pre-releases included)."""
    req = requirement if isinstance(requirement, Requirement) else Requirement(requirement)
    return req.specifier.contains(Version(version), prereleases=True)


def env_config(env: str) -> dict[str, Any]:
    return root_config()["tool"]["hatch"]["envs"][env]


def env_members(env: str) -> list[dict[str, Any]]:
    """An env's workspace members as ``{"name", "path", "features"}``, globs expanded."""
    members = []
    for entry in env_config(env).get("workspace", {}).get("members", []):
        spec = {"path": entry} if isinstance(entry, str) else entry
        paths = sorted(p for p in ROOT.glob(spec["path"]) if (p / "pyproject.toml").is_file())
        if not paths:
            raise AssertionError(f"env {env!r}: member {spec['path']!r} matches no package")
        for path in paths:
            name = canonicalize_name(load_toml(path / "pyproject.toml")["project"]["name"])
            members.append({"name": name, "path": path, "features": spec.get("features", [])})
    return members
