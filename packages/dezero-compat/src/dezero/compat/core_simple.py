"""DeZero's ``dezero.core_simple``: the core of the book's steps 23-32.

Its gradients are plain arrays, not Variables: ``x.grad`` prints ``8.0``, not
``variable(8.0)``, and there is no ``create_graph``. Otherwise this is `dezero.compat.core`.
"""

from __future__ import annotations

from types import MemberDescriptorType
from typing import Any, cast

from dezero.compat.core import (
    Config,
    Function,
    add,
    as_array,
    div,
    mul,
    neg,
    no_grad,
    pow,
    rdiv,
    rsub,
    setup_variable,
    sub,
    using_config,
)
from dezero.compat.core import Variable as _Variable
from dezero.compat.core import backward as _backward
from dezero.core.variable import Variable as _NativeVariable
from dezero.core.variable import _const

__all__ = [
    "Variable", "Function", "Config", "using_config", "no_grad", "as_variable", "as_array",
    "setup_variable", "add", "sub", "rsub", "mul", "div", "rdiv", "neg", "pow",
]

# The slot that holds the gradient Variable, as its descriptor (mypy sees only the instance
# attribute ``grad``).
_GRAD = cast(MemberDescriptorType, _NativeVariable.grad)  # type: ignore[misc]


class Variable(_Variable):
    """DeZero's simple Variable: ``grad`` is an array (or None)."""

    __slots__ = ()

    @property
    def grad(self) -> Any:
        g = _GRAD.__get__(self)
        return None if g is None else g.data

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None and not isinstance(value, _NativeVariable):
            value = _const(value)
        _GRAD.__set__(self, value)

    def backward(self, retain_grad: bool = False) -> None:  # type: ignore[override]
        """Gradients of this Variable as arrays; starts from ``self.grad`` when set."""
        _backward(self, retain_grad, False)


def as_variable(obj: Any) -> Any:
    """``obj`` if it is a Variable, else ``Variable(obj)``."""
    if isinstance(obj, _NativeVariable):
        return obj
    return Variable(obj)
