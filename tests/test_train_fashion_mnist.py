"""The whole stack learns on real data: MLP 784-1000-10 (sigmoid) + Adam on Fashion-MNIST."""

from __future__ import annotations

import pytest

import dezero.nn.functions as F
from dezero.data import DataLoader, datasets
from dezero.nn.models import MLP
from dezero.nn.optimizers import Adam
from dezero.train import Callback, Trainer

pytestmark = pytest.mark.requires_system("fashion-mnist")


class StopAtAccuracy(Callback):
    """Stop as soon as the goal is met: the test is about reaching it, not about epochs."""

    def __init__(self, goal: float) -> None:
        self.goal = goal

    def on_epoch_end(self, trainer, epoch, logs):
        if logs["test_acc"] >= self.goal:
            trainer.stop(f"test_acc {logs['test_acc']:.4f} >= {self.goal} after epoch {epoch}")


def test_mlp_with_adam_reaches_85_percent_on_fashion_mnist(tmp_path):
    train = DataLoader(datasets.FashionMNIST(train=True), batch_size=100, seed=0)
    test = DataLoader(datasets.FashionMNIST(train=False), batch_size=1000, shuffle=False)
    assert len(train.dataset) == 60_000 and len(test.dataset) == 10_000
    model = MLP((1000, 10), activation=F.sigmoid)
    trainer = Trainer(model, F.softmax_cross_entropy, Adam().setup(model), train, test,
                      gpu="auto", out=tmp_path, seed=0, progress="lines",
                      callbacks=[StopAtAccuracy(0.85)])
    history = trainer.fit(5)
    assert max(history["test_acc"]) >= 0.85, history.records
    assert history["loss"][-1] < history["loss"][0] or len(history) == 1
