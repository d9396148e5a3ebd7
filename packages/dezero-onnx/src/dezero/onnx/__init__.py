"""dezero.onnx: export dezero models to ONNX, with a converter registry per Function.

Examples:
    ```python
    import dezero.onnx
    dezero.onnx.export(model, x[:2], "model.onnx")
    ```
"""

from dezero.onnx.__about__ import __version__
from dezero.onnx.context import ConversionContext
from dezero.onnx.errors import ConversionError, ExportError, UnsupportedFunctionError
from dezero.onnx.export import export
from dezero.onnx.registry import get_converter, register, registered, unregister

__all__ = [
    "__version__",
    "export",
    "register", "unregister", "get_converter", "registered",
    "ConversionContext",
    "ExportError", "UnsupportedFunctionError", "ConversionError",
]
