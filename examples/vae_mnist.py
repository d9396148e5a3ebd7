"""A variational autoencoder on MNIST digits, with a two-dimensional latent space.

Encoder 784-400-(2+2), decoder 2-400-784, trained on the 4,000 bundled MNIST training
digits (offline) by maximising the evidence lower bound: a Bernoulli reconstruction term
plus the KL divergence of the encoder's Gaussian from the standard normal. Because the
latent space has two dimensions, decoding a grid of points over it draws the whole
learned manifold of digits. Writes ``latent_grid.png``, ``reconstructions.png`` and
``metrics.json`` (the test loss per image) to ``--out``.

    python examples/vae_mnist.py            # 30 epochs
    python examples/vae_mnist.py --quick    # 5 epochs
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

LATENT = 2


class VAE(Model):
    def __init__(self, hidden: int = 400, latent: int = LATENT, seed: int = 0) -> None:
        super().__init__()
        self.enc = L.Linear(hidden)
        self.enc_mu = L.Linear(latent)
        self.enc_logvar = L.Linear(latent)
        self.dec = L.Linear(hidden)
        self.dec_out = L.Linear(784)
        self.rng = np.random.default_rng(seed)  # the noise of the reparameterisation

    def encode(self, x):
        h = F.relu(self.enc(x))
        return self.enc_mu(h), self.enc_logvar(h)

    def decode_logits(self, z):
        return self.dec_out(F.relu(self.dec(z)))

    def loss(self, x):
        """Negative ELBO per image: reconstruction (in nats) + KL(q(z|x) || N(0, I))."""
        mu, logvar = self.encode(x)
        eps = self.rng.standard_normal(mu.shape).astype(x.dtype)
        z = mu + F.exp(logvar * 0.5) * eps  # reparameterisation: z stays differentiable
        logits = self.decode_logits(z)
        # -log p(x|z) for Bernoulli pixels, from logits: softplus(l) - x*l, stable for any l.
        rec = F.sum(F.softplus(logits) - x * logits)
        kl = -0.5 * F.sum(1 + logvar - mu**2 - F.exp(logvar))
        return (rec + kl) / len(x)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 epochs instead of 30")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/vae_mnist")
    args = parser.parse_args(argv)
    epochs = args.epochs or (5 if args.quick else 30)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dz.seed(0)
    train_set = datasets.MNISTSample(train=True)   # float32 in [0, 1], flattened to 784
    test_set = datasets.MNISTSample(train=False)
    model = VAE()
    optimizer = optimizers.Adam(alpha=1e-3).setup(model)

    for epoch in range(1, epochs + 1):
        total, seen = 0.0, 0
        for x, _ in DataLoader(train_set, batch_size=100):
            loss = model.loss(x)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            total += float(loss.data) * len(x)
            seen += len(x)
        print(f"epoch {epoch:2d}  loss per image {total / seen:.2f}")

    x_test = test_set[np.arange(len(test_set))][0]
    with dz.no_grad():
        test_loss = float(model.loss(x_test).data)
        mu, _ = model.encode(x_test[:10])
        recon = F.sigmoid(model.decode_logits(mu)).data
        n, span = 15, np.linspace(-2.5, 2.5, 15)
        grid = np.array([[a, b] for b in span[::-1] for a in span], dtype=np.float32)
        images = F.sigmoid(model.decode_logits(grid)).data.reshape(n, n, 28, 28)
    print(f"test loss per image {test_loss:.2f}")

    canvas = images.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(canvas, cmap="gray_r", extent=(-2.5, 2.5, -2.5, 2.5))
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(f"VAE: digits decoded over the latent plane ({epochs} epochs)")
    fig.tight_layout()
    fig.savefig(out / "latent_grid.png", dpi=80)
    plt.close(fig)

    fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
    for i in range(10):
        axes[0, i].imshow(x_test[i].reshape(28, 28), cmap="gray_r")
        axes[1, i].imshow(recon[i].reshape(28, 28), cmap="gray_r")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("test digits (top) and their reconstructions from z = mean (bottom)")
    fig.tight_layout()
    fig.savefig(out / "reconstructions.png", dpi=80)
    plt.close(fig)

    metrics = {"train_loss": total / seen, "test_loss": test_loss}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
