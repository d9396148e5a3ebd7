"""Every Python example in the package README runs, and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_examples_run_and_print_what_they_say():
    assert len(BLOCKS) >= 2
    for block in BLOCKS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
        printed = [line.strip() for line in out.getvalue().splitlines()]
        promised = [c.strip() for c in re.findall(r"print\(.*?\)\s*#\s*(.*)", block)]
        for want in promised:
            assert want in printed, (want, printed)
