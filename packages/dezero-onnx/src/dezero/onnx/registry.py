"""The converter registry: one function per Function class, mapping it to ONNX nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dezero.core import Function

__all__ = ["Converter", "register", "unregister", "get_converter", "registered"]

# converter(ctx, f, *input_names) -> the name (or list of names) holding f's outputs.
Converter = Callable[..., Any]
_C = TypeVar("_C", bound=Converter)

_REGISTRY: dict[type[Function], Converter] = {}


def _check_class(function_class: Any) -> None:
    if not (isinstance(function_class, type) and issubclass(function_class, Function)):
        raise TypeError(
            f"register: function_class must be a subclass of dezero.core.Function, got "
            f"{function_class!r}"
        )


def register(function_class: type[Function], converter: Converter | None = None) -> Any:
    """Register ``converter`` for ``function_class``; usable as a decorator.

    A converter is called as ``converter(ctx, f, *inputs)``: ``ctx`` is the
    [`ConversionContext`][dezero.onnx.ConversionContext], ``f`` the Function object (its
    attributes and ``f.inputs`` as recorded by the forward pass; its output Variables are
    ``ctx.function_outputs``) and ``inputs`` the ONNX value names of its inputs. It adds
    nodes with ``ctx.node(...)`` and returns the name of the value holding the output (a
    list for several outputs).
    Registering a class again replaces its converter. Only the exact class matches: a
    subclass needs its own converter, since it may compute something else.

    Examples:
        ```python
        @dezero.onnx.register(Square)
        def _square(ctx, f, x):
            return ctx.node("Mul", [x, x])
        ```
    """
    _check_class(function_class)
    if converter is None:

        def decorate(fn: _C) -> _C:
            _REGISTRY[function_class] = fn
            return fn

        return decorate
    if not callable(converter):
        raise TypeError(f"register: converter must be callable, got {converter!r}")
    _REGISTRY[function_class] = converter
    return converter


def unregister(function_class: type[Function]) -> None:
    """Forget the converter of ``function_class`` (no error if it has none)."""
    _REGISTRY.pop(function_class, None)


def get_converter(function_class: type[Function]) -> Converter | None:
    """The converter registered for exactly ``function_class``, or None."""
    return _REGISTRY.get(function_class)


def registered() -> list[type[Function]]:
    """Every Function class that has a converter, in registration order."""
    return list(_REGISTRY)
