"""Progress display: a tqdm bar per epoch on a terminal, plain epoch lines elsewhere."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["Progress", "format_epoch_line"]


def format_epoch_line(epoch: int, max_epoch: int, record: dict[str, Any]) -> str:
    """``epoch 1/5  loss 0.3412  acc 0.9012  test_loss 0.2914  test_acc 0.9187  time 4.21s``."""
    width = len(str(max_epoch))
    parts = [f"epoch {epoch:>{width}}/{max_epoch}"]
    for key, value in record.items():
        if key in ("epoch", "time", "lr") or not isinstance(value, (int, float)):
            continue
        parts.append(f"{key} {value:.4f}")
    if "time" in record:
        parts.append(f"time {record['time']:.2f}s")
    return "  ".join(parts)


class Progress:
    """One bar per epoch (when ``mode`` allows it) and one printed line per finished epoch.

    Args:
        mode: ``True`` (bar when stderr is a terminal, lines always), ``"bar"`` (bar even
            when stderr is not a terminal), ``"lines"`` (no bar) or ``False`` (silent).
        stream: where epoch lines go (default: ``sys.stdout`` at print time).
    """

    def __init__(self, mode: bool | str = True, stream: TextIO | None = None) -> None:
        if mode not in (True, False, "bar", "lines"):
            raise ValueError(
                f"Progress: mode must be True, False, 'bar' or 'lines', got {mode!r}"
            )
        self.mode = mode
        self.stream = stream
        self._bar: Any = None

    def _want_bar(self) -> bool:
        if self.mode == "bar":
            return True
        if self.mode is True:
            err = sys.stderr
            return err is not None and hasattr(err, "isatty") and err.isatty()
        return False

    def begin_epoch(self, epoch: int, max_epoch: int, total: int | None, initial: int) -> None:
        if not self._want_bar():
            return
        # Imported on first use: most callers never draw a bar.
        from tqdm import tqdm  # type: ignore[import-untyped]

        self._bar = tqdm(
            total=total, initial=initial, desc=f"epoch {epoch}/{max_epoch}",
            leave=False, dynamic_ncols=True, unit="batch",
        )

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def set_loss(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def end_epoch(self, line: str | None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if line is not None and self.mode is not False:
            print(line, file=self.stream or sys.stdout, flush=True)

    def message(self, text: str) -> None:
        """A line that must be seen even with the bar drawing (warnings, stops)."""
        if self.mode is False:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream or sys.stdout)
        else:
            print(text, file=self.stream or sys.stdout, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
