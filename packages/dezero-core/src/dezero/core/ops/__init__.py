"""The core ops: differentiable functions of Variables, also behind the operators."""

from dezero.core.ops.arithmetic import add, div, mul, neg, pow, sub
from dezero.core.ops.elementwise import cos, exp, log, sin, tanh
from dezero.core.ops.linalg import matmul
from dezero.core.ops.reduction import max, min, sum
from dezero.core.ops.shape import broadcast_to, get_item, reshape, sum_to, transpose

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow",
    "exp", "log", "sin", "cos", "tanh",
    "reshape", "transpose", "broadcast_to", "sum_to", "get_item",
    "sum", "max", "min", "matmul",
]
