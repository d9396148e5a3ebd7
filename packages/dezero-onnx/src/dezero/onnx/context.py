"""ConversionContext: what a converter uses to add ONNX nodes and constants to the graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dezero.core import Variable, backend
from dezero.onnx.errors import ConversionError
from onnx import NodeProto, TensorProto, helper, numpy_helper

__all__ = ["ConversionContext", "ConversionError"]

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class ConversionContext:
    """The graph being built: nodes, initializers, and helpers that respect the opset.

    Converters receive it as their first argument. The attributes they may read:
    ``opset`` (the target opset), ``dynamic_batch`` (whether axis 0 of the inputs is
    symbolic) and ``batch_size`` (the example input's batch size).
    """

    def __init__(self, opset: int, dynamic_batch: bool, batch_size: int | None,
                 batch_source: str | None) -> None:
        self.opset = opset
        self.dynamic_batch = dynamic_batch and batch_size is not None
        self.batch_size = batch_size
        self._batch_source = batch_source  # a graph input whose axis 0 is the batch
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._names: set[str] = set()
        self._counts: dict[str, int] = {}
        self._batched: dict[int, bool] = {}
        self._dependent: dict[int, bool] = {}
        self._force_batched = False
        self._batch_dim: str | None = None
        self.function: Any = None  # the Function being converted (names its nodes)
        # Its output Variables (None for an output of a several-output node that is gone).
        self.function_outputs: list[Any] = []
        self._inputs_by_data: dict[int, str] = {}  # id(array) -> graph input name

    # ---- names ---------------------------------------------------------------------
    def reserve(self, name: str) -> str:
        """Claim ``name`` (made unique with a suffix if taken) and return it."""
        base = name
        while name in self._names:
            self._counts[base] = self._counts.get(base, 0) + 1
            name = f"{base}_{self._counts[base]}"
        self._names.add(name)
        return name

    def fresh(self, hint: str | None = None) -> str:
        """A new, unused value name."""
        if hint is None:
            hint = type(self.function).__name__ if self.function is not None else "v"
        return self.reserve(hint)

    # ---- nodes and constants -------------------------------------------------------
    def node(self, op_type: str, inputs: Sequence[str], n_outputs: int = 1,
             outputs: Sequence[str] | None = None, **attrs: Any) -> Any:
        """Add an ONNX node; return its output name (a list when ``n_outputs > 1``).

        ``inputs`` are value names ("" for an omitted optional input); ``attrs`` become
        the node's attributes (None values are left out).
        """
        outs = list(outputs) if outputs is not None else [self.fresh() for _ in range(n_outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outs, name=self.fresh(f"{op_type}_node"),
                             **attrs)
        )
        return outs[0] if len(outs) == 1 else outs

    def constant(self, value: Any, dtype: Any = None, name: str | None = None) -> str:
        """An initializer holding ``value`` (an array or scalar, cast to ``dtype`` if given)."""
        arr = np.asarray(backend.to_cpu(value) if backend.is_array(value) else value)
        if dtype is not None:
            arr = arr.astype(dtype)
        if arr.dtype.kind not in "biuf":
            raise ConversionError(
                f"{self._where()}: a constant of dtype {arr.dtype} cannot be written to ONNX"
            )
        n = self.reserve(name or "const")
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), n))
        return n

    def int64s(self, values: Sequence[int]) -> str:
        """A 1-d int64 constant (shapes, axes, starts and ends)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), name="ints")

    def input_name_of(self, array: Any) -> str | None:
        """The graph input holding exactly ``array`` (by identity), or None.

        For Functions that keep an input array as an attribute (``EmbedID.ids``).
        """
        return self._inputs_by_data.get(id(array))

    @staticmethod
    def elem_type(dtype: Any) -> int:
        """ONNX's element type of a NumPy dtype (for ``Cast``'s ``to``)."""
        return int(helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    # ---- the batch axis ------------------------------------------------------------
    def is_batched(self, v: Variable) -> bool:
        """Whether axis 0 of ``v`` is the (symbolic) batch axis."""
        return self._batched.get(id(v), False)

    def depends_on_input(self, v: Variable) -> bool:
        """Whether ``v`` is computed from the graph's inputs (its size may follow the batch)."""
        return self._dependent.get(id(v), False)

    def mark_batched_output(self) -> None:
        """Declare that axis 0 of the current Function's outputs is the batch axis.

        For converters that make the batch axis from something else (``broadcast_to``
        of a parameter to ``(N, ...)`` with a shape read from the input).
        """
        self._force_batched = True

    def _mark(self, v: Variable, batched: bool, dependent: bool) -> None:
        self._batched[id(v)] = batched
        self._dependent[id(v)] = dependent

    def shape_tensor(self, shape: Sequence[int], batched: bool) -> str:
        """An int64 shape tensor; with ``batched``, axis 0 is read from the input at run time."""
        shape = [int(s) for s in shape]
        if not (batched and self.dynamic_batch and shape) or self._batch_source is None:
            return self.int64s(shape)
        dim = self.node("Gather", [self.node("Shape", [self._batch_source]), self.int64s([0])],
                        axis=0)
        if len(shape) == 1:
            return dim
        return self.node("Concat", [dim, self.int64s(shape[1:])], axis=0)

    def reshape(self, x: str, shape: Sequence[int], v: Variable) -> str:
        """``x`` (the value of ``v``) reshaped to the static ``shape`` recorded at export.

        With a dynamic batch, a leading dimension equal to the batch size stays symbolic.
        """
        target = [int(s) for s in shape]
        if self.dynamic_batch and self.depends_on_input(v):
            if target and target[0] == self.batch_size:
                if self.is_batched(v):
                    target[0] = 0  # ONNX: copy axis 0 of the input
                else:  # e.g. (N*T, D) back to (N, T, D): read N from the graph's input
                    return self.node("Reshape", [x, self.shape_tensor(target, True)])
            elif -1 in target:
                pass
            elif len(target) == 1:
                target = [-1]
            elif self.is_batched(v):
                raise ConversionError(
                    f"{self._where()}: a reshape to {tuple(shape)} moves the batch axis "
                    f"(batch size {self.batch_size}); export with dynamic_batch=False"
                )
        return self.node("Reshape", [x, self.int64s(target)])

    # ---- opset-dependent helpers ---------------------------------------------------
    def reduce(self, op_type: str, x: str, axes: Sequence[int] | None, keepdims: bool) -> str:
        """``Reduce{Sum,Max,Min,Mean}`` over ``axes`` (all when None), in the opset's form."""
        kd = int(bool(keepdims))
        if axes is None:
            return self.node(op_type, [x], keepdims=kd)
        axes = [int(a) for a in axes]
        if not axes:
            return self.node("Identity", [x])  # NumPy: a sum over no axes changes nothing
        axes_as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if axes_as_input:
            return self.node(op_type, [x, self.int64s(axes)], keepdims=kd)
        return self.node(op_type, [x], axes=axes, keepdims=kd)

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.int64s(axes)])

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Squeeze", [x, self.int64s(axes)])

    def _where(self) -> str:
        f = self.function
        return type(f).__name__ if f is not None else "export"
