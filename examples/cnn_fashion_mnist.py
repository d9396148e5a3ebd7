"""A small CNN on Fashion-MNIST: accuracy per epoch and the test images it gets wrong.

Two convolution blocks (3x3 convolution, ReLU, 2x2 max pooling) and a linear classifier,
trained with Adam by the Trainer on the full Fashion-MNIST (60,000 + 10,000 images, found
offline where Debian's ``dataset-fashion-mnist`` is installed, or downloaded). Writes
``history.png``, ``misclassified.png`` (a grid of wrong test predictions, true -> predicted)
and ``metrics.json`` to ``--out``.

    python examples/cnn_fashion_mnist.py           # 3 epochs, a few minutes on 2 cores
    python examples/cnn_fashion_mnist.py --quick   # 1 epoch on the first 4,000 images
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import dezero.core as dz
from dezero.data import ArrayDataset, DataLoader, datasets, transforms
from dezero.nn import Model, optimizers
from dezero.nn import functions as F
from dezero.nn import layers as L
from dezero.train import Trainer


class SmallCNN(Model):
    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = L.Conv2d(16, 3, pad=1)
        self.conv2 = L.Conv2d(32, 3, pad=1)
        self.fc = L.Linear(n_classes)

    def forward(self, x):
        x = F.pooling(F.relu(self.conv1(x)), 2, 2)  # 28x28 -> 14x14
        x = F.pooling(F.relu(self.conv2(x)), 2, 2)  # 14x14 -> 7x7
        return self.fc(F.flatten(x))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch on 4,000 images")
    parser.add_argument("--epochs", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument("--gpu", default="auto", help="auto (default), true/false, cuda:N")
    parser.add_argument("--data-dir", default=None, help="folder holding the .gz files")
    parser.add_argument("--out", default="results/cnn_fashion_mnist")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 3)
    gpu = {"true": True, "false": False}.get(args.gpu.lower(), args.gpu)
    out = Path(args.out)

    # uint8 (1, 28, 28) images -> float32 in [0, 1], kept as images for the convolutions.
    to_float = transforms.Compose([transforms.ToFloat(), transforms.Normalize(0.0, 255.0)])
    train_set = datasets.FashionMNIST(train=True, transform=to_float, root=args.data_dir)
    test_set = datasets.FashionMNIST(train=False, transform=to_float, root=args.data_dir)
    if args.quick:
        train_set = ArrayDataset(train_set.data[:4000], train_set.label[:4000], to_float)
        test_set = ArrayDataset(test_set.data[:1000], test_set.label[:1000], to_float)

    train_loader = DataLoader(train_set, batch_size=64)
    test_loader = DataLoader(test_set, batch_size=500, shuffle=False)
    model = SmallCNN()
    optimizer = optimizers.Adam().setup(model)
    trainer = Trainer(model, F.softmax_cross_entropy, optimizer, train_loader, test_loader,
                      gpu=gpu, out=out, seed=0, progress="lines")
    history = trainer.fit(epochs)
    trainer.plot(show=False)

    # The wrong predictions among the test images, on the CPU for drawing.
    model.to_cpu()
    wrong_x, wrong_t, wrong_p = [], [], []
    with dz.no_grad(), dz.test_mode():
        for x, t in DataLoader(test_set, batch_size=500, shuffle=False):
            pred = model(x).data.argmax(axis=1)
            miss = pred != t
            wrong_x.append(x[miss])
            wrong_t.append(t[miss])
            wrong_p.append(pred[miss])
    wrong_x, wrong_t, wrong_p = map(np.concatenate, (wrong_x, wrong_t, wrong_p))
    names = datasets.FashionMNIST.labels()
    fig, axes = plt.subplots(4, 6, figsize=(9, 6.6))
    for ax, img, t, p in zip(axes.flat, wrong_x, wrong_t, wrong_p):
        ax.imshow(img[0], cmap="gray_r")
        ax.set_title(f"{names[int(t)]}\n-> {names[int(p)]}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"Misclassified test images ({len(wrong_t)} of {len(test_set)})")
    fig.tight_layout()
    fig.savefig(out / "misclassified.png", dpi=80)
    plt.close(fig)

    last = history.records[-1]
    metrics = {k: float(last[k]) for k in ("loss", "acc", "test_loss", "test_acc")}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
