"""Every example's ``--quick`` run: exits 0, draws pictures that are not blank, and learns.

Each runs in its own process (as a user would run it), writing to a temporary ``--out``.
The thresholds are what a working framework reaches in the quick run with a wide margin;
a broken gradient, optimizer or data pipeline misses them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# example -> (pictures it writes, {metric: (comparison, threshold)})
CASES = {
    "spiral": (["spiral.png"], {"accuracy": (">", 0.8), "loss": ("<", 0.5)}),
    "mnist_mlp": (["history.png"], {"test_acc": (">", 0.8)}),
    "cnn_fashion_mnist": (["history.png", "misclassified.png"], {"test_acc": (">", 0.6)}),
    "lstm_sincurve": (["prediction.png"], {"test_mse": ("<", 0.02)}),
    "vae_mnist": (["latent_grid.png", "reconstructions.png"], {"test_loss": ("<", 230.0)}),
    "gan_mnist": (["samples.png"], {"d_real": (">", 0.5)}),
    "newton_higher_order": (
        ["newton.png", "tanh_derivatives.png", "tanh_grad_graph.png"],
        {"newton_steps": ("<", 10), "x_final": ("~", 1.0)},
    ),
    "conv_feature_maps": (["filters.png", "feature_maps.png"], {"test_acc": (">", 0.7)}),
    "resume_after_kill": (["resume.png"], {"bitwise_equal": ("~", 1.0)}),
    "data_parallel": (["ranks.png"], {"dp_test_acc": (">", 0.8), "single_test_acc": (">", 0.8)}),
}


def _not_blank(path: Path) -> None:
    import matplotlib.image as mpimg

    img = np.asarray(mpimg.imread(path), dtype=np.float64)
    gray = img[..., :3].mean(axis=-1) if img.ndim == 3 else img
    assert gray.shape[0] >= 100 and gray.shape[1] >= 100, f"{path.name}: {gray.shape} too small"
    assert gray.std() > 0.05, f"{path.name} is (nearly) blank: pixel std {gray.std():.4f}"
    # Not just axes on white: a good share of the picture is drawn.
    assert (gray < 0.9).mean() > 0.02, f"{path.name}: almost nothing drawn"


def _check(name: str, value: float, op: str, threshold: float) -> None:
    if op == ">":
        assert value > threshold, f"{name} = {value}, expected > {threshold}"
    elif op == "<":
        assert value < threshold, f"{name} = {value}, expected < {threshold}"
    else:
        assert abs(value - threshold) < 1e-6, f"{name} = {value}, expected {threshold}"


# Examples that need a piece of the operating system (see the README's table).
SYSTEM = {"cnn_fashion_mnist": "fashion-mnist", "newton_higher_order": "dot"}


def _params() -> list:
    return [
        pytest.param(n, marks=pytest.mark.requires_system(SYSTEM[n])) if n in SYSTEM else n
        for n in sorted(CASES)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", _params())
def test_example_quick_run(name: str, tmp_path: Path) -> None:
    pictures, thresholds = CASES[name]
    out = tmp_path / name
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    for picture in pictures:
        _not_blank(out / picture)
    metrics = json.loads((out / "metrics.json").read_text())
    for metric, (op, threshold) in thresholds.items():
        _check(metric, float(metrics[metric]), op, threshold)


def test_every_example_is_tested() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(CASES), f"untested examples: {sorted(scripts - set(CASES))}"
