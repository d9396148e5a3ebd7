"""Fixtures for the Trainer's tests: a tiny two-layer net built from dezero.core ops only.

The tiny net, loss and optimizer are written here, independently of dezero.nn, so the
Trainer's loop can be checked against a hand-written loop over the very same pieces.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from dezero.core import Parameter, Variable, exp, log, tanh
from dezero.core import sum as dsum

pytest_plugins = ["dezero.core.pytest_plugin"]  # the xp fixture, the gpu marker


class TinyNet:
    """x -> tanh(x W1 + b1) W2 + b2, float64, with the Layer API the Trainer uses."""

    def __init__(self, n_in: int = 2, n_hidden: int = 8, n_out: int = 3, seed: int = 0,
                 names: tuple[str, ...] = ("W1", "b1", "W2", "b2")) -> None:
        rng = np.random.default_rng(seed)
        shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
        self._params = {
            name: Parameter(rng.normal(0.0, 0.5, shape)) for name, shape in zip(names, shapes)
        }
        self.calls: list[tuple[str, bool, bool]] = []  # (event, backprop on, train mode)

    def named_params(self) -> Iterator[tuple[str, Parameter]]:
        yield from self._params.items()

    def params(self) -> Iterator[Parameter]:
        yield from self._params.values()

    def cleargrads(self) -> None:
        self.calls.append(("cleargrads", True, True))
        for p in self.params():
            p.cleargrad()

    def __call__(self, x: Any) -> Variable:
        from dezero.core import Config

        self.calls.append(("forward", Config.enable_backprop, Config.train))
        W1, b1, W2, b2 = self._params.values()
        return tanh(x @ W1 + b1) @ W2 + b2

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: p.data.copy() for k, p in self._params.items()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        if set(state) != set(self._params) or any(
            np.shape(state[k]) != p.data.shape for k, p in self._params.items()
        ):
            raise ValueError(f"TinyNet.load_state_dict: mismatch {sorted(state)}")
        for k, p in self._params.items():
            p.data = np.array(state[k], dtype=p.data.dtype)

    def to_gpu(self) -> None:
        raise AssertionError("TinyNet.to_gpu must not be called on a CPU-only machine")


def softmax_ce(y: Variable, t: np.ndarray) -> Variable:
    """Mean softmax cross entropy from core ops (log-sum-exp with a constant shift)."""
    n = len(t)
    z = y - y.data.max(axis=1, keepdims=True)
    lse = log(dsum(exp(z), axis=1))
    picked = z[np.arange(n), t]
    return dsum(lse - picked) / n


def acc(y: Variable, t: np.ndarray) -> float:
    return float((y.data.argmax(axis=1) == t).mean())


class TinyMomentumSGD:
    """v = m v - lr g; p += v, with the optimizer API the Trainer and checkpoints use."""

    lr_name = "lr"

    def __init__(self, lr: float = 0.1, momentum: float = 0.9) -> None:
        self.lr, self.momentum = lr, momentum
        self.target: Any = None
        self.t = 0
        self.v: dict[str, np.ndarray] = {}
        self.updates_seen_grads: list[bool] = []

    def setup(self, target: Any) -> TinyMomentumSGD:
        self.target = target
        return self

    def update(self) -> None:
        self.t += 1
        for name, p in self.target.named_params():
            self.updates_seen_grads.append(p.grad is not None)
            v = self.v.get(name, np.zeros_like(p.data))
            v = self.momentum * v - self.lr * p.grad.data
            self.v[name] = v
            p.data = p.data + v

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {"t": np.array(self.t), "hyper/lr": np.array(self.lr)}
        out.update({f"state/{k}/v": v.copy() for k, v in self.v.items()})
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self.lr = float(state["hyper/lr"])
        self.v = {k.split("/")[1]: np.array(v) for k, v in state.items() if k.startswith("state/")}


def spiral_like(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three noisy clusters in 2-D: a problem a tiny net learns in a few epochs."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) % 3
    centers = np.array([[1.0, 0.0], [-0.5, 0.8], [-0.5, -0.8]])
    x = centers[t] + rng.normal(0, 0.35, (n, 2))
    return x, t


class ListLoader:
    """Fixed batches, no shuffling: the simplest loader the Trainer must accept."""

    def __init__(self, x: np.ndarray, t: np.ndarray, batch_size: int) -> None:
        self.batches = [(x[i:i + batch_size], t[i:i + batch_size])
                        for i in range(0, len(x), batch_size)]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def make_tiny_trainer(epochs_data: int = 120, batch: int = 16, seed: int = 0,
                      **kw: Any) -> tuple[Any, TinyNet, TinyMomentumSGD, tuple]:
    """A Trainer over the tiny net: 120 samples in batches of 16, a test set of 60 in 20s."""
    from dezero.train import Trainer

    x, t = spiral_like(epochs_data, seed=1)
    xt, tt = spiral_like(60, seed=2)
    net = TinyNet(seed=seed)
    opt = TinyMomentumSGD(lr=0.1).setup(net)
    kw.setdefault("progress", False)
    kw.setdefault("gpu", False)
    trainer = Trainer(
        net, softmax_ce, opt, ListLoader(x, t, batch), ListLoader(xt, tt, 20),
        metrics={"acc": acc}, **kw,
    )
    return trainer, net, opt, (x, t, xt, tt)


def nn_problem(n_train: int = 800, n_test: int = 200, seed: int = 0) -> tuple:
    """A linearly separable 5-feature, 2-class float32 problem."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, 5)).astype(np.float32)
    t = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x[:n_train], t[:n_train], x[n_train:], t[n_train:]


def nn_trainer(out: Any, seed: int = 0, loader_seeds: tuple[int, int] = (123, 456),
               callbacks: Any = (), lr: float = 0.1) -> Any:
    """A Trainer of a dezero.nn MLP with DataLoaders: the packages the Trainer is made for."""
    import dezero.nn.functions as F
    from dezero.data import ArrayDataset, DataLoader
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import SGD
    from dezero.train import Trainer

    x, t, xt, tt = nn_problem()
    model = MLP((8, 2))
    train = DataLoader(ArrayDataset(x, t), 100, seed=loader_seeds[0])
    test = DataLoader(ArrayDataset(xt, tt), 50, shuffle=True, seed=loader_seeds[1])
    return Trainer(model, F.softmax_cross_entropy, SGD(lr=lr).setup(model), train, test,
                   gpu=False, out=out, seed=seed, progress=False, callbacks=list(callbacks))


@pytest.fixture
def tiny() -> types.SimpleNamespace:
    return types.SimpleNamespace(
        Net=TinyNet, loss=softmax_ce, acc=acc, SGD=TinyMomentumSGD, data=spiral_like,
        ListLoader=ListLoader, make=make_tiny_trainer,
    )


@pytest.fixture
def nn() -> types.SimpleNamespace:
    return types.SimpleNamespace(problem=nn_problem, trainer=nn_trainer)
