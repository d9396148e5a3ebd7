"""Learning-rate schedules: objects that set an optimizer's rate once per epoch.

A schedule reads the optimizer's base rate (the attribute named by ``optimizer.lr_name``)
when created, sets the rate for epoch 0 at once, and sets the next epoch's rate on each
[`Schedule.step`][dezero.nn.optimizers.Schedule.step]. Use it in a hand-written loop or hand it to
the Trainer:

```python
sched = CosineLR(opt, t_max=10)
for epoch in range(10):
    train_one_epoch()
    sched.step()
```
"""

from __future__ import annotations

import math
from typing import Any

from dezero.nn.optimizers.optimizer import check_nonnegative, check_positive

__all__ = ["Schedule", "StepLR", "ExponentialLR", "CosineLR", "LinearWarmup"]


class Schedule:
    """Base class: subclasses implement ``rate(epoch) -> float``."""

    def __init__(self, optimizer: Any) -> None:
        name = getattr(optimizer, "lr_name", None)
        if name is None or not hasattr(optimizer, name):
            raise TypeError(
                f"{type(self).__name__}: optimizer must have an 'lr_name' attribute naming "
                f"its learning rate, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = float(getattr(optimizer, name))
        self.epoch = 0
        self._apply()

    def rate(self, epoch: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        setattr(self.optimizer, self.optimizer.lr_name, self.rate(self.epoch))

    def step(self) -> float:
        """Advance one epoch and set the optimizer's rate; returns the new rate."""
        self.epoch += 1
        self._apply()
        return self.current_lr

    @property
    def current_lr(self) -> float:
        return float(getattr(self.optimizer, self.optimizer.lr_name))

    def state_dict(self) -> dict[str, Any]:
        """JSON-able: the epoch and base rate."""
        return {"epoch": self.epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        epoch, base = int(state["epoch"]), float(state["base_lr"])
        if epoch < 0:
            raise ValueError(f"{type(self).__name__}.load_state_dict: invalid epoch {epoch}")
        self.epoch, self.base_lr = epoch, base
        self._apply()


class StepLR(Schedule):
    """``base * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: invalid step_size: {step_size}")
        self.step_size = step_size
        self.gamma = check_positive("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(Schedule):
    """``base * gamma ** epoch``."""

    def __init__(self, optimizer: Any, gamma: float) -> None:
        self.gamma = check_positive("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineLR(Schedule):
    """``eta_min + (base - eta_min) * (1 + cos(pi * min(epoch, t_max) / t_max)) / 2``."""

    def __init__(self, optimizer: Any, t_max: int, eta_min: float = 0.0) -> None:
        if isinstance(t_max, bool) or not isinstance(t_max, int) or t_max < 1:
            raise ValueError(f"CosineLR: invalid t_max: {t_max}")
        self.t_max = t_max
        self.eta_min = check_nonnegative("CosineLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def rate(self, epoch: int) -> float:
        e = min(epoch, self.t_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (
            1 + math.cos(math.pi * e / self.t_max)) / 2


class LinearWarmup(Schedule):
    """``base * (start_factor + (1 - start_factor) * min(epoch, warmup) / warmup)``.

    The rate grows linearly from ``start_factor * base`` at epoch 0 to ``base`` at epoch
    ``warmup`` and stays there.
    """

    def __init__(self, optimizer: Any, warmup: int, start_factor: float = 0.1) -> None:
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 1:
            raise ValueError(f"LinearWarmup: invalid warmup: {warmup}")
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"LinearWarmup: invalid start_factor: {start_factor}")
        self.warmup = warmup
        self.start_factor = float(start_factor)
        super().__init__(optimizer)

    def rate(self, epoch: int) -> float:
        frac = min(epoch, self.warmup) / self.warmup
        return self.base_lr * (self.start_factor + (1.0 - self.start_factor) * frac)
