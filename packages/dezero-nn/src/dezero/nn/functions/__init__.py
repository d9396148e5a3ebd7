"""dezero.nn.functions (``F``): the functional namespace, core ops plus neural-network ops."""

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
from dezero.nn.functions.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
)
from dezero.nn.functions.array import (
    clip,
    concat,
    expand_dims,
    flatten,
    split,
    squeeze,
    stack,
    where,
)
from dezero.nn.functions.connection import embed_id, linear
from dezero.nn.functions.conv import col2im, conv2d, deconv2d, im2col
from dezero.nn.functions.loss import (
    binary_cross_entropy,
    huber_loss,
    mean_squared_error,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
)
from dezero.nn.functions.metric import accuracy
from dezero.nn.functions.noise import dropout
from dezero.nn.functions.normalization import batch_norm, layer_norm
from dezero.nn.functions.pooling import average_pooling, pooling
from dezero.nn.functions.reduction import average

__all__ = [
    # core ops
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tanh",
    "reshape", "transpose", "sum", "sum_to", "broadcast_to", "matmul", "get_item", "max", "min",
    "average",
    # activation
    "sigmoid", "relu", "leaky_relu", "softmax", "log_softmax", "elu", "gelu", "softplus",
    "silu",
    # loss, metric
    "mean_squared_error", "softmax_cross_entropy", "sigmoid_cross_entropy",
    "binary_cross_entropy", "huber_loss", "accuracy",
    # connection, convolution, pooling
    "linear", "embed_id", "conv2d", "deconv2d", "im2col", "col2im", "pooling",
    "average_pooling",
    # normalization, noise
    "batch_norm", "layer_norm", "dropout",
    # array
    "flatten", "expand_dims", "squeeze", "concat", "stack", "split", "clip", "where",
]
