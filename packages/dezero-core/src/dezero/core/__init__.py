"""dezero.core: the define-by-run autograd engine (Variable, Function, core ops)."""

from dezero.core import backend, random, testing
from dezero.core.__about__ import __version__
from dezero.core._config import Config, no_grad, test_mode, using_config
from dezero.core.backend import get_array_module
from dezero.core.function import Function
from dezero.core.graph import get_dot_graph, plot_dot_graph
from dezero.core.ops import (
    add,
    broadcast_to,
    cos,
    div,
    exp,
    get_item,
    log,
    matmul,
    max,
    min,
    mul,
    neg,
    pow,
    reshape,
    sin,
    sub,
    sum,
    sum_to,
    tanh,
    transpose,
)
from dezero.core.random import seed
from dezero.core.variable import Parameter, Variable, as_array, as_variable

__all__ = [
    "__version__",
    "Variable", "Parameter", "Function", "as_variable", "as_array",
    "Config", "using_config", "no_grad", "test_mode",
    "get_array_module", "backend", "random", "testing", "seed",
    "get_dot_graph", "plot_dot_graph",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tanh",
    "reshape", "transpose", "sum", "sum_to", "broadcast_to", "matmul", "get_item",
    "max", "min",
]
