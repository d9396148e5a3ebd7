"""The built-in converters: importing this package registers them."""

from dezero.onnx.converters import core, nn  # noqa: F401
