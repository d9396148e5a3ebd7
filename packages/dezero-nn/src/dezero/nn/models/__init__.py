"""Models: Model (with plot), Sequential, MLP, VGG16, ResNet 18/34/50/101/152."""

from dezero.nn.models.model import MLP, Model, Sequential
from dezero.nn.models.resnet import (
    ResNet,
    ResNet18,
    ResNet34,
    ResNet50,
    ResNet101,
    ResNet152,
)
from dezero.nn.models.vgg import VGG16

__all__ = [
    "Model", "Sequential", "MLP", "VGG16",
    "ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152",
]
