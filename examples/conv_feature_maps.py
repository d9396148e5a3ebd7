"""What convolution layers see: filters and feature maps of a CNN, before and after training.

Instead of style transfer with VGG16 (which needs ImageNet weights that cannot be
downloaded here; with random weights it would show nothing meaningful), this trains a
small CNN (8 then 16 channels of 5x5 convolutions) on the 4,000 bundled MNIST digits and
draws, for one test digit: the first layer's filters, and the feature maps of both layers
for the untrained and the trained network. Even random filters respond to the strokes
(a convolution of an image is still an image); training turns them into oriented edge and
stroke detectors, and the second layer's maps change the most. Writes ``filters.png``,
``feature_maps.png`` and ``metrics.json`` (test accuracy) to ``--out``.

    python examples/conv_feature_maps.py            # 5 epochs
    python examples/conv_feature_maps.py --quick    # 1 epoch
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
from dezero.data import DataLoader, datasets, transforms
from dezero.nn import Model, optimizers
from dezero.nn import functions as F
from dezero.nn import layers as L


class CNN(Model):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = L.Conv2d(8, 5, pad=2)
        self.conv2 = L.Conv2d(16, 5, pad=2)
        self.fc = L.Linear(10)

    def features(self, x):
        """Both layers' feature maps (after ReLU), before pooling."""
        h1 = F.relu(self.conv1(x))
        h2 = F.relu(self.conv2(F.pooling(h1, 2, 2)))
        return h1, h2

    def forward(self, x):
        _, h2 = self.features(x)
        return self.fc(F.flatten(F.pooling(h2, 2, 2)))


def _maps(model: CNN, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with dz.no_grad():
        h1, h2 = model.features(image[None])
    return h1.data[0], h2.data[0]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch instead of 5")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/conv_feature_maps")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 5)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dz.seed(0)
    to_float = transforms.Compose([transforms.ToFloat(), transforms.Normalize(0.0, 255.0)])
    train_set = datasets.MNISTSample(train=True, transform=to_float)   # (1, 28, 28) images
    test_set = datasets.MNISTSample(train=False, transform=to_float)
    model = CNN()
    optimizer = optimizers.Adam().setup(model)
    image = test_set[0][0]

    model(image[None])  # build the lazy layers, so the untrained maps can be drawn
    before = _maps(model, image)
    for epoch in range(1, epochs + 1):
        for x, t in DataLoader(train_set, batch_size=50):
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
        print(f"epoch {epoch}  last batch loss {float(loss.data):.4f}")
    after = _maps(model, image)

    correct = 0
    with dz.no_grad():
        for x, t in DataLoader(test_set, batch_size=500, shuffle=False):
            correct += int((model(x).data.argmax(axis=1) == t).sum())
    acc = correct / len(test_set)
    print(f"test accuracy {acc:.3f}")

    w = model.conv1.W.data[:, 0]  # (8, 5, 5)
    fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
    for ax, k in zip(axes, w):
        ax.imshow(k, cmap="RdBu_r", vmin=-abs(w).max(), vmax=abs(w).max())
        ax.axis("off")
    fig.suptitle("conv1's 5x5 filters after training (red +, blue -)")
    fig.tight_layout()
    fig.savefig(out / "filters.png", dpi=80)
    plt.close(fig)

    fig, axes = plt.subplots(4, 9, figsize=(11, 5.4))
    rows = [("untrained conv1", before[0]), ("trained conv1", after[0]),
            ("untrained conv2", before[1]), ("trained conv2", after[1])]
    for r, (label, maps) in enumerate(rows):
        axes[r, 0].imshow(image[0], cmap="gray_r")
        axes[r, 0].set_title(label, fontsize=8)
        for c in range(8):
            axes[r, c + 1].imshow(maps[c], cmap="viridis")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"Feature maps of one test digit (test accuracy after training {acc:.2f})")
    fig.tight_layout()
    fig.savefig(out / "feature_maps.png", dpi=80)
    plt.close(fig)

    metrics = {"test_acc": acc}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
