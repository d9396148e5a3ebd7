"""An LSTM learns a sine curve and predicts a cosine, one step ahead (DeZero's step 60).

Truncated backpropagation through time: a ``SeqDataLoader`` feeds 30 parallel streams
through the noisy sine wave of ``SinCurve``; the loss of 30 consecutive steps is summed,
back-propagated, and the graph is cut (``unchain_backward``) so memory stays bounded.
Then the model, fed the clean cosine point by point, predicts each next value.
Writes ``prediction.png`` and ``metrics.json`` (the test mean squared error) to ``--out``.

    python examples/lstm_sincurve.py            # 100 epochs
    python examples/lstm_sincurve.py --quick    # 10 epochs
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
from dezero.data import SeqDataLoader, datasets
from dezero.nn import Model, optimizers
from dezero.nn import functions as F
from dezero.nn import layers as L


class BetterRNN(Model):
    def __init__(self, hidden_size: int, out_size: int) -> None:
        super().__init__()
        self.rnn = L.LSTM(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self) -> None:
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 epochs instead of 100")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/lstm_sincurve")
    args = parser.parse_args(argv)
    epochs = args.epochs or (10 if args.quick else 100)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dz.seed(0)
    batch_size, hidden_size, bptt_length = 30, 100, 30
    train_set = datasets.SinCurve(train=True)
    loader = SeqDataLoader(train_set, batch_size=batch_size)
    model = BetterRNN(hidden_size, 1)
    optimizer = optimizers.Adam().setup(model)

    for epoch in range(1, epochs + 1):
        model.reset_state()
        loss, count, total = 0, 0, 0.0
        for x, t in loader:
            loss += F.mean_squared_error(model(x), t)
            count += 1
            if count % bptt_length == 0 or count == len(loader):
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()  # truncate: the next window starts a new graph
                optimizer.update()
                total += float(loss.data)
                loss = 0
        if epoch % 25 == 0 or epoch == epochs:
            print(f"epoch {epoch:3d}  loss {total / count:.5f}")

    # Predict the clean cosine one step ahead, feeding the true value at each step.
    xs = np.cos(np.linspace(0, 4 * np.pi, 1000))
    model.reset_state()
    pred = []
    with dz.no_grad():
        for x in xs:
            pred.append(float(model(np.array(x).reshape(1, 1)).data[0, 0]))
    mse = float(np.mean((np.array(pred[:-1]) - xs[1:]) ** 2))
    print(f"one-step-ahead MSE on cos: {mse:.5f}")

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(np.arange(len(xs)), xs, label="y = cos(x)")
    ax.plot(np.arange(1, len(xs) + 1), pred, label="LSTM prediction", linestyle="--")
    ax.set_xlabel("step")
    ax.set_title(f"LSTM, {epochs} epochs on sin: one-step-ahead MSE {mse:.4f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "prediction.png", dpi=80)
    plt.close(fig)

    metrics = {"train_loss": total / count, "test_mse": mse}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
