"""Metric accumulation: per-name (sum, count) pairs that give exact means and merge exactly.

The Trainer adds each batch's mean loss and metrics weighted by the batch size, so the
epoch mean is the mean over samples whatever the batch sizes were. Keeping raw sums and
counts (not running means) is what lets several summaries be combined exactly: two
halves of an epoch, or the shards of a data-parallel run reduced across ranks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dezero.core import Variable

__all__ = ["Summary", "scalar"]


def scalar(owner: str, what: str, value: Any) -> Any:
    """The one value held by ``value`` (a Variable, array, NumPy scalar or number), on its device.

    Raises a ``ValueError`` naming ``what`` when ``value`` holds more than one number.
    """
    data = value.data if isinstance(value, Variable) else value
    if data is None:
        raise ValueError(f"{owner}: {what} is a Variable without data")
    size = getattr(data, "size", 1)
    if size != 1:
        shape = tuple(getattr(data, "shape", ()))
        raise ValueError(
            f"{owner}: {what} must be a scalar (one number per batch, such as the batch "
            f"mean), got shape {shape}; reduce it, e.g. with F.sum(...) / len(t) or F.mean"
        )
    if hasattr(data, "reshape") and getattr(data, "ndim", 0) != 0:
        data = data.reshape(())
    return data


def _is_narrow(data: Any) -> bool:
    """Whether ``data`` is float32 (or narrower): about 7 significant digits hold."""
    dtype = getattr(data, "dtype", None)
    return dtype is not None and dtype.kind == "f" and dtype.itemsize <= 4


class Summary:
    """Weighted sums and counts per name; [`means`][dezero.train.Summary.means] turns them into a
    record.

    Sums stay on the device of the values added (no host synchronisation per batch);
    they are read once, by [`means`][dezero.train.Summary.means] or
    [`state_dict`][dezero.train.Summary.state_dict].

    Examples:
        >>> s = Summary()
        >>> s.add({"loss": 0.5}, 10)
        >>> s.add({"loss": 0.2}, 30)
        >>> s.means()
        {'loss': 0.275}
    """

    def __init__(self) -> None:
        self.sums: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.narrow: dict[str, bool] = {}  # per name: were its values float32?

    def add(self, values: Mapping[str, Any], n: int) -> None:
        """Add batch means ``values`` (scalars, 0-d arrays or Variables) for ``n`` samples."""
        for name, value in values.items():
            data = scalar("Summary.add", repr(name), value)
            if name not in self.sums:
                self.sums[name] = 0.0
                self.counts[name] = 0
                self.narrow[name] = _is_narrow(data)
            if hasattr(data, "astype"):  # float64 on its own device
                weighted = data.astype("float64") * n
            else:
                weighted = float(data) * n
            self.sums[name] = self.sums[name] + weighted
            self.counts[name] += n

    @property
    def count(self) -> int:
        """Samples seen (the largest count of any name)."""
        return max(self.counts.values(), default=0)

    def __bool__(self) -> bool:
        return self.count > 0

    def merge(self, other: Summary) -> None:
        """Add ``other``'s sums and counts to this summary's (exact, order-independent counts)."""
        for name, total in other.sums.items():
            if name not in self.sums:
                self.sums[name] = 0.0
                self.counts[name] = 0
                self.narrow[name] = other.narrow.get(name, False)
            self.sums[name] = self.sums[name] + total
            self.counts[name] += other.counts[name]

    def means(self) -> dict[str, float]:
        """``{name: sum / count}`` as Python floats, shown to the precision the inputs had.

        float32 batch values summed in float64 give means such as 0.8309999942779541 for
        an accuracy of 0.831; keeping 7 significant digits (what float32 carries) records
        0.831. The sums stay exact, so a resumed run rounds the same numbers the same way.
        """
        out = {}
        for name, total in self.sums.items():
            v = float(total) / self.counts[name] if self.counts[name] else math.nan
            out[name] = float(f"{v:.7g}") if self.narrow[name] and math.isfinite(v) else v
        return out

    # ---- state ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-able: ``{"sums": {...}, "counts": {...}, "narrow": [names]}``."""
        return {
            "sums": {k: float(v) for k, v in self.sums.items()},
            "counts": dict(self.counts),
            "narrow": sorted(k for k, v in self.narrow.items() if v),
        }

    @staticmethod
    def check_state_dict(state: Any) -> None:
        """Raise ``ValueError`` unless ``state`` is a well-formed
        [`state_dict`][dezero.train.Summary.state_dict]."""
        owner = "Summary.load_state_dict"
        if not isinstance(state, Mapping) or set(state) != {"sums", "counts", "narrow"}:
            raise ValueError(f"{owner}: expected keys sums, counts, narrow; got {state!r:.80}")
        sums, counts, narrow = state["sums"], state["counts"], state["narrow"]
        if not isinstance(sums, Mapping) or not isinstance(counts, Mapping) or set(sums) != set(
            counts
        ):
            raise ValueError(f"{owner}: sums and counts must name the same columns")
        for k, v in sums.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValueError(f"{owner}: sum of {k!r} must be a number, got {v!r}")
        for k, c in counts.items():
            if not isinstance(c, int) or isinstance(c, bool) or c < 0:
                raise ValueError(f"{owner}: count of {k!r} must be an int >= 0, got {c!r}")
        if not isinstance(narrow, list) or any(n not in sums for n in narrow):
            raise ValueError(f"{owner}: narrow must list columns of sums, got {narrow!r}")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.check_state_dict(state)
        self.sums = {k: float(v) for k, v in state["sums"].items()}
        self.counts = {k: int(v) for k, v in state["counts"].items()}
        self.narrow = {k: k in state["narrow"] for k in self.sums}
