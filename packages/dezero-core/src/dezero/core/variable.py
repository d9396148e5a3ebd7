"""Variable: an array that remembers the Function which made it, and its gradient."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core._config import Config

if TYPE_CHECKING:
    from dezero.core.function import Function

__all__ = ["Variable", "Parameter", "as_variable", "as_array"]

_SCALARS = (int, float, complex, bool)


class Variable:
    """A node of the computational graph holding ``data`` and, after backward, ``grad``.

    Args:
        data: an array of a registered backend (``numpy.ndarray``; ``cupy.ndarray``
            with dezero-cuda), a NumPy scalar (kept as a 0-d array), or None.
        name: an optional label, shown by ``repr`` of graphs.

    Example:
        >>> x = Variable(np.array(3.0))
        >>> y = x ** 2
        >>> y.backward()
        >>> x.grad
        variable(6.0)
    """

    __slots__ = ("data", "name", "grad", "creator", "generation", "requires_grad", "__weakref__")
    # NumPy hands every binary operation with a Variable back to the Variable.
    __array_ufunc__ = None
    __array_priority__ = 200

    def __init__(self, data: Any, name: str | None = None) -> None:
        if data is not None and type(data) is not np.ndarray:
            if isinstance(data, np.generic):
                data = np.asarray(data)
            elif isinstance(data, (Variable, list, tuple, str, bytes) + _SCALARS) or not (
                _backend.is_array(data)
            ):
                raise TypeError(
                    f"Variable: data must be an array (numpy.ndarray, or cupy.ndarray with "
                    f"dezero-cuda) or None, got {type(data).__name__}: wrap it first, e.g. "
                    f"Variable(np.array({_short(data)}))"
                )
        self.data = data
        self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0
        # Variables the user creates take part in differentiation; see _const for the rest.
        self.requires_grad = True

    # ---- array-like properties -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        d = self.data
        if type(d) is np.ndarray:
            return d.shape
        return () if type(d) in _SCALARS else d.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def dtype(self) -> Any:
        return getattr(self.data, "dtype", None)

    @property
    def T(self) -> Variable:
        return _ops.transpose(self)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        body = str(self.data).replace("\n", "\n" + " " * 9)
        return f"variable({body})"

    # ---- graph -----------------------------------------------------------------------
    def set_creator(self, func: Function) -> None:
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        """Forget the gradient; gradients accumulate across backward calls until this."""
        self.grad = None

    def unchain(self) -> None:
        """Cut the link to the creator: this Variable becomes a leaf of later graphs."""
        self.creator = None

    def unchain_backward(self) -> None:
        """Cut every creator link in the graph that produced this Variable."""
        stack = [self.creator] if self.creator is not None else []
        seen: set[int] = set()
        self.unchain()
        while stack:
            f = stack.pop()
            if id(f) in seen:
                continue
            seen.add(id(f))
            for x in f.inputs:
                if x.creator is not None:
                    stack.append(x.creator)
                    x.unchain()

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Compute the gradient of this Variable with respect to every leaf that needs one.

        Gradients are *added* to ``grad`` of the leaves: call ``cleargrad()`` (or a
        model's ``cleargrads()``) between steps. Intermediate gradients are freed unless
        ``retain_grad``. With ``create_graph`` the backward pass is itself recorded,
        so the gradients can be differentiated again (higher-order derivatives).
        """
        if self.data is None:
            raise ValueError("backward: this Variable holds no data (data is None)")
        if self.grad is None:
            xp = _backend.backend_of(self.data).xp
            self.grad = _const(xp.ones_like(self.data))
        if self.creator is None:
            return

        # Functions leave a max-heap on generation, so each runs after every Function that
        # consumes its outputs; the counter breaks ties without comparing Functions.
        f = self.creator
        heap: list[tuple[int, int, Function]] = [(-f.generation, 0, f)]
        seen = {id(f)}
        count = 1
        heappop = heapq.heappop
        heappush = heapq.heappush
        old = Config.enable_backprop
        Config.enable_backprop = create_graph
        try:
            while heap:
                f = heappop(heap)[2]
                outputs = f.outputs
                if len(outputs) == 1:
                    y = outputs[0]()
                    gxs = f.backward(y.grad)  # type: ignore[union-attr]  # alive: reached via it
                else:
                    gxs = f.backward(*f._output_grads())
                if type(gxs) is not tuple:
                    gxs = tuple(gxs) if isinstance(gxs, list) else (gxs,)
                inputs = f.inputs
                if len(gxs) != len(inputs):
                    raise ValueError(
                        f"{f.name}.backward returned {len(gxs)} gradient(s) for "
                        f"{len(inputs)} input(s)"
                    )
                i = 0
                for need in f.needs_input_grad:
                    if need:
                        gx = gxs[i]
                        if gx is not None:
                            x = inputs[i]
                            if not isinstance(gx, Variable):
                                gx = _const(gx)
                            gd = gx.data
                            xd = x.data
                            if gd.shape != xd.shape:
                                raise ValueError(
                                    f"{f.name}.backward returned a gradient of shape {gx.shape} "
                                    f"for input {i} of shape {x.shape}"
                                )
                            if gd.dtype != xd.dtype and xd.dtype.kind in "fc":
                                # A gradient has its variable's dtype, also when the
                                # formula met a wider operand (float32 x * float64 w).
                                gx = _ops.arithmetic._cast(gx, xd.dtype)
                            if x.grad is None:
                                x.grad = gx
                            else:
                                # Out of place: the old gradient may be shared with another node.
                                x.grad = x.grad + gx
                            c = x.creator
                            if c is not None and id(c) not in seen:
                                seen.add(id(c))
                                heappush(heap, (-c.generation, count, c))
                                count += 1
                    i += 1
                if not retain_grad:
                    for r in outputs:
                        y = r()
                        if y is not None:
                            y.grad = None
        finally:
            Config.enable_backprop = old

    # ---- methods mirroring the core ops ---------------------------------------------
    def reshape(self, *shape: Any) -> Variable:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Variable:
        if len(axes) == 0:
            axes_ = None
        elif len(axes) == 1 and (isinstance(axes[0], (tuple, list)) or axes[0] is None):
            axes_ = axes[0]
        else:
            axes_ = axes
        return _ops.transpose(self, axes_)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _ops.sum(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _ops.min(self, axis, keepdims)

    def to_cpu(self) -> Variable:
        """Move ``data`` (and ``grad``) to host memory, in place; returns self."""
        self.data = _backend.to_cpu(self.data)
        if self.grad is not None:
            self.grad.to_cpu()
        return self

    def to_gpu(self, device: Any = None) -> Variable:
        """Move ``data`` (and ``grad``) to the GPU, in place; returns self.

        Needs the ``dezero-cuda`` plug-in and a usable GPU; otherwise raises
        :class:`~dezero.core.backend.GPUUnavailableError` saying which is missing.
        """
        self.data = _backend.to_gpu(self.data, device)
        if self.grad is not None:
            self.grad.to_gpu(device)
        return self

    # ---- operators ------------------------------------------------------------------
    def __add__(self, other: Any) -> Variable:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Variable:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Variable:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Variable:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Variable:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Variable:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Variable:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Variable:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Variable:
        return _ops.pow(other, self)

    def __neg__(self) -> Variable:
        return _ops.neg(self)

    def __matmul__(self, other: Any) -> Variable:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Variable:
        return _ops.matmul(other, self)

    def __getitem__(self, slices: Any) -> Variable:
        return _ops.get_item(self, slices)


class Parameter(Variable):
    """A Variable that a Layer registers as one of its learnable parameters."""

    __slots__ = ()


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."


def _const(data: Any) -> Variable:
    """Wrap raw data that needs no gradient (a batch, a constant, a Python scalar).

    Python scalars stay Python scalars so that NumPy treats them as weak
    (``float32 * 0.5`` stays float32).
    """
    v = Variable.__new__(Variable)
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)
    v.data = data
    v.name = None
    v.grad = None
    v.creator = None
    v.generation = 0
    v.requires_grad = False
    return v


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of a Variable or an array; ``()`` for a scalar (for argument checks)."""
    return tuple(getattr(x, "shape", ()))


def as_variable(obj: Any) -> Variable:
    """``obj`` if it is a Variable, else a Variable wrapping it (needing no gradient)."""
    if isinstance(obj, Variable):
        return obj
    if obj is not None and not isinstance(obj, _SCALARS) and not _backend.is_array(obj):
        raise TypeError(
            f"as_variable: expected a Variable, an array or a Python scalar, got "
            f"{type(obj).__name__}"
        )
    return _const(obj)


def as_array(x: Any, array_module: Any = np) -> Any:
    """``x`` as an array of ``array_module`` (a Python or NumPy scalar becomes 0-d)."""
    if np.isscalar(x):
        return array_module.array(x)
    return x


from dezero.core import ops as _ops  # noqa: E402  (ops need Variable defined first)
