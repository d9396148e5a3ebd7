"""Run every benchmark: each ``benchmarks/bench_*.py`` module's ``main()``, in name order.

Usage: ``hatch run bench:run [NAME ...]`` where NAME selects ``bench_NAME.py`` modules.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(selected: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if selected:
        found = [p for p in found if p.stem.removeprefix("bench_") in selected]
        missing = set(selected) - {p.stem.removeprefix("bench_") for p in found}
        if missing:
            raise SystemExit(f"run.py: no benchmark named {sorted(missing)} in {HERE.name}/")
    return found


def main(argv: list[str]) -> int:
    modules = discover(argv)
    if not modules:
        print(f"run.py: no bench_*.py modules in {HERE.name}/ yet; nothing to measure")
        return 0
    sys.path.insert(0, str(HERE))  # so benchmarks can share helper modules
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses and pickling look modules up here
        spec.loader.exec_module(module)
        print(f"== {path.stem}", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
