"""CIFAR-10 from its binary distribution (never the pickled one)."""

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

__all__ = ["CIFAR10", "parse_cifar10_tar"]

Transform = Callable[[Any], Any]
_RECORD = 1 + 3 * 32 * 32  # one label byte, then R, G and B planes of 32x32
_MEMBERS = {
    "train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["cifar-10-batches-bin/test_batch.bin"],
}
_DEFAULT = Compose([ToFloat(), Normalize(0.0, 255.0)])


def parse_cifar10_tar(content: bytes, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``(N, 3, 32, 32)`` and labels int64 from the (decompressed) binary tar.

    Only the expected members are read, in memory; nothing is extracted to disk.
    """
    images, labels = [], []
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:") as tar:
        for name in _MEMBERS["train" if train else "test"]:
            try:
                member = tar.getmember(name)
            except KeyError:
                raise ValueError(f"CIFAR10: the archive has no member {name!r}") from None
            f = tar.extractfile(member)
            if f is None:
                raise ValueError(f"CIFAR10: archive member {name!r} is not a regular file")
            raw = np.frombuffer(f.read(), np.uint8)
            if raw.size == 0 or raw.size % _RECORD:
                raise ValueError(
                    f"CIFAR10: {name} holds {raw.size} bytes, not a multiple of {_RECORD}"
                )
            records = raw.reshape(-1, _RECORD)
            labels.append(records[:, 0].astype(np.int64))
            images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(images), np.concatenate(labels)


class CIFAR10(Dataset):
    """CIFAR-10 (Krizhevsky, 2009): 50,000 train / 10,000 test colour images, 10 classes.

    Images uint8 ``(N, 3, 32, 32)``, labels int64; the default transform gives float32
    in [0, 1]. Found and downloaded like :class:`~dezero.data.datasets.MNIST`.
    """

    name = "cifar-10"
    mirrors: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/",)
    file = RemoteFile(
        "cifar-10-binary.tar.gz",
        archive_md5="c32a1d4ab5d03f1284b67883e8d87530",  # published on the dataset's page
        archive_sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
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

    def prepare(self) -> None:
        content = fetch(self.file, self.name, self._mirrors, caller="CIFAR10", **self._fetch_args)
        self.data, self.label = parse_cifar10_tar(content, self.train)

    def show(self, row: int = 10, col: int = 10) -> Any:
        """Show the first ``row * col`` images in a grid (needs matplotlib)."""
        return show_images(self.data, row, col, "CIFAR10")

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
