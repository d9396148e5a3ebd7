"""DeZero's ``dezero.datasets``: the native datasets with DeZero's defaults and draws.

``get_spiral`` and ``Spiral`` reseed NumPy's global generator as DeZero's do (with 1984
for train, 2020 for test) and leave it where DeZero leaves it, so the weights drawn
after them are DeZero's too; ``SinCurve``'s noise comes from the global generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.compat.transforms import Compose, Flatten, Normalize, ToFloat
from dezero.data import Dataset
from dezero.data import datasets as _D
from dezero.data.datasets.spiral import NUM_CLASS, NUM_DATA

# CIFAR100 is built over dezero.data.datasets.CIFAR100 on first use.
__all__ = [  # noqa: F822
    "Dataset", "get_spiral", "Spiral", "MNIST", "CIFAR10", "CIFAR100", "ImageNet",
    "SinCurve", "Shakespear",
]


# DeZero's default transforms (stateless, so one instance serves every dataset).
_MNIST_TRANSFORM = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
_CIFAR_TRANSFORM = Compose([ToFloat(), Normalize(mean=0.5, std=0.5)])


def get_spiral(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """DeZero's spiral ``(x, t)``; seeds NumPy's global generator as DeZero does."""
    seed = 1984 if train else 2020
    x, t = _D.get_spiral(train, seed)  # the same draws, from a private RandomState(seed)
    # Leave the global generator where DeZero's 300 randn() calls and one permutation do.
    np.random.seed(seed)
    np.random.randn(NUM_CLASS * NUM_DATA)
    np.random.permutation(NUM_CLASS * NUM_DATA)
    return x, t


class Spiral(_D.Spiral):
    """DeZero's spiral dataset (its ``prepare`` seeds NumPy's global generator)."""

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train)


class MNIST(_D.MNIST):
    """MNIST with DeZero's default transform (flatten, float, divide by 255)."""

    def __init__(self, train: bool = True,
                 transform: Any = _MNIST_TRANSFORM,
                 target_transform: Any = None, **kwargs: Any) -> None:
        super().__init__(train, transform, target_transform, **kwargs)


class CIFAR10(_D.CIFAR10):
    """CIFAR-10 with DeZero's default transform, ``(x - 0.5) / 0.5`` of the raw values."""

    def __init__(self, train: bool = True,
                 transform: Any = _CIFAR_TRANSFORM,
                 target_transform: Any = None, **kwargs: Any) -> None:
        super().__init__(train, transform, target_transform, **kwargs)


def __getattr__(name: str) -> Any:
    # The native CIFAR100 is imported when first used (it lives in dezero.data.datasets).
    if name == "CIFAR100":
        return _cifar100()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cifar100() -> type:
    native = _D.CIFAR100

    class CIFAR100(native):  # type: ignore[misc, valid-type]
        """CIFAR-100 with DeZero's default transform and ``label_type`` (fine/coarse)."""

        def __init__(self, train: bool = True,
                     transform: Any = _CIFAR_TRANSFORM,
                     target_transform: Any = None, label_type: str = "fine",
                     **kwargs: Any) -> None:
            super().__init__(train, transform, target_transform, label_type=label_type,
                             **kwargs)

    globals()["CIFAR100"] = CIFAR100
    return CIFAR100


class ImageNet:
    """ImageNet's 1,000 class labels (the dataset itself is not provided, as in DeZero)."""

    @staticmethod
    def labels() -> dict[int, str]:
        """``{class index: "tench, Tinca tinca", ...}`` from the file shipped in the package."""
        from importlib.resources import files

        text = files("dezero.compat").joinpath("imagenet_labels.txt").read_text("utf-8")
        return dict(enumerate(text.splitlines()))


class SinCurve(_D.SinCurve):
    """DeZero's sine curve: noise ``np.random.uniform(-0.05, 0.05, 1000)`` from NumPy's
    global generator, drawn for the test set too (which is the clean cosine)."""

    def prepare(self) -> None:
        x = np.linspace(0, 2 * np.pi, self.num_data)
        noise = np.random.uniform(-0.05, 0.05, size=x.shape)
        y = (np.sin(x) + noise) if self.train else np.cos(x)
        y = y.astype(np.float64)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]


class Shakespear(Dataset):
    """Tiny Shakespeare as character ids: ``data[i]`` the id of character ``i``,
    ``label[i]`` that of the next; ``char_to_id`` / ``id_to_char`` map them (DeZero's
    name, spelling included). Downloaded once into DeZero's cache."""

    URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"

    def prepare(self) -> None:
        from dezero.compat.utils import get_file

        with open(get_file(self.URL, "shakespear.txt"), encoding="utf-8") as f:
            text = f.read()
        self.char_to_id: dict[str, int] = {}
        for c in text:
            self.char_to_id.setdefault(c, len(self.char_to_id))
        self.id_to_char = {i: c for c, i in self.char_to_id.items()}
        ids = np.array([self.char_to_id[c] for c in text])
        self.data, self.label = ids[:-1], ids[1:]
