"""dezero.data: datasets, transforms, data loaders and verified downloads."""

from dezero.data import datasets, download, transforms
from dezero.data.__about__ import __version__
from dezero.data.dataloader import DataLoader, SeqDataLoader
from dezero.data.dataset import ArrayDataset, Dataset

__all__ = [
    "__version__",
    "Dataset",
    "ArrayDataset",
    "DataLoader",
    "SeqDataLoader",
    "datasets",
    "transforms",
    "download",
]
