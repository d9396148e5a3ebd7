"""No package but dezero-cuda knows what a CuPy array looks like.

Everything device-specific goes through dezero.core's backend registry (``device_of``,
``on_device_of``, ``to_device``, ``random.uniform``...). This test reads the syntax tree
of every source file of every package and refuses, outside dezero-cuda, the ways CuPy
knowledge creeps in: importing or naming CuPy, reading an array's ``.device.id``,
probing for a ``device`` attribute, drawing from ``xp.random``, and branching on a
backend's name. Docstrings and comments may mention CuPy; code may not.

The one documented exception (ARCHITECTURE.md, Layers): dezero-dist's NCCL communicator,
which carries GPU gradients through CuPy's NCCL binding.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_CUPY_MODULES = {"cupy", "cupyx", "cupy_backends"}
_BACKEND_NAMES = {"numpy", "cupy", "host-gpu"}


def _allowed(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return rel.startswith("packages/dezero-cuda/") or (
        rel.startswith("packages/dezero-dist/") and "nccl" in path.name
    )


# Knowledge a file may hold by design, with the reason.
_BY_DESIGN = {
    # DeZero's dezero.cuda has a `cupy` attribute; compat mirrors that layout by name. It
    # holds whatever module the backend registry's GPU backend uses; nothing is imported.
    "packages/dezero-compat/src/dezero/compat/cuda.py": ("spells 'cupy'",),
}


def _unexpected(path: Path, found: list[str]) -> list[str]:
    allowed = _BY_DESIGN.get(path.relative_to(ROOT).as_posix(), ())
    return [f for f in found if not any(a in f for a in allowed)]


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.glob("packages/*/src/**/*.py") if not _allowed(p))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _is_cupy_string(value: object) -> bool:
    return isinstance(value, str) and value.split(".")[0] in _CUPY_MODULES


def cupy_knowledge(source: str) -> list[str]:
    """Each place in ``source`` that knows CuPy, as ``"line N: what"``."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"line {node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in _CUPY_MODULES:
                    hit(node, f"imports {a.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] in _CUPY_MODULES:
                hit(node, f"imports from {node.module}")
        elif isinstance(node, ast.Name) and node.id in _CUPY_MODULES:
            hit(node, f"names {node.id}")
        elif isinstance(node, ast.Attribute):
            if node.attr in _CUPY_MODULES:
                hit(node, f"names .{node.attr}")
            if node.attr == "id" and isinstance(node.value, ast.Attribute) and (
                node.value.attr == "device"
            ):
                hit(node, "reads an array's .device.id")
            if node.attr == "random" and (
                (isinstance(node.value, ast.Name) and node.value.id == "xp")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "xp")
            ):
                hit(node, "draws from xp.random (use dezero.core.random)")
        elif isinstance(node, ast.Constant) and id(node) not in docs and _is_cupy_string(
            node.value
        ):
            hit(node, f"spells {node.value!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
            node.func.id in ("getattr", "hasattr")
        ):
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and (
                node.args[1].value in ("device", "id")
            ):
                hit(node, f"probes for a {node.args[1].value!r} attribute by duck typing")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names = [s for s in sides if isinstance(s, ast.Attribute) and s.attr == "name"]
            consts = [s for s in sides if isinstance(s, ast.Constant)
                      and s.value in _BACKEND_NAMES]
            if names and consts:
                hit(node, f"branches on a backend's name ({consts[0].value!r})")
    return found


@pytest.mark.parametrize(
    "code",
    [
        "import cupy",
        "import cupyx.scatter_add",
        "from cupy import ndarray",
        "m = importlib.import_module('cupy')",
        "isinstance(x, sys.modules['cupy'].ndarray)",
        "n = x.device.id",
        "n = getattr(getattr(x, 'device', None), 'id', None)",
        "ok = hasattr(x, 'device')",
        "u = xp.random.random_sample(3)",
        "u = b.xp.random.random_sample(3)",
        "if b.name == 'numpy':\n    pass",
        "gpu = 'cupy' != backend.name",
    ],
)
def test_the_check_sees_each_kind_of_cupy_knowledge(code):
    assert cupy_knowledge(code), code


@pytest.mark.parametrize(
    "code",
    [
        '"""Works with cupy.ndarray too."""',
        "def f(x):\n    'On cupy arrays as well.'\n    return device_of(x)",
        "# cupy.random is not used\nu = random.uniform(x.shape, x.dtype, device=device_of(x))",
        "y = on_device_of(w, x)",
        "if layer.name == 'l1':\n    pass",
    ],
)
def test_the_check_lets_device_generic_code_pass(code):
    assert cupy_knowledge(code) == [], code


def test_the_check_reads_every_package():
    files = _sources()
    packages = {p.relative_to(ROOT).parts[1] for p in files}
    assert {"dezero-core", "dezero-nn", "dezero-data", "dezero-train"} <= packages
    assert "dezero-cuda" not in packages


def test_no_source_outside_dezero_cuda_knows_cupy():
    problems = []
    for path in _sources():
        for where in _unexpected(path, cupy_knowledge(path.read_text(encoding="utf-8"))):
            problems.append(f"{path.relative_to(ROOT)}: {where}")
    assert not problems, "CuPy knowledge outside dezero-cuda:\n" + "\n".join(problems)
