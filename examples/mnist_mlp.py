"""The paper's example: an MLP 784-1000-10 on MNIST, trained by the Trainer.

The model, loss and loop are those of the README's first example. By default it trains on
the 5,000 real MNIST digits bundled in dezero-data (offline); ``--dataset mnist`` uses the
full MNIST (found locally or downloaded) and ``--dataset fashion-mnist`` the full
Fashion-MNIST (found offline where Debian's ``dataset-fashion-mnist`` is installed).
Writes ``history.png`` (loss and accuracy per epoch), ``history.csv`` and ``metrics.json``.

    python examples/mnist_mlp.py                     # 5 epochs on the bundled sample
    python examples/mnist_mlp.py --dataset mnist --optimizer sgd   # the paper, exactly
    python examples/mnist_mlp.py --quick             # 2 epochs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dezero.data import DataLoader, datasets
from dezero.nn import functions as F
from dezero.nn import optimizers
from dezero.nn.models import MLP
from dezero.train import Trainer

DATASETS = {
    "mnist-sample": datasets.MNISTSample,
    "mnist": datasets.MNIST,
    "fashion-mnist": datasets.FashionMNIST,
}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist-sample")
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default=None,
                        help="default: adam on the 4,000-image sample (SGD at lr 0.01 needs "
                        "more data or epochs), sgd on the full sets, as in the paper")
    parser.add_argument("--epochs", type=int, default=None, help="default 5 (2 with --quick)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gpu", default="auto", help="auto (default), true/false, cuda:N")
    parser.add_argument("--out", default="results/mnist_mlp")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    name = args.optimizer or ("adam" if args.dataset == "mnist-sample" else "sgd")
    gpu = {"true": True, "false": False}.get(args.gpu.lower(), args.gpu)

    dataset = DATASETS[args.dataset]
    train_loader = DataLoader(dataset(train=True), batch_size=100)
    test_loader = DataLoader(dataset(train=False), batch_size=100, shuffle=False)
    model = MLP((1000, 10))
    optimizer = (optimizers.SGD() if name == "sgd" else optimizers.Adam()).setup(model)
    trainer = Trainer(model, F.softmax_cross_entropy, optimizer, train_loader, test_loader,
                      gpu=gpu, out=args.out, seed=0, progress=False)
    history = trainer.fit(epochs)
    trainer.plot(show=False)
    trainer.history.to_csv(Path(args.out) / "history.csv")

    last = history.records[-1]
    metrics = {k: float(last[k]) for k in ("loss", "acc", "test_loss", "test_acc")}
    (Path(args.out) / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
