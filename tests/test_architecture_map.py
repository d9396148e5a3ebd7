"""ARCHITECTURE.md's "Where things live" table names files and folders that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _table_paths() -> list[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    paths = []
    for row in rows:
        for code in re.findall(r"`([^`]+)`", row):
            if "/" in code and " " not in code and (code.startswith("dezero-") or "." in code):
                paths.append(code)
    return paths


def _exists(path: str) -> bool:
    # "dezero-nn/.../nn/weights.py" is packages/dezero-nn/src/dezero/nn/weights.py, and
    # "<kind>" stands for any name.
    if path.startswith("dezero-"):
        pkg, _, rest = path.partition("/")
        path = f"packages/{pkg}/src/dezero/{rest[4:]}" if rest.startswith(".../") else (
            f"packages/{pkg}/{rest}")
    pattern = re.sub(r"<\w+>", "*", path.rstrip("/"))
    return any(ROOT.glob(pattern))


def test_every_path_in_the_map_exists():
    paths = _table_paths()
    assert len(paths) >= 20, paths
    missing = [p for p in paths if not _exists(p)]
    assert not missing, f"ARCHITECTURE.md names paths that do not exist: {missing}"
