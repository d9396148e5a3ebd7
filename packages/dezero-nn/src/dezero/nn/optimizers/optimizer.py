"""Optimizer: the base class, with hooks and state saved by parameter name."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dezero.core import Parameter
from dezero.core import backend as _backend

__all__ = ["Optimizer", "check_positive", "check_nonnegative", "check_unit_interval"]

Hook = Callable[[list[tuple[str, Parameter]]], Any]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def check_positive(owner: str, what: str, v: Any) -> float:
    if not _is_number(v) or not (v > 0) or not math.isfinite(v):
        raise ValueError(f"{owner}: invalid {what}: {v}")
    return float(v)


def check_nonnegative(owner: str, what: str, v: Any) -> float:
    if not _is_number(v) or not (v >= 0) or not math.isfinite(v):
        raise ValueError(f"{owner}: invalid {what}: {v}")
    return float(v)


def check_unit_interval(owner: str, what: str, v: Any) -> float:
    """``0 <= v < 1`` (decay rates, momenta)."""
    if not _is_number(v) or not (0.0 <= v < 1.0):
        raise ValueError(f"{owner}: invalid {what}: {v}")
    return float(v)


def _follow_param(state: dict[str, Any], dev: _backend.Device) -> None:
    """Move ``state``'s arrays to ``dev``, where the parameter now lives (after
    ``to_gpu``/``to_cpu``): the next update would otherwise mix devices. 0-d step counters
    are host bookkeeping and stay put."""
    for k, v in state.items():
        if getattr(v, "ndim", 0) != 0:
            state[k] = _backend.to_device(v, dev)


class Optimizer:
    """Base class: ``setup(model)``, then ``update()`` after each ``backward()``.

    Subclasses set ``lr_name`` (the attribute schedules drive), ``hyper_names`` (saved
    in [`state_dict`][dezero.nn.optimizers.Optimizer.state_dict]) and implement
    ``update_one(name, param, state)``, where ``state`` is a dict of arrays (and 0-d step counts)
    private to that parameter, kept under the parameter's dotted name so it can be saved and
    restored.

    Parameters whose ``grad`` is None are skipped (frozen or unused this step).
    State arrays follow their parameter when the model moves to another device between
    updates (another GPU included): each is moved before the parameter's next update. The
    optimizer remembers each parameter's device, so a model that stays put costs one
    device lookup per parameter and update, and no copy.
    Hooks run before the update, in the order added, on the list of
    ``(name, param)`` pairs that have a gradient; they may replace ``param.grad``
    (or set it to None to skip the parameter).
    """

    lr_name: str = "lr"
    hyper_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.target: Any = None
        self.hooks: list[Hook] = []
        self.state: dict[str, dict[str, Any]] = {}
        self.t = 0  # number of update() calls
        # The device each parameter's state was last used on (not saved: state_dict() holds
        # host copies, and load_state_dict() places them by the parameter).
        self._state_device: dict[str, _backend.Device] = {}

    def setup(self, target: Any) -> Optimizer:
        """Attach to ``target`` (a Layer or Model); returns self for chaining."""
        if not hasattr(target, "named_params"):
            raise TypeError(
                f"{type(self).__name__}.setup: target must be a Layer (with named_params()), "
                f"got {type(target).__name__}"
            )
        self.target = target
        return self

    def add_hook(self, hook: Hook) -> Optimizer:
        """Run ``hook(named_params_with_grad)`` before every update; returns self."""
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}.add_hook: hook must be callable")
        self.hooks.append(hook)
        return self

    def update(self) -> None:
        """One optimisation step over every parameter that has a gradient."""
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}.update: call setup(model) first")
        named = [(n, p) for n, p in self.target.named_params() if p.grad is not None]
        for hook in self.hooks:
            hook(named)
        self.t += 1
        for name, p in named:
            if p.grad is None:  # a hook froze it
                continue
            st = self.state.get(name)
            if st is None:
                st = self.state[name] = {}
            dev = _backend.device_of(p.data)
            if self._state_device.get(name) != dev:
                if st:
                    _follow_param(st, dev)
                self._state_device[name] = dev
            self.update_one(name, p, st)

    def update_one(self, name: str, param: Parameter, state: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__}.update_one is not implemented")

    # ---- state -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Host copies: ``"t"``, ``"hyper/<name>"`` and ``"state/<param>/<key>"`` arrays."""
        out: dict[str, np.ndarray] = {"t": np.array(self.t, dtype=np.int64)}
        for h in self.hyper_names:
            out[f"hyper/{h}"] = np.array(getattr(self, h), dtype=np.float64)
        for pname, st in self.state.items():
            for k, v in st.items():
                out[f"state/{pname}/{k}"] = np.array(_backend.to_cpu(v), copy=True)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what [`state_dict`][dezero.nn.optimizers.Optimizer.state_dict] returned, exactly;
        on any error nothing changes.

        State arrays go to the device of the parameter of the same name when the
        optimizer is set up, and must have its shape.
        """
        cls = type(self).__name__
        if "t" not in state:
            raise ValueError(f"{cls}.load_state_dict: missing entry 't'")
        params = dict(self.target.named_params()) if self.target is not None else {}
        new_state: dict[str, dict[str, Any]] = {}
        hyper: dict[str, float] = {}
        for key, raw in state.items():
            arr = np.asarray(_backend.to_cpu(raw))
            if key == "t":
                continue
            if key.startswith("hyper/"):
                h = key[len("hyper/"):]
                if h not in self.hyper_names:
                    raise ValueError(f"{cls}.load_state_dict: unexpected hyper-parameter {h!r}")
                hyper[h] = float(arr)
                continue
            if not key.startswith("state/") or key.count("/") < 2:
                raise ValueError(f"{cls}.load_state_dict: unexpected entry {key!r}")
            pname, k = key[len("state/"):].rsplit("/", 1)
            p = params.get(pname)
            if self.target is not None and p is None:
                raise ValueError(
                    f"{cls}.load_state_dict: state for {pname!r}, which the model does not have"
                )
            value = arr.copy()
            if p is not None and p.data is not None and value.ndim > 0:
                if value.shape != p.data.shape:
                    raise ValueError(
                        f"{cls}.load_state_dict: shape mismatch for {key!r}: parameter "
                        f"{pname!r} is {tuple(p.data.shape)}, the state has {value.shape}"
                    )
                value = _backend.on_device_of(value, p.data)
            new_state.setdefault(pname, {})[k] = value
        self.t = int(np.asarray(state["t"]))
        for h, v in hyper.items():
            setattr(self, h, v)
        self.state = new_state
        self._state_device = {}  # placed by parameter above, or moved at the next update

    def __repr__(self) -> str:
        hp = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyper_names)
        return f"{type(self).__name__}({hp})"
