"""Loss and accuracy per epoch (train and test) in one figure: the paper's Figure 7.

matplotlib is imported only when a figure is drawn (it is slow to import), and files
are drawn with the Agg canvas, so no display is ever needed to save one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dezero.core.files import atomic_write
from dezero.train.history import History

__all__ = ["history_figure", "plot_history", "display_available"]


def display_available() -> bool:
    """Whether an interactive window could be shown (a display and an interactive session)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


def _metric_names(history: History) -> list[str]:
    cols = history.columns
    return [c for c in cols if c not in ("epoch", "loss", "time", "lr") and not
            c.startswith("test_")]


def _draw(fig: Any, history: History) -> None:
    epochs = history["epoch"] if len(history) else []
    cols = history.columns
    metrics = _metric_names(history)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for key, label in (("loss", "train"), ("test_loss", "test")):
        if key in cols:
            ax_loss.plot(epochs, history[key], marker="o", label=label)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("loss")
    name = "acc" if "acc" in metrics else (metrics[0] if metrics else None)
    if name is not None:
        for key, label in ((name, "train"), (f"test_{name}", "test")):
            if key in cols:
                ax_acc.plot(epochs, history[key], marker="o", label=label)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy" if name == "acc" else (name or "metric"))
    ax_acc.set_title("accuracy" if name == "acc" else (name or "metric"))
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
        # Epochs are whole numbers: no 1.5 ticks on short runs.
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()


def history_figure(history: History) -> Any:
    """A ``matplotlib.figure.Figure`` (two axes: loss, accuracy) without pyplot state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    _draw(fig, history)
    return fig


def plot_history(
    history: History, path: str | os.PathLike[str], show: bool | None = None
) -> Path:
    """Draw ``history`` to a PNG at ``path`` (atomically) and return the path.

    ``show=None`` opens a window only in an interactive session with a display.
    """
    if not isinstance(history, History):
        raise TypeError(f"plot_history: expected a History, got {type(history).__name__}")
    path = Path(path)
    if show is None:
        show = display_available()
    if show:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 4), dpi=100)
        _draw(fig, history)
    else:
        fig = history_figure(history)
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    if show:
        plt.show(block=False)
    return path
