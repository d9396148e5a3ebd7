"""CIFAR-10 and CIFAR-100 from their binary distributions (never the pickled ones)."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dezero.data.dataset import Dataset
from dezero.data.datasets._plot import show_images
from dezero.data.download import DEFAULT_TIMEOUT, RemoteFile, fetch
from dezero.data.transforms import Compose, Normalize, ToFloat

__all__ = ["CIFAR10", "CIFAR100", "parse_cifar10_tar", "parse_cifar100_tar"]

Transform = Callable[[Any], Any]
_PIXELS = 3 * 32 * 32  # R, G and B planes of 32x32, after the label byte(s)
_MEMBERS = {
    "train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["cifar-10-batches-bin/test_batch.bin"],
}
_MEMBERS_100 = {"train": ["cifar-100-binary/train.bin"], "test": ["cifar-100-binary/test.bin"]}
_DEFAULT = Compose([ToFloat(), Normalize(0.0, 255.0)])


def _parse_binary_tar(
    content: bytes, members: list[str], label_bytes: int, label_index: int, owner: str
) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``(N, 3, 32, 32)`` and the labels at byte ``label_index`` of each record."""
    record = label_bytes + _PIXELS
    images, labels = [], []
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:") as tar:
        for name in members:
            try:
                member = tar.getmember(name)
            except KeyError:
                raise ValueError(f"{owner}: the archive has no member {name!r}") from None
            f = tar.extractfile(member)
            if f is None:
                raise ValueError(f"{owner}: archive member {name!r} is not a regular file")
            raw = np.frombuffer(f.read(), np.uint8)
            if raw.size == 0 or raw.size % record:
                raise ValueError(
                    f"{owner}: {name} holds {raw.size} bytes, not a multiple of {record}"
                )
            records = raw.reshape(-1, record)
            labels.append(records[:, label_index].astype(np.int64))
            images.append(records[:, label_bytes:].reshape(-1, 3, 32, 32))
    return np.concatenate(images), np.concatenate(labels)


def parse_cifar10_tar(content: bytes, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``(N, 3, 32, 32)`` and labels int64 from the (decompressed) binary tar.

    Only the expected members are read, in memory; nothing is extracted to disk.
    """
    return _parse_binary_tar(content, _MEMBERS["train" if train else "test"], 1, 0, "CIFAR10")


def parse_cifar100_tar(
    content: bytes, train: bool, label_type: str = "fine"
) -> tuple[np.ndarray, np.ndarray]:
    """Like `parse_cifar10_tar` for CIFAR-100, whose records hold a coarse label
    (20 superclasses) then a fine one (100 classes) before the pixels."""
    if label_type not in ("fine", "coarse"):
        raise ValueError(f"CIFAR100: label_type must be 'fine' or 'coarse', got {label_type!r}")
    index = 1 if label_type == "fine" else 0
    members = _MEMBERS_100["train" if train else "test"]
    return _parse_binary_tar(content, members, 2, index, "CIFAR100")


class CIFAR10(Dataset):
    """CIFAR-10 (Krizhevsky, 2009): 50,000 train / 10,000 test colour images, 10 classes.

    Images uint8 ``(N, 3, 32, 32)``, labels int64; the default transform gives float32
    in [0, 1]. Found and downloaded like [`MNIST`][dezero.data.datasets.MNIST].
    """

    name = "cifar-10"
    mirrors: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/",)
    file = RemoteFile(
        "cifar-10-binary.tar.gz",
        archive_md5="c32a1d4ab5d03f1284b67883e8d87530",  # published on the dataset's page
        archive_sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        size=170052171,
    )

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT,
        target_transform: Transform | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        download: bool = True,
        mirrors: Sequence[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        progress: bool | None = None,
    ) -> None:
        self._fetch_args: dict[str, Any] = dict(
            root=root, download=download, timeout=timeout, progress=progress
        )
        self._mirrors = tuple(self.mirrors if mirrors is None else mirrors)
        super().__init__(train, transform, target_transform)

    def _fetch(self) -> bytes:
        owner = type(self).__name__
        return fetch(self.file, self.name, self._mirrors, caller=owner, **self._fetch_args)

    def prepare(self) -> None:
        self.data, self.label = parse_cifar10_tar(self._fetch(), self.train)

    def show(self, row: int = 10, col: int = 10) -> Any:
        """Show the first ``row * col`` images in a grid (needs matplotlib)."""
        return show_images(self.data, row, col, type(self).__name__)

    @staticmethod
    def labels() -> dict[int, str]:
        names = [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ]
        return dict(enumerate(names))


class CIFAR100(CIFAR10):
    """CIFAR-100 (Krizhevsky, 2009): 50,000 train / 10,000 test colour images, 100 classes.

    ``label_type="fine"`` (DeZero's default) gives the 100 classes, ``"coarse"`` the 20
    superclasses. Images and the default transform as [`CIFAR10`][dezero.data.datasets.CIFAR10].
    """

    name = "cifar-100"
    mirrors: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/",)
    file = RemoteFile(
        "cifar-100-binary.tar.gz",
        archive_md5="03b5dce01913d631647c71ecec9e9cb8",  # published on the dataset's page
    )

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT,
        target_transform: Transform | None = None,
        label_type: str = "fine",
        *,
        root: str | os.PathLike[str] | None = None,
        download: bool = True,
        mirrors: Sequence[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        progress: bool | None = None,
    ) -> None:
        if label_type not in ("fine", "coarse"):
            raise ValueError(
                f"CIFAR100: label_type must be 'fine' or 'coarse', got {label_type!r}"
            )
        self.label_type = label_type
        super().__init__(
            train,
            transform,
            target_transform,
            root=root,
            download=download,
            mirrors=mirrors,
            timeout=timeout,
            progress=progress,
        )

    def prepare(self) -> None:
        self.data, self.label = parse_cifar100_tar(self._fetch(), self.train, self.label_type)

    @staticmethod
    def labels(label_type: str = "fine") -> dict[int, str]:
        names = _FINE if label_type == "fine" else _COARSE
        return dict(enumerate(names))


_COARSE = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables "
    "household_electrical_devices household_furniture insects large_carnivores "
    "large_man-made_outdoor_things large_natural_outdoor_scenes "
    "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people "
    "reptiles small_mammals trees vehicles_1 vehicles_2"
).split()
_FINE = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
    "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach "
    "couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster "
    "house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree "
    "motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear "
    "pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road "
    "rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel "
    "streetcar sunflower sweet_pepper table tank telephone television tiger tractor train "
    "trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()
