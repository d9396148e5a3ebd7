"""The paper's example, as users write it, end to end on Fashion-MNIST: train, then plot."""

from __future__ import annotations

import io
import struct

import matplotlib.image as mpimg
import numpy as np
import pytest

import dezero.nn.functions as F
from dezero.data import DataLoader, datasets
from dezero.nn.models import MLP
from dezero.nn.optimizers import SGD
from dezero.train import Trainer
from dezero.train.plot import history_figure

pytestmark = pytest.mark.requires_system("fashion-mnist")


def test_paper_example_trains_and_draws_figure_7(tmp_path):
    train_loader = DataLoader(datasets.FashionMNIST(train=True), batch_size=100)
    test_loader = DataLoader(datasets.FashionMNIST(train=False), batch_size=100)
    model = MLP((1000, 10))
    optimizer = SGD().setup(model)
    trainer = Trainer(model, F.softmax_cross_entropy, optimizer, train_loader, test_loader,
                      gpu="auto", out=tmp_path, seed=0,
                      max_iters_per_epoch=30)  # 3,000 of the 60,000 images per epoch: speed
    history = trainer.fit(3)
    path = trainer.plot()

    assert len(history) == 3 and trainer.iteration == 90
    assert history["loss"][2] < history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history["test_acc"])
    # Chance is 0.1: even 90 small SGD steps learn something on the full test set.
    assert history["test_acc"][-1] > 0.3

    data = path.read_bytes()
    assert path == tmp_path / "history.png"
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1000, 400)
    fig = history_figure(history)
    # The file holds this very figure (same pixels), and it is drawn, not blank.
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    img = mpimg.imread(path)
    assert np.array_equal(mpimg.imread(io.BytesIO(buf.getvalue())), img)
    assert img[..., :3].std() > 0.05
    ax_loss, ax_acc = fig.axes
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == ("epoch", "loss")
    assert (ax_acc.get_xlabel(), ax_acc.get_ylabel()) == ("epoch", "accuracy")
    by_label = {(ax.get_ylabel(), ln.get_label()): ln.get_ydata() for ax in fig.axes
                for ln in ax.lines}
    assert np.array_equal(by_label[("loss", "train")], history["loss"])
    assert np.array_equal(by_label[("loss", "test")], history["test_loss"])
    assert np.array_equal(by_label[("accuracy", "train")], history["acc"])
    assert np.array_equal(by_label[("accuracy", "test")], history["test_acc"])
