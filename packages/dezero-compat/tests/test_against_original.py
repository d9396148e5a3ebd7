"""Book-style scripts run under the original DeZero 0.0.13 and under dezero.compat (and
as ``dezero-port`` rewrites them): what they print must agree.

The original runs in its own hatch environment, ``dezero-original`` (DeZero 0.0.13 with
NumPy 1.23.5: it shadows this project's namespace, so it never shares an environment
with it). ``.ci/run`` creates it before ``hatch test``; here it is created when missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _compare import differences

from dezero.compat.port import port_source

BOOK = Path(__file__).parent / "book"
ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = sorted(p.name for p in BOOK.glob("*.py"))
# Float32 training accumulates rounding differently (NumPy 1.23 against 2.x, a fused LSTM
# matrix against DeZero's eight): numbers agree to 1e-5 relative.
RTOL, ATOL = 1e-5, 1e-7


def _env_python() -> Path | None:
    hatch = shutil.which("hatch")
    if hatch is None:
        return None
    # From an unpacked sdist (the isolated runs), the workspace is where hatch knows the env.
    where = os.environ.get("DEZERO_WORKSPACE") or ROOT
    r = subprocess.run([hatch, "env", "find", "dezero-original"], capture_output=True,
                       text=True, cwd=where, timeout=120)
    if r.returncode != 0 or not r.stdout.strip():
        return None
    p = Path(r.stdout.strip().splitlines()[-1]) / "bin" / "python"
    return p


@pytest.fixture(scope="module")
def original_python() -> Path:
    env = os.environ.get("DEZERO_ORIGINAL_PYTHON")
    if env:
        return Path(env)
    py = _env_python()
    if py is not None and not py.exists():
        subprocess.run([shutil.which("hatch") or "hatch", "env", "create", "dezero-original"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    if py is None or not py.exists():
        pytest.fail(
            "the original DeZero is needed as the reference: run `hatch env create "
            "dezero-original` from the repository root (it installs dezero==0.0.13 with "
            "numpy==1.23.5 from PyPI), or set DEZERO_ORIGINAL_PYTHON to a Python that has it"
        )
    return py


def _run(python: Path | str, script: Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONWARNINGS="ignore", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    r = subprocess.run([str(python), str(script)], capture_output=True, text=True, cwd=cwd,
                       env=env, timeout=600)
    assert r.returncode == 0, f"{script.name} failed under {python}:\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def reference(original_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cwd = tmp_path_factory.mktemp("original")
    out = {name: _run(original_python, BOOK / name, cwd) for name in SCRIPTS}
    # The reference really is the original: its dezero is a regular package, version 0.0.13.
    probe = subprocess.run(
        [str(original_python), "-c", "import dezero; print(dezero.__version__, dezero.__file__)"],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )
    assert probe.stdout.startswith("0.0.13 ") and "__init__.py" in probe.stdout, probe
    return out


def test_there_are_book_scripts() -> None:
    assert {"define_by_run.py", "higher_order.py", "newton.py", "spiral_mlp.py",
            "lstm_sine.py"} <= set(SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("compat_only", [True, False], ids=["compat", "ported"])
@pytest.mark.parametrize("name", SCRIPTS)
def test_script_prints_what_the_original_prints(
    name: str, compat_only: bool, reference: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / name
    ported = port_source((BOOK / name).read_text(), compat_only=compat_only)
    assert "import dezero\n" not in ported.source
    script.write_text(ported.source)
    got = _run(sys.executable, script, tmp_path)
    expected = reference[name]
    assert expected.strip(), f"{name} printed nothing under the original"
    diff = differences(expected, got, RTOL, ATOL)
    assert not diff, f"{name} ({'compat' if compat_only else 'ported'}):\n" + "\n".join(diff)
