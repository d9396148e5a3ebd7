"""Per-epoch training records: what the Trainer measured, exportable to CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dezero.core.files import atomic_write_text

__all__ = ["History"]


def _cell(v: Any) -> Any:
    # CSV holds plain numbers; None (a column absent in one epoch) becomes an empty cell.
    return "" if v is None else v


class History:
    """A list of per-epoch records (dicts such as ``{"epoch": 1, "loss": 0.34, ...}``).

    ``history["loss"]`` is the column as a list (``None`` where an epoch lacks it),
    ``history[-1]`` the last record.

    Examples:
        >>> h = History()
        >>> h.append({"epoch": 1, "loss": 0.5})
        >>> h["loss"]
        [0.5]
    """

    def __init__(self, records: list[Mapping[str, Any]] | None = None) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in records or []]

    def append(self, record: Mapping[str, Any]) -> None:
        """Add one epoch's record."""
        self.records.append(dict(record))

    @property
    def columns(self) -> list[str]:
        """Every key seen, in first-seen order."""
        cols: dict[str, None] = {}
        for r in self.records:
            cols.update(dict.fromkeys(r))
        return list(cols)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"History: no column {key!r}; columns: {self.columns}")
            return [r.get(key) for r in self.records]
        return self.records[key]

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, columns={self.columns})"

    # ---- export --------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per epoch (header = [`columns`][dezero.train.History.columns]) atomically;
        return the path."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = self.columns
        w.writerow(cols)
        for r in self.records:
            w.writerow([_cell(r.get(c)) for c in cols])
        return atomic_write_text(path, buf.getvalue())

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write ``{"records": [...]}`` atomically; return the path."""
        return atomic_write_text(path, json.dumps(self.state_dict(), indent=1) + "\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> History:
        """Read a file written by [`to_json`][dezero.train.History.to_json]."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        h = cls()
        h.load_state_dict(data)
        return h

    # ---- checkpoints ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-able copy (non-finite floats are kept: Python's json writes NaN)."""
        return {"records": [dict(r) for r in self.records]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        records = state.get("records") if isinstance(state, Mapping) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(
                f"History.load_state_dict: expected {{'records': [dict, ...]}}, "
                f"got {str(state)[:80]!r}"
            )
        self.records = [dict(r) for r in records]

    def best(self, key: str, mode: str = "min") -> dict[str, Any]:
        """The record with the smallest (``mode="min"``) or largest value of ``key``."""
        if mode not in ("min", "max"):
            raise ValueError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        rows = [r for r in self.records if isinstance(r.get(key), (int, float))]
        rows = [r for r in rows if not math.isnan(r[key])]
        if not rows:
            raise KeyError(f"History.best: no finite values for {key!r}")
        pick = min if mode == "min" else max
        return pick(rows, key=lambda r: r[key])
