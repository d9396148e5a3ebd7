"""Variable: an array that remembers the Function which made it, and its gradient."""

from __future__ import annotations

import heapq
import weakref
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

    Examples:
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

    def backward(
        self, grad: Any = None, retain_grad: bool = False, create_graph: bool = False
    ) -> None:
        """Compute the gradient of this Variable with respect to every leaf that needs one.

        Args:
            grad: the gradient to start from (PyTorch's ``gradient=``), a Variable or an
                array of this Variable's shape; None starts from ones, whatever ``grad``
                an earlier pass left here.
            retain_grad: keep the gradients of intermediate Variables in their ``grad``
                (added to what an earlier pass retained, as PyTorch does); by default
                only leaves keep theirs.
            create_graph: record the backward pass itself, so that the gradients can be
                differentiated again (higher-order derivatives).

        Gradients are *added* to ``grad`` of the leaves: call ``cleargrad()`` (or a
        model's ``cleargrads()``) between steps.

        Raises:
            RuntimeError: this Variable was computed with no graph recorded (under
                ``no_grad()``, or from constants only): no gradient could reach anything.
        """
        if self.data is None:
            raise ValueError("backward: this Variable holds no data (data is None)")
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this Variable has no graph to differentiate: it was computed "
                "under no_grad() (Config.enable_backprop False) or from constants only, so "
                "no gradient can reach any parameter. Compute it with backprop enabled."
            )
        seed = self._initial_grad(grad)
        f = self.creator
        if f is None:  # a leaf: the gradient of itself
            if seed is not self.grad:
                self.grad = seed if self.grad is None else self.grad + seed
            return

        # The gradients of this pass, per non-leaf Variable. Kept apart from ``grad``, so
        # that a gradient retained by an earlier pass is never propagated again.
        grads: dict[Variable, Variable] = {self: seed}
        # Functions wait in a max-heap on generation, so each runs after every Function that
        # consumes its outputs; the counter breaks ties without comparing Functions. The
        # first new Function a step finds skips the heap when it would come out on top
        # anyway: a chain of single-consumer ops never touches the heap.
        # Each waiting Function travels with the output through which the pass reached it:
        # a node with one output keeps no reference to it.
        heap: list[tuple[int, int, Function, Variable]] = []
        seen = {f}
        y = self
        count = 0
        heappop = heapq.heappop
        heappush = heapq.heappush
        old = Config.enable_backprop
        Config.enable_backprop = create_graph
        try:
            while True:
                if f._outs is None:  # one output: y, through which the pass came
                    gy = grads.pop(y)
                    if retain_grad:
                        y._retain(gy)
                    inputs = f.inputs
                    if create_graph:
                        _hold_leaves_weakly(inputs)
                    f._y = y  # for output_or, while the formula runs
                    gxs = f.backward(gy)
                    f._y = None
                else:
                    gys = f._output_grads(grads, retain_grad)
                    inputs = f.inputs
                    if create_graph:
                        _hold_leaves_weakly(inputs)
                    gxs = f.backward(*gys)
                if type(gxs) is not tuple:
                    gxs = tuple(gxs) if isinstance(gxs, list) else (gxs,)
                if len(gxs) != len(inputs):
                    raise ValueError(
                        f"{f.name}.backward returned {len(gxs)} gradient(s) for "
                        f"{len(inputs)} input(s)"
                    )
                nxt = None
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
                            gt = gd.dtype
                            xt = xd.dtype
                            if gt is not xt and gt != xt and xt.kind in "fc":
                                # A gradient has its variable's dtype, also when the
                                # formula met a wider operand (float32 x * float64 w).
                                gx = _ops.arithmetic._cast(gx, xt)
                            c = x.creator
                            if c is None:  # a leaf keeps its gradient, accumulated
                                leaf = x.leaf() if type(x) is _LeafRef else x
                                # None: a stand-in whose leaf is gone; nobody can read it.
                                if leaf is not None:
                                    # Out of place: the old gradient may be shared elsewhere.
                                    leaf.grad = gx if leaf.grad is None else leaf.grad + gx
                            else:
                                g = grads.get(x)
                                grads[x] = gx if g is None else g + gx
                                if c not in seen:
                                    seen.add(c)
                                    if nxt is None:
                                        nxt = c
                                        nxt_y = x
                                    else:
                                        heappush(heap, (-c.generation, count, c, x))
                                        count += 1
                    i += 1
                if nxt is not None:
                    if not heap or nxt.generation >= -heap[0][0]:
                        f = nxt
                        y = nxt_y
                        continue
                    heappush(heap, (-nxt.generation, count, nxt, nxt_y))
                    count += 1
                if not heap:
                    break
                _, _, f, y = heappop(heap)
        finally:
            Config.enable_backprop = old
            f._y = None  # also when a formula raised: no output stays tied to its node

    def _initial_grad(self, grad: Any) -> Variable:
        """The gradient a backward pass from this Variable starts from.

        ``grad`` if given (checked against this Variable's shape), else ones. A subclass
        may override it: dezero-compat starts from an existing ``self.grad``, as DeZero
        does. The engine never adds a starting gradient that *is* ``self.grad`` to itself.
        """
        if grad is None:
            xp = _backend.backend_of(self.data).xp
            return _const(xp.ones_like(self.data))
        g = grad if isinstance(grad, Variable) else as_variable(grad)
        if g.shape != self.shape:
            raise ValueError(
                f"backward: grad has shape {g.shape}, but the Variable it starts from has "
                f"shape {self.shape}"
            )
        return g

    def _retain(self, g: Variable) -> None:
        """Keep ``g``, this pass's gradient of an intermediate Variable (retain_grad)."""
        if g is not self.grad:
            self.grad = g if self.grad is None else self.grad + g

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
        """Move ``data`` (and ``grad``) to GPU ``device``, in place; returns self.

        ``device`` is ``"cuda"`` (the default: the current GPU), ``"cuda:N"``, an int ``N``
        or a [`Device`][dezero.core.backend.Device]. Needs the ``dezero-cuda`` plug-in and a
        usable GPU; otherwise raises
        [`GPUUnavailableError`][dezero.core.backend.GPUUnavailableError] saying which is
        missing.
        """
        dev = _backend.get_device("cuda" if device is None else device, "Variable.to_gpu")
        if not dev.is_gpu:
            raise ValueError(
                f"Variable.to_gpu: device must be a GPU, got {dev!r}; use to_cpu() for the host"
            )
        return self.to_device(dev)

    def to_device(self, device: Any) -> Variable:
        """Move ``data`` (and ``grad``) to ``device`` (``"cpu"``, ``"cuda:N"``, an int, a
        Device...), in place; returns self. A Device is used without checking it again."""
        dev = device if type(device) is _backend.Device else _backend.get_device(
            device, "Variable.to_device"
        )
        self.data = _backend.to_device(self.data, dev)
        if self.grad is not None:
            self.grad.to_device(dev)
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


class _LeafRef(Variable):
    """Stands in a graph for a leaf Variable, holding its data and the leaf itself weakly.

    ``backward(create_graph=True)`` puts these in place of the leaves among the inputs of
    the Functions it visits, before their gradient formulas run. A leaf's gradient then
    holds a graph that reaches the leaf's data but not the leaf, so ``x.grad`` and ``x``
    make no reference cycle and are freed at once when the user drops ``x``. Gradients
    reaching a stand-in go to its leaf (or nowhere, once the leaf is gone).
    """

    __slots__ = ("leaf",)
    leaf: weakref.ref[Variable]


def _hold_leaves_weakly(inputs: list[Variable]) -> None:
    for i, x in enumerate(inputs):
        if x.creator is None and x.requires_grad and type(x) is not _LeafRef:
            r = Variable.__new__(_LeafRef)
            r.data = x.data
            r.name = x.name
            r.grad = None
            r.creator = None
            r.generation = 0
            r.requires_grad = True
            r.leaf = weakref.ref(x)
            inputs[i] = r


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
