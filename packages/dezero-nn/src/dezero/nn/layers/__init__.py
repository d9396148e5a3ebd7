"""Layers (imported as ``L``): Linear, Conv2d, Deconv2d, BatchNorm, LayerNorm, EmbedID, RNN,
LSTM, GRU, Dropout, MaxPool2d, AvgPool2d, Flatten."""

from dezero.nn.layers.conv import Conv2d, Deconv2d
from dezero.nn.layers.dropout import Dropout
from dezero.nn.layers.embed import EmbedID
from dezero.nn.layers.layer import Layer, LoadResult
from dezero.nn.layers.linear import Linear
from dezero.nn.layers.normalization import BatchNorm, LayerNorm
from dezero.nn.layers.pooling import AvgPool2d, Flatten, MaxPool2d
from dezero.nn.layers.recurrent import GRU, LSTM, RNN

__all__ = [
    "Layer", "LoadResult", "Linear", "Conv2d", "Deconv2d", "BatchNorm", "LayerNorm", "EmbedID",
    "RNN", "LSTM", "GRU", "Dropout", "MaxPool2d", "AvgPool2d", "Flatten",
]
