"""Every Python example in the package README runs as written, in order (they share state)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_examples_run_in_order(tmp_path, monkeypatch):
    import dezero.onnx

    monkeypatch.chdir(tmp_path)  # the examples write .onnx files
    assert len(BLOCKS) == 3
    scope = {"__name__": "__readme__"}
    try:
        for i, block in enumerate(BLOCKS):
            exec(compile(block, f"README.md[block {i}]", "exec"), scope)
        assert scope["y"].shape == (5, 10)
        assert (tmp_path / "mlp.onnx").is_file() and (tmp_path / "net.onnx").is_file()
    finally:
        if "Swish" in scope:
            dezero.onnx.unregister(scope["Swish"])
