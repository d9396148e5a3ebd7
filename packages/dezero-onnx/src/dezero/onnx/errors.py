"""The errors of dezero.onnx."""

from __future__ import annotations

__all__ = ["ExportError", "UnsupportedFunctionError", "ConversionError"]


class ExportError(ValueError):
    """The model could not be exported; nothing was written."""


class UnsupportedFunctionError(ExportError):
    """The model's graph holds a Function that has no converter (the message says where)."""


class ConversionError(ExportError):
    """A Function that has a converter could not be expressed in ONNX (the message says why)."""
