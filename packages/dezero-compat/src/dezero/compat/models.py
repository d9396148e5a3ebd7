"""DeZero's ``dezero.models``: Model, Sequential (with ``.layers``), MLP, VGG16, ResNet,
and SqueezeNet as DeZero 0.0.13 has it: an empty placeholder.

``VGG16(pretrained=True)`` reads DeZero's ``vgg16.npz`` from a local file: it looks in
``~/.dezero/vgg16.npz`` (where DeZero's download put it), then tries DeZero's download
URL; when neither works the error says where to put the file. ``pretrained`` may also be
the path of the file.
"""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dezero.compat import functions as F
from dezero.compat import layers as L
from dezero.compat import utils
from dezero.compat.layers import Layer
from dezero.nn import models as _M
from dezero.nn.layers.layer import Layer as _NativeLayer

__all__ = [
    "Model", "Sequential", "MLP", "VGG16", "ResNet", "ResNet50", "ResNet101", "ResNet152",
    "SqueezeNet",
]


class Model(_M.Model, Layer):
    """DeZero's Model: a Layer with ``plot(*inputs, to_file="model.png")``."""


class Sequential(_M.Sequential, Model):
    """DeZero's Sequential: layers ``l0, l1, ...`` applied in order, listed in ``.layers``."""

    @property
    def layers(self) -> list[Any]:
        """The layers in order (DeZero's attribute; the same list the model runs)."""
        return self._seq


class MLP(_M.MLP, Model):
    """DeZero's MLP: ``Linear`` layers ``l0, l1, ...`` (DeZero's draws), ``activation`` between."""

    def __init__(self, fc_output_sizes: Sequence[int],
                 activation: Callable[[Any], Any] = F.sigmoid) -> None:
        _NativeLayer.__init__(self)
        self.activation = activation
        self.layers = []
        for i, size in enumerate(fc_output_sizes):
            layer = L.Linear(size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)


_VGG16_URL = "https://github.com/koki0702/dezero-models/releases/download/v0.1/vgg16.npz"
_VGG16_CONVS = [(1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3)]


class VGG16(Model):
    """DeZero's VGG16 (13 convolutions, fc6, fc7, fc8; dropout from NumPy's generator).

    Args:
        pretrained: False; True for DeZero's ImageNet weights (see the module docstring);
            or the path of a weight file in DeZero's format (keys ``conv1_1/W``...).
    """

    WEIGHTS_PATH = _VGG16_URL

    def __init__(self, pretrained: bool | str | os.PathLike[str] = False) -> None:
        super().__init__()
        self._convs: list[list[Any]] = []
        for block, channels, n in _VGG16_CONVS:
            convs = []
            for j in range(1, n + 1):
                conv = L.Conv2d(channels, kernel_size=3, stride=1, pad=1)
                setattr(self, f"conv{block}_{j}", conv)
                convs.append(conv)
            self._convs.append(convs)
        self.fc6 = L.Linear(4096)
        self.fc7 = L.Linear(4096)
        self.fc8 = L.Linear(1000)
        if pretrained:
            self.load_weights(_pretrained_file(pretrained))

    def forward(self, x: Any) -> Any:
        for convs in self._convs:
            for conv in convs:
                x = F.relu(conv(x))
            x = F.pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(F.relu(self.fc6(x)))
        x = F.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(image: Any, size: tuple[int, int] | None = (224, 224),
                   dtype: Any = np.float32) -> np.ndarray:
        """A PIL image as VGG16's input: RGB, resized, BGR order, ImageNet's channel means
        subtracted, channels first ``(3, H, W)``."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        a = np.asarray(image, dtype=dtype)[:, :, ::-1]
        a = a - np.array([103.939, 116.779, 123.68], dtype=dtype)
        return np.ascontiguousarray(a.transpose((2, 0, 1)))


def _pretrained_file(pretrained: Any) -> str:
    if pretrained is not True:
        path = os.fspath(pretrained)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"VGG16: pretrained weight file not found: {path}")
        return path
    local = os.path.join(utils.cache_dir, "vgg16.npz")
    if os.path.isfile(local):
        return local
    try:
        return utils.get_file(_VGG16_URL)
    except (OSError, urllib.error.URLError) as e:
        raise FileNotFoundError(
            f"VGG16(pretrained=True): DeZero's ImageNet weights are not on this machine and "
            f"could not be downloaded ({e}). Download {_VGG16_URL} elsewhere and put it at "
            f"{local}, or pass its path: VGG16(pretrained='path/to/vgg16.npz')."
        ) from e


class ResNet(_M.ResNet, Model):
    """ResNet 50/101/152 (the native architecture; DeZero 0.0.13's could not be built).

    Its weights come from the framework's generator, not NumPy's, and DeZero's pretrained
    ResNet files do not fit it: ``pretrained=True`` is an error.
    """

    def __init__(self, n_layers: int = 152, pretrained: bool = False) -> None:
        if pretrained:
            raise ValueError(
                "ResNet: pretrained=True is not supported: DeZero's ResNet weight files "
                "do not fit this architecture's names"
            )
        super().__init__(n_layers)


class ResNet50(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(50, pretrained)


class ResNet101(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(101, pretrained)


class ResNet152(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(152, pretrained)


class SqueezeNet(Model):
    """DeZero 0.0.13's SqueezeNet, which is an unfinished placeholder: no layers, no
    parameters, no weights. It is here so that DeZero code naming it imports; calling it
    raises `NotImplementedError` (DeZero's returned nothing and then failed with a
    ``TypeError``), and so does ``pretrained=True`` (DeZero's ignored it).
    """

    def __init__(self, pretrained: bool = False) -> None:
        if pretrained:
            raise NotImplementedError(
                "SqueezeNet: pretrained=True: DeZero 0.0.13's SqueezeNet is an empty "
                "placeholder and has no weight file; use VGG16 or ResNet"
            )
        super().__init__()

    def forward(self, x: Any) -> Any:
        raise NotImplementedError(
            "SqueezeNet: DeZero 0.0.13's SqueezeNet is an empty placeholder (no layers); "
            "it cannot be called. Use VGG16, ResNet50/101/152 or build the model from layers"
        )
