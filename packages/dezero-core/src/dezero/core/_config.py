"""Per-thread configuration: whether to record graphs, whether we are training."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Config", "using_config", "no_grad", "test_mode"]

_F = TypeVar("_F", bound=Callable[..., Any])


class _Config(threading.local):
    """Settings read by the engine; each thread starts from the defaults."""

    enable_backprop: bool = True
    train: bool = True

    def __repr__(self) -> str:
        return f"Config(enable_backprop={self.enable_backprop}, train={self.train})"


#: The configuration of the current thread (attributes ``enable_backprop``, ``train``).
Config = _Config()


class using_config(contextlib.ContextDecorator):
    """Set ``Config.<name> = value`` inside a ``with`` block or a decorated function.

    The previous value comes back on exit, also when an exception escapes.
    """

    def __init__(self, name: str, value: Any) -> None:
        if name not in ("enable_backprop", "train"):
            raise AttributeError(
                f"using_config: unknown setting {name!r}; known: 'enable_backprop', 'train'"
            )
        self.name = name
        self.value = value
        self._saved: list[Any] = []

    def _recreate_cm(self) -> using_config:
        # A fresh object per decorated call, so concurrent calls never share the saved stack.
        return using_config(self.name, self.value)

    def __enter__(self) -> using_config:
        self._saved.append(getattr(Config, self.name))
        setattr(Config, self.name, self.value)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(Config, self.name, self._saved.pop())


def no_grad(func: _F | None = None) -> Any:
    """Record no graph: ``with no_grad(): ...``, ``@no_grad()`` or ``@no_grad``."""
    cm = using_config("enable_backprop", False)
    return cm if func is None else cm(func)


def test_mode() -> using_config:
    """Evaluation behaviour (dropout off, batch norm on running statistics)."""
    return using_config("train", False)


test_mode.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
