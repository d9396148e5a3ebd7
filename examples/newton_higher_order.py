"""Higher-order derivatives and Newton's method, with the computational graph drawn.

``backward(create_graph=True)`` records the backward pass itself, so a gradient is a
Variable with a graph of its own and can be differentiated again (DeZero's steps 33-36):

* Newton's method on ``f(x) = x^4 - 2x^2`` uses ``f'`` and ``f''``, both computed by
  autograd, and reaches the minimum ``x = 1`` in a handful of steps, where gradient
  descent needs over a hundred;
* the first four derivatives of ``tanh`` are drawn over ``[-7, 7]``;
* Graphviz draws the graph of the *gradient* of ``tanh`` (needs Graphviz's ``dot``).

Writes ``newton.png``, ``tanh_derivatives.png``, ``tanh_grad_graph.png`` and
``metrics.json`` to ``--out``.

    python examples/newton_higher_order.py
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
from dezero.core import Variable
from dezero.nn import functions as F


def f(x):
    return x**4 - 2 * x**2


def newton(x0: float, iters: int = 10) -> list[float]:
    """Newton's method with f' and f'' from autograd: x <- x - f'(x) / f''(x)."""
    x = Variable(np.array(x0))
    path = [float(x.data)]
    for _ in range(iters):
        y = f(x)
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()          # differentiates the recorded backward pass: f''(x)
        gx2 = x.grad
        x.data = x.data - gx.data / gx2.data
        path.append(float(x.data))
    return path


def gradient_descent(x0: float, lr: float = 0.001, tol: float = 1e-6) -> int:
    """Steps plain gradient descent needs to come within ``tol`` of the minimum at 1."""
    x = Variable(np.array(x0))
    for step in range(1, 100_000):
        x.cleargrad()
        f(x).backward()
        x.data = x.data - lr * x.grad.data
        if abs(float(x.data) - 1.0) < tol:
            return step
    return -1


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="same as the full run: it is fast")
    parser.add_argument("--out", default="results/newton_higher_order")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    path = newton(2.0)
    gd_steps = gradient_descent(2.0)
    newton_steps = next(i for i, v in enumerate(path) if abs(v - 1.0) < 1e-6)
    print("Newton:", " -> ".join(f"{v:.6f}" for v in path[: newton_steps + 1]))
    print(f"Newton reaches x = 1 in {newton_steps} steps; gradient descent in {gd_steps}")

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.linspace(-2.1, 2.1, 200)
    ax.plot(xs, f(xs), label="f(x) = x^4 - 2x^2")
    ax.plot(path[: newton_steps + 1], [f(v) for v in path[: newton_steps + 1]], "o--",
            color="C3", label=f"Newton from x = 2 ({newton_steps} steps)")
    ax.set_xlabel("x")
    ax.legend()
    ax.set_title("Newton's method with f'' from double backprop")
    fig.tight_layout()
    fig.savefig(out / "newton.png", dpi=80)
    plt.close(fig)

    # The first four derivatives of tanh, each by differentiating the previous gradient.
    x = Variable(np.linspace(-7, 7, 200))
    y = F.tanh(x)
    curves = [y.data.copy()]
    target = y
    for _ in range(4):
        x.cleargrad()
        target.backward(create_graph=True)
        target = x.grad  # a Variable with its own graph: differentiate it next
        curves.append(target.data.copy())
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, c in enumerate(curves):
        ax.plot(x.data, c, label="tanh" if i == 0 else f"order {i}")
    ax.legend()
    ax.set_title("tanh and its first four derivatives, by autograd")
    fig.tight_layout()
    fig.savefig(out / "tanh_derivatives.png", dpi=80)
    plt.close(fig)

    # The graph of d tanh / dx: the backward pass, recorded as a graph of Functions.
    x = Variable(np.array(1.0), name="x")
    F.tanh(x).backward(create_graph=True)
    gx = x.grad
    gx.name = "gx"
    dz.plot_dot_graph(gx, verbose=False, to_file=str(out / "tanh_grad_graph.png"))

    metrics = {"newton_steps": newton_steps, "gradient_descent_steps": gd_steps,
               "x_final": path[-1]}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
