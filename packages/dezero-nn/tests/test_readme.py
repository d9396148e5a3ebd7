"""Every Python example in the package README runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples_for_each_section():
    text = README.read_text(encoding="utf-8")
    for heading in ("## Functions", "## Layers", "## Models", "## Initializers",
                    "## Weight files", "## Optimizers", "### Learning-rate schedules"):
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert "```python" in section, f"no example under {heading!r}"


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_example_runs(i, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write weight files
    exec(compile(BLOCKS[i], f"README.md[block {i}]", "exec"), {"__name__": "__readme__"})
