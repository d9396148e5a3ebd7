"""DeZero's ``dezero.transforms``: the native transforms under DeZero's names.

``Resize``, ``CenterCrop``, ``ToArray`` and ``ToPIL`` (PIL images; Pillow comes with
``dezero-data[pillow]``) are the native ones from
[`dezero.data.transforms`][dezero.data.transforms]. ``Convert`` (a PIL mode change, ``"BGR"``
included) is DeZero's.
"""

from __future__ import annotations

from typing import Any

from dezero.data.transforms import (
    AsType,
    Compose,
    Flatten,
    Normalize,
    RandomHorizontalFlip,
    ToFloat,
    ToInt,
)

# Resize, CenterCrop, ToArray, ToPIL are found in dezero.data.transforms on first use.
__all__ = [  # noqa: F822
    "Compose", "Convert", "Resize", "CenterCrop", "ToArray", "ToPIL", "RandomHorizontalFlip",
    "Normalize", "Flatten", "AsType", "ToFloat", "ToInt",
]

_FROM_DATA = ("Resize", "CenterCrop", "ToArray", "ToPIL")


def __getattr__(name: str) -> Any:
    # Imported when first used: they live in dezero.data.transforms beside the others.
    if name in _FROM_DATA:
        from dezero.data import transforms as _T

        return getattr(_T, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Convert:
    """Convert a PIL image to ``mode`` (``"RGB"``, ``"L"``...; ``"BGR"`` swaps R and B)."""

    def __init__(self, mode: str = "RGB") -> None:
        self.mode = mode

    def __call__(self, img: Any) -> Any:
        if self.mode != "BGR":
            return img.convert(self.mode)
        from PIL import Image

        r, g, b = img.convert("RGB").split()
        return Image.merge("RGB", (b, g, r))


