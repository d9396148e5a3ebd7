"""Spiral classification with a two-layer MLP, and the decision boundary it learns.

DeZero's step 48: 300 points on three interleaved spirals, an MLP 2-10-3 with sigmoid,
plain SGD (lr 1.0), batch 30. Writes ``spiral.png`` (the boundary over the data) and
``metrics.json`` (final loss and training accuracy) to ``--out``.

    python examples/spiral.py              # 300 epochs, a few seconds
    python examples/spiral.py --quick      # 100 epochs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; never open a window
import matplotlib.pyplot as plt
import numpy as np

import dezero.core as dz
from dezero.data import DataLoader, datasets
from dezero.nn import functions as F
from dezero.nn import optimizers
from dezero.nn.models import MLP


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 epochs instead of 300")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/spiral")
    args = parser.parse_args(argv)
    epochs = args.epochs or (100 if args.quick else 300)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dz.seed(0)  # initial weights and shuffling
    train_set = datasets.Spiral(train=True)
    loader = DataLoader(train_set, batch_size=30)
    model = MLP((10, 3))
    optimizer = optimizers.SGD(lr=1.0).setup(model)

    for epoch in range(1, epochs + 1):
        total, count = 0.0, 0
        for x, t in loader:
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            total += float(loss.data) * len(t)
            count += len(t)
        if epoch % 50 == 0 or epoch == epochs:
            print(f"epoch {epoch:3d}  loss {total / count:.4f}")

    x_all, t_all = train_set.data, train_set.label
    with dz.no_grad():
        acc = float(F.accuracy(model(x_all), t_all).data)
        # Class of every point of a grid over the plane: the decision boundary.
        h = 0.01
        xs = np.arange(x_all[:, 0].min() - 0.1, x_all[:, 0].max() + 0.1, h)
        ys = np.arange(x_all[:, 1].min() - 0.1, x_all[:, 1].max() + 0.1, h)
        gx, gy = np.meshgrid(xs, ys)
        grid = np.c_[gx.ravel(), gy.ravel()].astype(x_all.dtype)
        pred = model(grid).data.argmax(axis=1).reshape(gx.shape)
    print(f"train accuracy {acc:.3f}")

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(gx, gy, pred, alpha=0.3, cmap="viridis")
    for c, marker in zip(range(3), "ox^"):
        pts = x_all[t_all == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=25, marker=marker, label=f"class {c}")
    ax.set_title(f"Spiral: MLP 2-10-3, {epochs} epochs, accuracy {acc:.2f}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "spiral.png", dpi=80)
    plt.close(fig)

    metrics = {"loss": total / count, "accuracy": acc}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
