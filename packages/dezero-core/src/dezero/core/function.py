"""Function: one operation of the graph, with its forward and backward formulas."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from dezero.core import backend as _backend
from dezero.core._config import Config
from dezero.core.variable import Variable, _const

__all__ = ["Function"]

_SCALAR_TYPES = (int, float, complex, bool)
_WRAPPABLE = (ValueError, TypeError, IndexError)


class Function:
    """Base class of every operation.

    Subclasses write ``forward(self, *xs)`` on raw arrays (NumPy or CuPy: use
    ``xp = get_array_module(x)``) and ``backward(self, *gys)`` on Variables, so
    that the backward pass can itself be differentiated. Inside ``backward``,
    ``self.inputs`` are the input Variables and ``self.needs_input_grad[i]`` says
    whether input ``i`` needs a gradient; return None (or anything) for the others,
    it is dropped.

    Example:
        >>> class Square(Function):
        ...     def forward(self, x):
        ...         return x ** 2
        ...     def backward(self, gy):
        ...         return 2 * self.inputs[0] * gy
    """

    generation: int = 0
    inputs: list[Variable]
    outputs: list[weakref.ref[Variable]]
    needs_input_grad: tuple[bool, ...]

    def __call__(self, *inputs: Any) -> Any:
        vs = [x if isinstance(x, Variable) else _const(x) for x in inputs]
        xs = [v.data for v in vs]
        if len(xs) > 1:
            self._check_devices(xs)
        try:
            ys = self.forward(*xs)
        except _WRAPPABLE as e:
            raise self._wrap_error(e, vs) from e
        if type(ys) is not tuple:
            ys = (ys,)
        outputs = []
        for y in ys:
            if type(y) is not np.ndarray and isinstance(y, np.generic):
                y = np.asarray(y)
            o = Variable.__new__(Variable)
            o.data = y
            o.name = None
            o.grad = None
            o.creator = None
            o.generation = 0
            o.requires_grad = False
            outputs.append(o)

        if Config.enable_backprop:
            needs = tuple([v.requires_grad for v in vs])
            if True in needs:
                gen = max([v.generation for v in vs])
                self.generation = gen
                self.inputs = vs
                self.needs_input_grad = needs
                for o in outputs:
                    o.creator = self
                    o.generation = gen + 1
                    o.requires_grad = True
                self.outputs = [weakref.ref(o) for o in outputs]
                if len(outputs) > 1:
                    # Shapes of the outputs, to stand in zeros for an output nobody used.
                    self._out_meta = [(o.data.shape, o.data.dtype) for o in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    @property
    def name(self) -> str:
        return type(self).__name__

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{self.name}.forward is not implemented")

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"{self.name}.backward is not implemented")

    # ---- engine helpers ---------------------------------------------------------------
    def _output_grads(self) -> list[Variable]:
        gys = []
        for i, ref in enumerate(self.outputs):
            y = ref()
            g = None if y is None else y.grad
            if g is None:
                shape, dtype = self._out_meta[i] if len(self.outputs) > 1 else (None, None)
                if shape is None:  # the only output, yet unreached: its gradient is zero
                    raise RuntimeError(f"{self.name}: output gradient missing")
                xp = _backend.backend_of(self.inputs[0].data).xp
                g = _const(xp.zeros(shape, dtype))
            gys.append(g)
        return gys

    def _check_devices(self, xs: list[Any]) -> None:
        foreign = False
        for x in xs:
            t = type(x)
            if t is not np.ndarray and t not in _SCALAR_TYPES and x is not None:
                foreign = True
                break
        if not foreign:
            return
        devices = []
        for x in xs:
            if x is None or type(x) in _SCALAR_TYPES:
                continue
            devices.append(_backend.device_of(x))
        if len(set(devices)) > 1:
            where = ", ".join(
                f"input {i} on {_backend.device_of(x)}"
                for i, x in enumerate(xs)
                if x is not None and type(x) not in _SCALAR_TYPES
            )
            raise _backend.DeviceMismatchError(
                f"{self.name}: inputs live on different devices ({where}); move them to one "
                f"device first with to_cpu() or to_gpu()"
            )

    def _wrap_error(self, e: Exception, vs: list[Variable]) -> Exception:
        desc = ", ".join(
            f"{v.shape} {getattr(v.data, 'dtype', type(v.data).__name__)}" for v in vs
        )
        msg = f"{self.name}: {e} (inputs: {desc})"
        try:
            return type(e)(msg)
        except Exception:
            return ValueError(msg)
