"""DeZero's ``dezero.core``: Variable, Parameter, Function, Config and the arithmetic functions.

A thin layer over `dezero.core`. What differs from the native API, and why:

* ``Variable.backward()`` keeps DeZero's rule: it starts from the Variable's existing
  ``.grad`` when one is set (and from ones otherwise).
* ``as_variable(array)`` gives a Variable that takes part in differentiation, as DeZero's
  does (the native one wraps a constant).
* Every native Variable counts as a ``Variable`` here (``isinstance`` is true), and the
  results of operators and of this package's functions are of this class, so that
  ``loss.backward()`` follows DeZero's rule.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any

from dezero import core as _core
from dezero.core import Config, Parameter, as_array, no_grad, test_mode, using_config
from dezero.core.ops import arithmetic as _ops
from dezero.core.variable import Variable as _NativeVariable

__all__ = [
    "Variable", "Parameter", "Function", "Config", "using_config", "no_grad", "test_mode",
    "as_variable", "as_array", "setup_variable",
    "add", "sub", "rsub", "mul", "div", "rdiv", "neg", "pow",
    "Add", "Sub", "Mul", "Div", "Neg", "Pow",
]

# The native backward takes a starting gradient ``grad=`` once the hardening change lands
# (and then never starts from an existing ``.grad``); before it, it starts from ``.grad``
# itself. Both are handled, so DeZero's rule holds either way.
_NATIVE_TAKES_GRAD = "grad" in inspect.signature(_NativeVariable.backward).parameters


class _VariableMeta(type):
    # Results of native functions and layers are native Variables: to DeZero's code they
    # are Variables all the same (``isinstance(y, Variable)``).
    def __instancecheck__(cls, obj: Any) -> bool:
        if cls is Variable:
            return isinstance(obj, _NativeVariable)
        return super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls is Variable:
            return issubclass(sub, _NativeVariable)
        return super().__subclasscheck__(sub)


def _adopt(y: Any) -> Any:
    """Make native result Variables (one, or a tuple/list of them) instances of ``Variable``."""
    if type(y) is _NativeVariable:
        y.__class__ = Variable
    elif isinstance(y, (tuple, list)):
        for v in y:
            if type(v) is _NativeVariable:
                v.__class__ = Variable
    return y


def backward(v: Any, retain_grad: bool = False, create_graph: bool = False) -> None:
    """DeZero's ``backward`` on any Variable: start from ``v.grad`` if set, else from ones."""
    g = v.grad
    if g is None or not _NATIVE_TAKES_GRAD:
        _NativeVariable.backward(v, retain_grad=retain_grad, create_graph=create_graph)
        return
    v.grad = None
    _NativeVariable.backward(
        v, retain_grad=retain_grad, create_graph=create_graph, grad=g
    )
    if v.grad is None and (retain_grad or v.creator is None):
        v.grad = g  # DeZero keeps the root's gradient in these two cases


class Variable(_NativeVariable, metaclass=_VariableMeta):
    """DeZero's Variable: the native Variable with DeZero's ``backward`` rule.

    Examples:
        >>> x = Variable(np.array(3.0))
        >>> y = x ** 2
        >>> y.backward()
        >>> x.grad
        variable(6.0)
    """

    __slots__ = ()

    # DeZero's signature (retain_grad first, no grad argument) in place of the native one.
    def backward(  # type: ignore[override]
        self, retain_grad: bool = False, create_graph: bool = False
    ) -> None:
        """Gradients of this Variable; starts from ``self.grad`` when it is set (DeZero)."""
        backward(self, retain_grad, create_graph)

    @property
    def T(self) -> Variable:  # noqa: N802  (DeZero's name)
        return _adopt(_NativeVariable.T.fget(self))  # type: ignore[attr-defined]


