"""VGG16 (Simonyan and Zisserman 2014): the architecture only, no pretrained weights."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable
from dezero.nn import functions as F
from dezero.nn.layers.conv import Conv2d
from dezero.nn.layers.linear import Linear
from dezero.nn.models.model import Model

__all__ = ["VGG16"]

# Output channels of each 3x3 convolution; a block ends with 2x2 max pooling.
_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class VGG16(Model):
    """16 weight layers: 13 convolutions (3x3, pad 1) in 5 blocks, then fc6, fc7, fc8.

    Args:
        n_classes: outputs of fc8 (1000 for ImageNet).
        fc_size: width of fc6 and fc7 (4096 in the paper; smaller for quick experiments).
        dropout_ratio: dropout after fc6 and fc7.
    """

    def __init__(self, n_classes: int = 1000, fc_size: int = 4096,
                 dropout_ratio: float = 0.5) -> None:
        super().__init__()
        self.dropout_ratio = dropout_ratio
        self._convs: list[list[Conv2d]] = []
        for b, channels in enumerate(_BLOCKS, start=1):
            block = []
            for j, c in enumerate(channels, start=1):
                conv = Conv2d(c, kernel_size=3, stride=1, pad=1)
                setattr(self, f"conv{b}_{j}", conv)
                block.append(conv)
            self._convs.append(block)
        self.fc6 = Linear(fc_size)
        self.fc7 = Linear(fc_size)
        self.fc8 = Linear(n_classes)

    def forward(self, x: Any) -> Variable:
        for block in self._convs:
            for conv in block:
                x = F.relu(conv(x))
            x = F.pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(F.relu(self.fc6(x)), self.dropout_ratio)
        x = F.dropout(F.relu(self.fc7(x)), self.dropout_ratio)
        return self.fc8(x)
