"""Model, Sequential and MLP: layers meant to be trained as a whole."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dezero.core import Variable, plot_dot_graph
from dezero.nn import functions as F
from dezero.nn.layers.layer import Layer
from dezero.nn.layers.linear import Linear

__all__ = ["Model", "Sequential", "MLP"]


class Model(Layer):
    """A Layer that can draw the graph of its forward pass."""

    def plot(self, *inputs: Any, to_file: str = "model.png", verbose: bool = True) -> str:
        """Run ``forward(*inputs)`` and render its graph with Graphviz; returns the path."""
        y = self.forward(*inputs)
        return plot_dot_graph(y, verbose=verbose, to_file=to_file)


class Sequential(Model):
    """Apply ``layers`` in order; Layers among them are registered as ``l0``, ``l1``...

    Plain callables (``F.relu``) may be mixed in; they hold no parameters.

    Examples:
        >>> net = Sequential(L.Linear(100), F.relu, L.Linear(10))
    """

    def __init__(self, *layers: Layer | Callable[[Any], Any]) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(
                    f"Sequential: item {i} is {type(layer).__name__}, not a Layer or callable"
                )
            if isinstance(layer, Layer):
                setattr(self, f"l{i}", layer)
        self._seq = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self._seq:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self._seq)

    def __getitem__(self, i: int) -> Any:
        return self._seq[i]


class MLP(Model):
    """Fully connected network: ``Linear`` layers ``l0, l1, ...`` with ``activation`` between.

    Args:
        fc_output_sizes: output size of each Linear; the last is the network's output.
        activation: applied after every layer but the last.

    Examples:
        >>> model = MLP((1000, 10))   # the paper's 784-1000-10 network
    """

    def __init__(self, fc_output_sizes: Sequence[int],
                 activation: Callable[[Any], Variable] = F.sigmoid) -> None:
        super().__init__()
        sizes = list(fc_output_sizes)
        if not sizes:
            raise ValueError("MLP: fc_output_sizes must name at least one layer")
        self.activation = activation
        self.layers: list[Linear] = []
        for i, size in enumerate(sizes):
            layer = Linear(size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def _shape_problems(self, shape_of: Any) -> list[str]:
        # Layer k reads what layer k-1 writes: its W's input width is the previous out_size.
        problems = []
        for k in range(1, len(self.layers)):
            W = shape_of(f"l{k}.W")
            prev = self.layers[k - 1].out_size
            if W is not None and len(W) == 2 and W[0] != prev:
                problems.append(f"l{k}.W is {W}: {W[0]} inputs, but l{k - 1} gives {prev}")
        return problems

    def forward(self, x: Any) -> Variable:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
