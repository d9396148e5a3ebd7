"""Function: one operation of the graph, with its forward and backward formulas."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core._config import Config
from dezero.core.variable import Variable, _const

__all__ = ["Function"]

_SCALAR_TYPES = (int, float, complex, bool)
# Data types that certainly live on the host: inputs of only these need no device check.
_PLAIN_TYPES = frozenset({np.ndarray, int, float, complex, bool, type(None)})
_WRAPPABLE = (ValueError, TypeError, IndexError)
_ref = weakref.ref
# One tuple per pattern of needs_input_grad, shared by every node that has it.
_flag_tuples: dict[tuple[bool, ...], tuple[bool, ...]] = {}
_shared = _flag_tuples.setdefault
_new_variable = object.__new__
_NOTHING: list[Any] = []  # the inputs and flags of a call that records no graph (never filled)


class Function:
    """Base class of every operation.

    Subclasses write ``forward(self, *xs)`` on raw arrays (NumPy or CuPy: use
    ``xp = get_array_module(x)``) and ``backward(self, *gys)`` on Variables, so
    that the backward pass can itself be differentiated. Inside ``backward``,
    ``self.inputs`` are the input Variables and ``self.needs_input_grad[i]`` says
    whether input ``i`` needs a gradient; return None (or anything) for the others,
    it is dropped. A formula that reuses the forward result calls ``output_or``.

    A node keeps its inputs and no reference to a single output (a node with several
    outputs holds them weakly): a graph is a tree of strong references from its outputs
    down, freed as soon as its last output is dropped, with the fewest objects alive
    while it grows.

    Examples:
        >>> class Square(Function):
        ...     def forward(self, x):
        ...         return x ** 2
        ...     def backward(self, gy):
        ...         return 2 * self.inputs[0] * gy
    """

    generation: int = 0
    inputs: list[Variable]
    # Empty (the class's) until a call links this instance into a graph: a class default
    # rather than a look into __dict__, which would make CPython build a dict per node.
    needs_input_grad: tuple[bool, ...] = ()
    # The outputs, held weakly, of a node that has several (None: it has one). A node with
    # one output keeps no reference to it: a recorded op then leaves three objects for the
    # cycle collector to walk while a graph grows (node, input list, output; four with an
    # array operand's constant). The backward pass hands the output to the node while its
    # formula runs (``_y``, read by ``output_or`` and ``outputs``).
    _outs: list[weakref.ref[Variable]] | None = None
    _y: Variable | None = None

    def __call__(self, *inputs: Any) -> Any:
        # The hot path of the engine, run once per op in forward and backward alike: kept
        # flat (no helper calls, few temporaries). See benchmarks/bench_core.py.
        if self.needs_input_grad:
            # This instance is already a node of a graph: running it again would overwrite
            # what that graph's backward needs (inputs, shapes saved by forward). A copy
            # becomes the new node instead, so ``f = Square(); f(a); f(b)`` is safe.
            return self._fresh()(*inputs)
        xs = []
        needs = False
        gen = 0
        if not Config.enable_backprop:
            # No graph to record (no_grad(), a backward pass without create_graph): the
            # forward on raw data; no constant is wrapped and nothing is kept.
            vs = flags = _NOTHING
            for x in inputs:
                xs.append(x.data if isinstance(x, Variable) else x)
        else:
            vs = []
            flags = []
            for x in inputs:
                if not isinstance(x, Variable):
                    # A constant: raw data that needs no gradient (see variable._const). A
                    # NumPy scalar stays a scalar, not a 0-d host array: CuPy takes scalars
                    # as operands but rejects any numpy.ndarray, so ``gpu_x * np.float32(2)``
                    # must see a scalar.
                    v = _new_variable(Variable)
                    v.data = x
                    v.name = None
                    v.grad = None
                    v.creator = None
                    v.generation = 0
                    v.requires_grad = False
                    x = v
                    flags.append(False)
                elif x.requires_grad:
                    needs = True
                    if x.generation > gen:
                        gen = x.generation
                    flags.append(True)
                else:
                    flags.append(False)
                vs.append(x)
                xs.append(x.data)
        if len(xs) > 1:  # one device for all; inputs of host types only need no check
            for d in xs:
                if type(d) not in _PLAIN_TYPES:
                    self._check_devices(xs)
                    break
        try:
            y = self.forward(*xs)
        except _WRAPPABLE as e:
            raise self._wrap_error(e, inputs) from e

        if type(y) is tuple:
            return self._link_many(y, vs, flags, gen, needs)
        if type(y) is not np.ndarray and isinstance(y, np.generic):
            y = np.asarray(y)
        o = _new_variable(Variable)
        o.data = y
        o.name = None
        o.grad = None
        if needs:
            self.generation = gen
            self.inputs = vs
            t = tuple(flags)
            self.needs_input_grad = _shared(t, t)
            o.creator = self
            o.generation = gen + 1
            o.requires_grad = True
        else:
            o.creator = None
            o.generation = 0
            o.requires_grad = False
        return o

    def _link_many(
        self, ys: tuple[Any, ...], vs: list[Variable], flags: list[bool], gen: int, needs: bool
    ) -> Any:
        """``__call__`` for a forward that returned a tuple (several outputs)."""
        outputs = [_const(y) for y in ys]
        if needs:
            self.generation = gen
            self.inputs = vs
            t = tuple(flags)
            self.needs_input_grad = _shared(t, t)
            for o in outputs:
                o.creator = self
                o.generation = gen + 1
                o.requires_grad = True
            self._outs = [_ref(o) for o in outputs]
            # Shapes of the outputs, to stand in zeros for an output nobody used.
            self._out_meta = [(o.data.shape, o.data.dtype) for o in outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def outputs(self) -> list[weakref.ref[Variable]]:
        """Weak references to the outputs (call one to get the Variable, or None if gone).

        A node with one output keeps no reference to it, so this list is empty except
        while the backward pass runs the node's formula; a node with several outputs always
        answers. From an output ``y``, ``y.creator`` is its node.
        """
        if self._outs is not None:
            return self._outs
        return [] if self._y is None else [_ref(self._y)]

    @property
    def name(self) -> str:
        return type(self).__name__

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{self.name}.forward is not implemented")

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"{self.name}.backward is not implemented")

    def output_or(self, recompute: Callable[[], Variable]) -> Variable:
        """The (first) output Variable when it is at hand, else ``recompute()``.

        A backward formula that reuses the forward result (``exp``'s gradient is
        ``gy * y``) calls ``self.output_or(lambda: exp(x))``: inside the backward pass the
        output is at hand (the pass reached the node through it), and elsewhere, or for an
        output of a several-output node that is gone, the result is recomputed.
        """
        y = self._y
        if y is None and self._outs is not None:
            y = self._outs[0]()
        return y if y is not None else recompute()

    # ---- engine helpers ---------------------------------------------------------------
    def _output_grads(self, grads: dict[Variable, Variable], retain: bool) -> list[Variable]:
        """This pass's gradients of the outputs (taken from ``grads``); zeros for unused ones."""
        gys = []
        for i, ref in enumerate(self.outputs):
            y = ref()
            g = None if y is None else grads.pop(y, None)
            if g is None:
                shape, dtype = self._out_meta[i]
                # The backend of an array input: a scalar constant input says nothing.
                data = next(
                    (
                        v.data
                        for v in self.inputs
                        if _backend.is_array(v.data) and not isinstance(v.data, np.generic)
                    ),
                    None,
                )
                xp = _backend.backend_of(data).xp
                g = _const(xp.zeros(shape, dtype))
            elif retain:
                y._retain(g)  # type: ignore[union-attr]
            gys.append(g)
        return gys

    def _check_devices(self, xs: list[Any]) -> None:
        """Raise unless every array input lives on one device (scalars and None go anywhere)."""
        devices: dict[str, int] = {}
        for i, x in enumerate(xs):
            if x is None or type(x) in _SCALAR_TYPES or isinstance(x, np.generic):
                continue
            try:
                dev = _backend.device_of(x)
            except TypeError:
                raise TypeError(
                    f"{self.name}: input {i} is a {type(x).__name__}, not a Variable, an array "
                    f"of a registered backend or a Python scalar"
                ) from None
            devices.setdefault(dev, i)
        if len(devices) > 1:
            where = ", ".join(f"input {i} on {dev}" for dev, i in devices.items())
            raise _backend.DeviceMismatchError(
                f"{self.name}: inputs live on different devices ({where}); move them to one "
                f"device first with to_cpu() or to_gpu()"
            )

    def _fresh(self) -> Function:
        f = copy.copy(self)
        for k in ("inputs", "_outs", "_y", "needs_input_grad", "_out_meta", "generation"):
            f.__dict__.pop(k, None)
        return f

    def _wrap_error(self, e: Exception, inputs: tuple[Any, ...]) -> Exception:
        vs = [x if isinstance(x, Variable) else _const(x) for x in inputs]
        for i, v in enumerate(vs):
            if v.data is None:
                return ValueError(
                    f"{self.name}: input {i} holds no data (data is None: an uninitialised, "
                    f"lazily-sized Parameter?); original error: {e}"
                )
        desc = ", ".join(
            f"{v.shape} {getattr(v.data, 'dtype', type(v.data).__name__)}" for v in vs
        )
        msg = f"{self.name}: {e} (inputs: {desc})"
        try:
            return type(e)(msg)
        except Exception:
            # An error class that takes other arguments (NumPy's UFuncTypeError): the
            # built-in kind it is, so ``except TypeError`` still catches it.
            kind = next(k for k in type(e).__mro__ if k in _WRAPPABLE)
            return kind(msg)
