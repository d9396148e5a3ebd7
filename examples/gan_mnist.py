"""A generative adversarial network that learns to draw MNIST digits.

A generator (64-d noise -> 256 -> 784, sigmoid) and a discriminator (784 -> 256 -> 1, leaky
ReLU) trained against each other with Adam on the 4,000 bundled MNIST training digits
(offline). The discriminator learns to tell real digits from generated ones; the
generator learns to fool it (the non-saturating loss: maximise log D(G(z))). Writes
``samples.png`` (digits generated from fixed noise) and ``metrics.json`` to ``--out``.

    python examples/gan_mnist.py            # 100 epochs, a few minutes
    python examples/gan_mnist.py --quick    # 3 epochs: blurry strokes, not yet digits
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
from dezero.data import DataLoader, datasets
from dezero.nn import Model, optimizers
from dezero.nn import functions as F
from dezero.nn import layers as L

NOISE = 64


class Generator(Model):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = L.Linear(256)
        self.l2 = L.Linear(784)

    def forward(self, z):
        return F.sigmoid(self.l2(F.relu(self.l1(z))))


class Discriminator(Model):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = L.Linear(256)
        self.l2 = L.Linear(1)

    def forward(self, x):
        return self.l2(F.leaky_relu(self.l1(x), 0.2))  # a logit: log D / (1 - D)


def bce_with_logits(logits, target: float):
    """Mean binary cross-entropy of ``sigmoid(logits)`` against a constant label."""
    return F.sum(F.softplus(logits) - target * logits) / len(logits)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs instead of 100")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/gan_mnist")
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 100)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dz.seed(0)
    rng = np.random.default_rng(0)  # the generator's input noise
    gen, dis = Generator(), Discriminator()
    opt_g = optimizers.Adam(alpha=2e-4, beta1=0.5).setup(gen)
    opt_d = optimizers.Adam(alpha=2e-4, beta1=0.5).setup(dis)
    loader = DataLoader(datasets.MNISTSample(train=True), batch_size=64)

    for epoch in range(1, epochs + 1):
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        steps = 0
        for x, _ in loader:
            z = rng.standard_normal((len(x), NOISE)).astype(np.float32)
            fake = gen(z)
            # Discriminator: real -> 1, fake -> 0. The fake is detached from the generator.
            real_logit, fake_logit = dis(x), dis(fake.data)
            d_loss = bce_with_logits(real_logit, 1.0) + bce_with_logits(fake_logit, 0.0)
            dis.cleargrads()
            d_loss.backward()
            opt_d.update()
            # Generator: make the (updated) discriminator call its fakes real.
            g_loss = bce_with_logits(dis(fake), 1.0)
            gen.cleargrads()
            g_loss.backward()
            opt_g.update()
            sums["d_loss"] += float(d_loss.data)
            sums["g_loss"] += float(g_loss.data)
            sums["d_real"] += float(F.sigmoid(real_logit).data.mean())
            sums["d_fake"] += float(F.sigmoid(fake_logit).data.mean())
            steps += 1
        means = {k: v / steps for k, v in sums.items()}
        if epoch % 5 == 0 or epoch == epochs or epoch == 1:
            print(f"epoch {epoch:3d}  " + "  ".join(f"{k} {v:.3f}" for k, v in means.items()))

    with dz.no_grad():
        z = np.random.default_rng(1).standard_normal((64, NOISE)).astype(np.float32)
        samples = gen(z).data.reshape(8, 8, 28, 28)
    canvas = samples.transpose(0, 2, 1, 3).reshape(8 * 28, 8 * 28)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(canvas, cmap="gray_r")
    ax.axis("off")
    ax.set_title(f"GAN samples after {epochs} epochs")
    fig.tight_layout()
    fig.savefig(out / "samples.png", dpi=80)
    plt.close(fig)

    (out / "metrics.json").write_text(json.dumps(means, indent=2))
    return means


if __name__ == "__main__":
    main()
