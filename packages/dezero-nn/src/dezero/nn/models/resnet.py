"""ResNet 18/34/50/101/152 (He et al. 2015): the architectures only, no pretrained weights."""

from __future__ import annotations

from typing import Any

from dezero.core import Variable
from dezero.nn import functions as F
from dezero.nn.layers.conv import Conv2d
from dezero.nn.layers.layer import Layer
from dezero.nn.layers.linear import Linear
from dezero.nn.layers.normalization import BatchNorm
from dezero.nn.models.model import Model

__all__ = [
    "ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152", "BasicBlock",
    "Bottleneck",
]


class BasicBlock(Layer):
    """Two 3x3 convolutions with a shortcut (ResNet 18/34)."""

    expansion = 1
    proj: Conv2d | None  # None where the shortcut is the identity

    def __init__(self, in_ch: int, ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = Conv2d(ch, 3, stride, 1, nobias=True, in_channels=in_ch)
        self.bn1 = BatchNorm()
        self.conv2 = Conv2d(ch, 3, 1, 1, nobias=True, in_channels=ch)
        self.bn2 = BatchNorm()
        self._project(in_ch, ch * self.expansion, stride)

    def _project(self, in_ch: int, out_ch: int, stride: int) -> None:
        # A 1x1 projection where the shortcut changes shape (option B of the paper).
        if stride != 1 or in_ch != out_ch:
            self.proj = Conv2d(out_ch, 1, stride, 0, nobias=True, in_channels=in_ch)
            self.proj_bn = BatchNorm()
        else:
            self.proj = None

    def _shortcut(self, x: Any) -> Any:
        return x if self.proj is None else self.proj_bn(self.proj(x))

    def forward(self, x: Any) -> Variable:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + self._shortcut(x))


class Bottleneck(BasicBlock):
    """1x1 reduce, 3x3, 1x1 expand (x4), with a shortcut (ResNet 50)."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int) -> None:
        Layer.__init__(self)
        self.conv1 = Conv2d(ch, 1, 1, 0, nobias=True, in_channels=in_ch)
        self.bn1 = BatchNorm()
        self.conv2 = Conv2d(ch, 3, stride, 1, nobias=True, in_channels=ch)
        self.bn2 = BatchNorm()
        self.conv3 = Conv2d(ch * 4, 1, 1, 0, nobias=True, in_channels=ch)
        self.bn3 = BatchNorm()
        self._project(in_ch, ch * 4, stride)

    def forward(self, x: Any) -> Variable:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + self._shortcut(x))


_CONFIGS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(Model):
    """ResNet for ImageNet-style input ``(N, 3, H, W)``.

    Args:
        n_layers: 18, 34, 50, 101 or 152.
        n_classes: outputs of the final fully connected layer.
    """

    def __init__(self, n_layers: int = 50, n_classes: int = 1000) -> None:
        super().__init__()
        if n_layers not in _CONFIGS:
            raise ValueError(f"ResNet: n_layers must be one of {sorted(_CONFIGS)}, got {n_layers}")
        block, counts = _CONFIGS[n_layers]
        self.n_layers = n_layers
        self.conv1 = Conv2d(64, 7, 2, 3, nobias=True, in_channels=3)
        self.bn1 = BatchNorm()
        self._blocks: list[Layer] = []
        in_ch = 64
        for stage, (ch, n) in enumerate(zip((64, 128, 256, 512), counts), start=2):
            for k in range(n):
                stride = 2 if (k == 0 and stage > 2) else 1
                b = block(in_ch, ch, stride)
                setattr(self, f"res{stage}_{k}", b)
                self._blocks.append(b)
                in_ch = ch * block.expansion
        self.fc = Linear(n_classes, in_size=in_ch)

    def forward(self, x: Any) -> Variable:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.pooling(h, 3, 2, 1)
        for b in self._blocks:
            h = b(h)
        h = F.average_pooling(h, h.shape[2:], 1)  # global average pooling
        h = F.reshape(h, (h.shape[0], -1))
        return self.fc(h)


class ResNet18(ResNet):
    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__(18, n_classes)


class ResNet34(ResNet):
    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__(34, n_classes)


class ResNet50(ResNet):
    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__(50, n_classes)


class ResNet101(ResNet):
    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__(101, n_classes)


class ResNet152(ResNet):
    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__(152, n_classes)
