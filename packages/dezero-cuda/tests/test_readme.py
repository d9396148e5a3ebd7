"""The Python example in the package README runs as written, with or without a GPU."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import dezero.cuda

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_api_example_runs() -> None:
    assert len(BLOCKS) == 1
    ns: dict = {"__name__": "__readme__"}
    exec(compile(BLOCKS[0], "README.md[block 0]", "exec"), ns)
    usable = dezero.cuda.gpu_enable()
    assert ns["ok"] is usable and (ns["reason"] == "") is usable
    if usable:  # the GPU branch ran: x moved, w on device 0
        assert dezero.cuda.backend.is_array(ns["x"].data)
        assert dezero.cuda.backend.device(ns["w"].data) == "cuda:0"
        np.testing.assert_array_equal(dezero.cuda.as_numpy(ns["g"]), np.ones((2, 3)))
    else:
        assert isinstance(ns["x"].data, np.ndarray)
