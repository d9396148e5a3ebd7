"""dezero.nn: functions (F), layers (L), models, optimizers, initializers and weight files."""

from dezero.core import Parameter
from dezero.nn import functions, initializers, layers, models, optimizers, weights
from dezero.nn.__about__ import __version__
from dezero.nn.layers import Layer
from dezero.nn.models import Model

__all__ = [
    "__version__", "Parameter", "Layer", "Model",
    "functions", "layers", "models", "optimizers", "initializers", "weights",
]