def _operator(name: str) -> Any:
    native = getattr(_NativeVariable, name)

    def op(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _adopt(native(self, *args, **kwargs))

    op.__name__ = name
    op.__doc__ = native.__doc__
    return op


def _binary(cls: type, reflected: bool, name: str) -> Any:
    # DeZero's graph of ``x * 2.0``: a two-input Mul whose second input is the constant
    # (native dezero holds a Python scalar in a one-input MulScalar node instead). Book
    # pictures such as the Goldstein-Price graph draw those constants as nodes.
    def op(self: Any, other: Any) -> Any:
        return _adopt(cls()(other, self) if reflected else cls()(self, other))

    op.__name__ = name
    return op


for _name in (
    "__pow__", "__rpow__", "__neg__", "__matmul__", "__rmatmul__",
    "__getitem__", "reshape", "transpose", "sum", "max", "min",
):
    setattr(Variable, _name, _operator(_name))
for _name, _cls, _reflected in (
    ("__add__", _ops.Add, False), ("__radd__", _ops.Add, True),
    ("__sub__", _ops.Sub, False), ("__rsub__", _ops.Sub, True),
    ("__mul__", _ops.Mul, False), ("__rmul__", _ops.Mul, True),
    ("__truediv__", _ops.Div, False), ("__rtruediv__", _ops.Div, True),
):
    setattr(Variable, _name, _binary(_cls, _reflected, _name))
del _name, _cls, _reflected


class Function(_core.Function):
    """DeZero's Function: the native Function; its outputs are this package's Variables.

    As in DeZero, a node keeps weak references to its outputs in ``outputs`` (a native
    node with one output keeps none, and lists it only while its backward formula runs).
    """

    # An instance's list (set below) rather than the native property.
    outputs: list[weakref.ref[Any]] = []

    def __call__(self, *inputs: Any) -> Any:
        ys = _adopt(super().__call__(*inputs))
        outs = ys if isinstance(ys, list) else [ys]
        node = outs[0].creator  # this instance, or the copy made when it is called again
        if node is not None:
            node.outputs = [weakref.ref(y) for y in outs]
        return ys


def _expose(native: type, module: str) -> Any:
    """DeZero's Function class of the same name and meaning: the native class, its results
    made this package's Variables (``issubclass(result, native)`` and ``Function`` hold)."""
    return type(
        native.__name__, (native, Function),
        {"__module__": module, "__doc__": native.__doc__ or f"DeZero's ``{native.__name__}``."},
    )


Add = _expose(_ops.Add, __name__)
Sub = _expose(_ops.Sub, __name__)
Mul = _expose(_ops.Mul, __name__)
Div = _expose(_ops.Div, __name__)
Neg = _expose(_ops.Neg, __name__)


class Pow(_ops.Pow, Function):
    """DeZero's ``Pow(c)(x)``: ``x ** c`` with the exponent given to the constructor (the
    native ``Pow`` takes it as a second input, a constant here).

    Examples:
        >>> Pow(3)(Variable(np.array(2.0)))
        variable(8.0)
    """

    def __init__(self, c: Any) -> None:
        self.c = c

    def __call__(self, *inputs: Any) -> Any:
        # One input is DeZero's call; two come back from the engine re-running this node.
        return super().__call__(*inputs) if len(inputs) == 2 else super().__call__(
            *inputs, self.c
        )


def as_variable(obj: Any) -> Any:
    """``obj`` if it is a Variable, else ``Variable(obj)`` (which needs a gradient, as DeZero)."""
    if isinstance(obj, _NativeVariable):
        return obj
    return Variable(obj)


def setup_variable() -> None:
    """DeZero attached the operators to Variable here; they are part of the class already."""


def _compat(native: Any) -> Any:
    def f(*args: Any, **kwargs: Any) -> Any:
        return _adopt(native(*args, **kwargs))

    f.__name__ = native.__name__
    f.__qualname__ = native.__name__
    f.__doc__ = native.__doc__
    f.__wrapped__ = native  # type: ignore[attr-defined]
    return f


# DeZero's arithmetic functions give two-input nodes also for a scalar operand (see
# _binary); the native ones hold a Python scalar in the node.
def add(x0: Any, x1: Any) -> Any:
    """``x0 + x1`` with broadcasting (DeZero's ``add``)."""
    return _adopt(_ops.Add()(x0, x1))


def sub(x0: Any, x1: Any) -> Any:
    """``x0 - x1`` with broadcasting (DeZero's ``sub``)."""
    return _adopt(_ops.Sub()(x0, x1))


def mul(x0: Any, x1: Any) -> Any:
    """``x0 * x1`` with broadcasting (DeZero's ``mul``)."""
    return _adopt(_ops.Mul()(x0, x1))


def div(x0: Any, x1: Any) -> Any:
    """``x0 / x1`` with broadcasting (DeZero's ``div``)."""
    return _adopt(_ops.Div()(x0, x1))


neg = _compat(_core.neg)
pow = _compat(_core.pow)  # noqa: A001  (DeZero's name)


def rsub(x0: Any, x1: Any) -> Any:
    """``x1 - x0`` (the reflected subtraction, as DeZero names it)."""
    return sub(x1, x0)


def rdiv(x0: Any, x1: Any) -> Any:
    """``x1 / x0`` (the reflected division, as DeZero names it)."""
    return div(x1, x0)

