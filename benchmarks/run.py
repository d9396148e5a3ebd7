"""Run every benchmark: each ``benchmarks/bench_*.py`` module's ``main()``, in name order.

Usage: ``hatch run bench:run [NAME ...]`` where NAME selects ``bench_NAME.py`` modules.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
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
    failed = []
    for path in modules:
        print(f"== {path.stem}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses and pickling look modules up here
        saved_argv = sys.argv
        # Benchmarks that parse their own options must not see the runner's name filter.
        sys.argv = [str(path)]
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            module.main()
        except Exception:  # one broken benchmark must not hide the others' tables
            traceback.print_exc()
            failed.append(path.stem)
        finally:
            sys.argv = saved_argv
        print(f"== {path.stem}: {time.perf_counter() - t0:.1f} s", flush=True)
    if failed:
        print(f"run.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
