"""dezero.onnx: export dezero models to ONNX."""

from dezero.onnx.__about__ import __version__

__all__ = ["__version__"]
