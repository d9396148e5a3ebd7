"""Layers (imported as ``L``): Linear, Conv2d, Deconv2d, BatchNorm, EmbedID, RNN, LSTM, GRU,
Dropout."""

from dezero.nn.layers.conv import Conv2d, Deconv2d
from dezero.nn.layers.dropout import Dropout
from dezero.nn.layers.embed import EmbedID
from dezero.nn.layers.layer import Layer, LoadResult
from dezero.nn.layers.linear import Linear
from dezero.nn.layers.normalization import BatchNorm
from dezero.nn.layers.recurrent import GRU, LSTM, RNN

__all__ = [
    "Layer", "LoadResult", "Linear", "Conv2d", "Deconv2d", "BatchNorm", "EmbedID", "RNN",
    "LSTM", "GRU", "Dropout",
]
