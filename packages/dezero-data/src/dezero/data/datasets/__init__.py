"""Built-in datasets: toy sets generated on the spot, and real ones found or downloaded."""

from dezero.data.datasets.cifar import CIFAR10, CIFAR100
from dezero.data.datasets.mnist import MNIST, FashionMNIST, MNISTSample, mnist_transform
from dezero.data.datasets.sincurve import SinCurve
from dezero.data.datasets.spiral import Spiral, get_spiral

__all__ = [
    "Spiral",
    "get_spiral",
    "SinCurve",
    "MNIST",
    "FashionMNIST",
    "MNISTSample",
    "mnist_transform",
    "CIFAR10",
    "CIFAR100",
]
