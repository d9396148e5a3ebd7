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


def _run(python: Path | str, script: Path, cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONWARNINGS="ignore", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    r = subprocess.run([str(python), str(script), *args], capture_output=True, text=True,
                       cwd=cwd, env=env, timeout=600)
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


# An LSTM model's weight file, exchanged with the original both ways: DeZero writes eight
# gate layers per LSTM (rnn/x2f/W ... rnn/h2u/W), compat keeps them fused.
_LSTM_NET = '''
import sys
import numpy as np
import {pkg} as dezero
import {pkg}.layers as L


class Net(dezero.Model):
    def __init__(self):
        super().__init__()
        self.rnn = L.LSTM(4)
        self.fc = L.Linear(1)

    def forward(self, x):
        return self.fc(self.rnn(x))


xs = np.random.RandomState(5).randn(3, 2, 3).astype(np.float32)
np.random.seed(int(sys.argv[1]))
net = Net()
if len(sys.argv) > 2:
    net.load_weights(sys.argv[2])
ys = np.stack([net(x).data for x in xs])
net.save_weights("saved.npz")
np.save("ys.npy", ys)
'''


@pytest.mark.slow
def test_lstm_weight_files_exchange_with_the_original(
    original_python: Path, tmp_path: Path
) -> None:
    import numpy as np

    orig_dir, compat_dir = tmp_path / "original", tmp_path / "compat"
    orig_dir.mkdir()
    compat_dir.mkdir()
    (tmp_path / "orig.py").write_text(_LSTM_NET.format(pkg="dezero"))
    (tmp_path / "compat.py").write_text(_LSTM_NET.format(pkg="dezero.compat"))
    # The original's file, read by compat (whose own draws differ: another seed).
    _run(original_python, tmp_path / "orig.py", orig_dir, "0")
    with np.load(orig_dir / "saved.npz") as f:
        assert "rnn/x2f/W" in f.files and "rnn/h2u/W" in f.files
    expected = np.load(orig_dir / "ys.npy")
    _run(sys.executable, tmp_path / "compat.py", compat_dir, "1")
    assert not np.allclose(np.load(compat_dir / "ys.npy"), expected)  # its own weights
    _run(sys.executable, tmp_path / "compat.py", compat_dir, "1", str(orig_dir / "saved.npz"))
    np.testing.assert_allclose(np.load(compat_dir / "ys.npy"), expected, rtol=1e-5, atol=1e-6)
    # compat's file (written after loading), read by the original.
    _run(original_python, tmp_path / "orig.py", orig_dir, "2", str(compat_dir / "saved.npz"))
    np.testing.assert_allclose(np.load(orig_dir / "ys.npy"), expected, rtol=1e-5, atol=1e-6)
