"""export(): run a model once, walk the recorded graph, write it as an ONNX model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

import onnx
from dezero.core import Function, Parameter, Variable, backend, test_mode, using_config
from dezero.core.files import atomic_write
from dezero.onnx import converters as _builtin  # noqa: F401  (registers the built-in converters)
from dezero.onnx.__about__ import __version__
from dezero.onnx.context import ConversionContext
from dezero.onnx.errors import ConversionError, ExportError, UnsupportedFunctionError
from dezero.onnx.registry import get_converter
from onnx import helper

__all__ = ["export", "MIN_OPSET"]

# Squeeze/Unsqueeze/ReduceSum/Split take their axes as inputs from opset 13 on.
MIN_OPSET = 13
_CHAIN_MAX = 8


def _max_opset() -> int:
    return int(onnx.defs.onnx_opset_version())


def _as_input_arrays(example_input: Any) -> list[Any]:
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    if not items:
        raise ValueError("export: example_input is empty; pass an array (or a tuple of them)")
    arrays = []
    for i, x in enumerate(items):
        data = x.data if isinstance(x, Variable) else x
        if isinstance(data, np.generic):
            data = np.asarray(data)
        if not backend.is_array(data):
            raise TypeError(
                f"export: example_input[{i}] is {type(x).__name__}, not an array or Variable"
            )
        if data.dtype.kind not in "biuf":
            raise TypeError(f"export: example_input[{i}] has dtype {data.dtype}, not numeric")
        arrays.append(data)
    return arrays


def _names(given: Sequence[str] | None, n: int, stem: str, arg: str) -> list[str]:
    if given is None:
        return [stem] if n == 1 else [f"{stem}_{i}" for i in range(n)]
    names = [given] if isinstance(given, str) else list(given)
    if len(names) != n or not all(isinstance(s, str) and s for s in names):
        raise ValueError(f"export: {arg} must be {n} non-empty string(s), got {given!r}")
    if len(set(names)) != n:
        raise ValueError(f"export: {arg} repeats a name: {names}")
    return names


def _topological(
    outputs: list[Variable], produced: dict[int, list[Variable]] | None = None
) -> list[Function]:
    """Every Function behind ``outputs``, each after the Functions that feed it.

    ``produced`` (id of a Function -> its outputs) is filled in on the way: a node with
    one output keeps no reference to it, so its output is the Variable the walk came from.
    """
    order: list[Function] = []
    seen: set[int] = set()
    for y in outputs:
        if y.creator is not None and produced is not None:
            produced.setdefault(id(y.creator), [y])
        if y.creator is None or id(y.creator) in seen:
            continue
        stack: list[tuple[Function, bool]] = [(y.creator, False)]
        while stack:
            f, expanded = stack.pop()
            if expanded:
                order.append(f)
                continue
            if id(f) in seen:
                continue
            seen.add(id(f))
            stack.append((f, True))
            for v in reversed(f.inputs):
                if v.creator is not None and produced is not None:
                    produced.setdefault(id(v.creator), [v])
                if v.creator is not None and id(v.creator) not in seen:
                    stack.append((v.creator, False))
    return order


class _Locator:
    """Says where a Function sits in the model: its layer, or the chain from the input."""

    def __init__(self, param_names: dict[int, str], input_ids: set[int]) -> None:
        self.param_names = param_names
        self.input_ids = input_ids

    def _layer(self, f: Function) -> str | None:
        for v in f.inputs:
            name = self.param_names.get(id(v))
            if name is not None:
                return name.rpartition(".")[0] or "the model itself"
        return None

    def _label(self, f: Function) -> str:
        layer = self._layer(f)
        return f"{type(f).__name__}({layer})" if layer else type(f).__name__

    def chain(self, f: Function) -> list[str]:
        """Function names from the model's input to ``f``, following the first live path."""
        chain = [self._label(f)]
        g: Function | None = f
        while g is not None:
            nxt = None
            for v in g.inputs:
                if v.creator is not None:
                    nxt = v.creator
                    break
            if nxt is None:
                hit = any(id(v) in self.input_ids or id(v.data) in self.input_ids
                          for v in g.inputs)
                chain.append("input" if hit else "constants")
                break
            chain.append(self._label(nxt))
            g = nxt
        chain.reverse()
        if len(chain) > _CHAIN_MAX:
            chain = chain[:2] + ["..."] + chain[-(_CHAIN_MAX - 3):]
        return chain

    def describe(self, f: Function) -> str:
        layer = self._layer(f)
        where = f"in layer '{layer}'" if layer else self._after(f)
        return f"{where}; chain from the input: {' -> '.join(self.chain(f))}"

    def _after(self, f: Function) -> str:
        # The nearest layer upstream, breadth first.
        frontier, seen = [f], {id(f)}
        while frontier:
            nxt = []
            for g in frontier:
                for v in g.inputs:
                    c = v.creator
                    if c is None or id(c) in seen:
                        continue
                    seen.add(id(c))
                    layer = self._layer(c)
                    if layer:
                        return f"after layer '{layer}'"
                    nxt.append(c)
            frontier = nxt
        return "before any layer"


def _elem_type(dtype: Any) -> int:
    return int(helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _value_info(name: str, data: Any, batched: bool, dynamic: bool) -> onnx.ValueInfoProto:
    shape: list[Any] = list(data.shape)
    if batched and dynamic and shape:
        shape[0] = "batch"
    return helper.make_tensor_value_info(name, _elem_type(data.dtype), shape)


def export(
    model: Any,
    example_input: Any,
    path: str | os.PathLike[str],
    opset: int = 17,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
) -> Path:
    """Write ``model`` as an ONNX model to ``path``; return the path.

    The model runs once on ``example_input`` in ``test_mode()`` (dropout off, batch
    normalisation with its running averages) with backprop enabled, which records its
    graph; no gradient is computed and the model is left as it was. Each Function of the
    graph becomes ONNX nodes through its registered converter
    ([`dezero.onnx.register`][dezero.onnx.register]); Parameters become initializers named by their
    dotted names (``l0.W``). The result is checked with ``onnx.checker`` and written atomically.

    Args:
        model: a Layer or Model (or any callable of Variables).
        example_input: an array (or Variable), or a tuple of them for several inputs.
        path: the ``.onnx`` file to write.
        opset: the ONNX opset, at least 13.
        input_names: names of the graph's inputs (default ``input``, numbered when there
            are several).
        output_names: names of the graph's outputs (default ``output``, numbered when
            there are several).
        dynamic_batch: make axis 0 of the inputs and outputs symbolic (``batch``), so the
            file runs on any batch size; export with a batch size of at least 2.

    Returns:
        ``path`` as a `pathlib.Path`.

    Raises:
        UnsupportedFunctionError: a Function has no converter; the message names it and
            where it occurred. No file is written.
        ConversionError: a Function could not be expressed in ONNX.
    """
    if isinstance(opset, bool) or not isinstance(opset, int) or not (
        MIN_OPSET <= opset <= _max_opset()
    ):
        raise ValueError(
            f"export: opset must be an int from {MIN_OPSET} to {_max_opset()} (the installed "
            f"onnx's newest), got {opset!r}"
        )
    arrays = _as_input_arrays(example_input)
    in_names = _names(input_names, len(arrays), "input", "input_names")
    batch = int(arrays[0].shape[0]) if arrays[0].ndim >= 1 else None

    xs = [Variable(a) for a in arrays]
    with using_config("enable_backprop", True), test_mode():
        out = model(*xs)
    ys = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, y in enumerate(ys):
        if not isinstance(y, Variable):
            raise ExportError(
                f"export: the model's output {i} is {type(y).__name__}, not a Variable"
            )
    out_names = _names(output_names, len(ys), "output", "output_names")
    # No backward runs, so no gradient appears; the recorded graph dies with these locals.
    graph = _build_graph(model, xs, arrays, ys, in_names, out_names, opset, dynamic_batch, batch)

    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="dezero-onnx",
        producer_version=__version__,
    )
    onnx_model.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", opset)])
    try:
        onnx.checker.check_model(onnx_model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ConversionError(f"export: the ONNX model failed onnx.checker: {e}") from e
    data = onnx_model.SerializeToString()

    def write(f: IO[bytes]) -> None:
        f.write(data)

    return atomic_write(path, write)


def _build_graph(
    model: Any, xs: list[Variable], arrays: list[Any], ys: list[Variable], in_names: list[str],
    out_names: list[str], opset: int, dynamic_batch: bool, batch: int | None,
) -> onnx.GraphProto:
    named = getattr(model, "named_params", None)
    param_names = {id(p): name for name, p in named()} if callable(named) else {}
    input_ids = {id(v) for v in xs} | {id(a) for a in arrays}
    produced: dict[int, list[Variable]] = {}
    functions = _topological(ys, produced)

    locator = _Locator(param_names, input_ids)
    missing: dict[type, Function] = {}
    for f in functions:
        if get_converter(type(f)) is None:
            missing.setdefault(type(f), f)
    if missing:
        lines = [
            f"  {cls.__module__}.{cls.__qualname__}: {locator.describe(f)}"
            for cls, f in missing.items()
        ]
        classes = ", ".join(cls.__name__ for cls in missing)
        raise UnsupportedFunctionError(
            f"export: no ONNX converter for Function {classes}; nothing was written.\n"
            + "\n".join(lines)
            + "\nRegister one with dezero.onnx.register(FunctionClass, converter) "
            "(see dezero-onnx's README)."
        )

    ctx = ConversionContext(opset, dynamic_batch, batch, in_names[0] if batch else None)
    for n in in_names + out_names:
        ctx.reserve(n)
    names: dict[int, str] = {}  # id(Variable) -> value name
    by_data: dict[int, str] = {}  # id(array) -> graph input name (arrays used as attributes)
    for v, a, n in zip(xs, arrays, in_names):
        names[id(v)] = n
        by_data[id(a)] = n
        ctx._mark(v, a.ndim >= 1, True)
    input_array_ids = set(by_data)
    ctx._inputs_by_data = by_data

    def leaf(v: Variable, f: Function, ref_dtype: Any) -> str:
        if id(v.data) in by_data:
            return by_data[id(v.data)]
        if isinstance(v, Parameter):
            n = ctx.constant(v.data, name=param_names.get(id(v)) or v.name or "param")
            names[id(v)] = n
            return n
        data = v.data
        if data is None:
            raise ConversionError(f"export: {type(f).__name__} has an input that holds no data")
        dtype = None
        if ref_dtype is not None and np.ndim(data) == 0:
            dtype = ref_dtype  # a weak scalar takes the dtype of the tensor it meets
        return ctx.constant(data, dtype=dtype)

    for f in functions:
        ctx.function = f
        ctx._force_batched = False
        flowing = [v for v in f.inputs if v.creator is not None or id(v) in names]
        ref = flowing[0].data.dtype if flowing else None
        in_vals = [names[id(v)] if id(v) in names else leaf(v, f, ref) for v in f.inputs]
        # Its outputs: all of them (held weakly) for a node with several, else the one the
        # walk met.
        refs = f.outputs
        outs = [r() for r in refs] if len(refs) > 1 else produced[id(f)]
        ctx.function_outputs = outs
        try:
            result = get_converter(type(f))(ctx, f, *in_vals)  # type: ignore[misc]
        except ExportError as e:
            raise type(e)(f"{e} ({locator.describe(f)})") from e
        except Exception as e:
            raise ConversionError(
                f"export: the converter of {type(f).__name__} failed, "
                f"{locator.describe(f)}: {type(e).__name__}: {e}"
            ) from e
        results = result if isinstance(result, (list, tuple)) else [result]
        if len(results) != len(outs):
            raise ConversionError(
                f"export: the converter of {type(f).__name__} returned {len(results)} "
                f"value name(s) for {len(outs)} output(s)"
            )
        uses_input = any(id(a) in input_array_ids for a in vars(f).values())
        batched_in = uses_input or ctx._force_batched or any(
            ctx.is_batched(v) for v in f.inputs)
        dependent = uses_input or any(ctx.depends_on_input(v) for v in f.inputs)
        for o, n in zip(outs, results):
            if o is None:
                continue
            if not isinstance(n, str):
                raise ConversionError(
                    f"export: the converter of {type(f).__name__} returned {n!r}, not a value name"
                )
            names[id(o)] = n
            ctx._mark(o, batched_in and o.ndim >= 1 and o.shape[0] == batch, dependent)
    ctx.function = None

    outputs = []
    for y, n in zip(ys, out_names):
        if id(y) in names:
            src = names[id(y)]
        elif id(y.data) in by_data:
            src = by_data[id(y.data)]
        else:
            src = ctx.constant(y.data)
        ctx.node("Identity", [src], outputs=[n])
        outputs.append(_value_info(n, backend.to_cpu(y.data), ctx.is_batched(y) or (
            id(y.data) in by_data and y.ndim >= 1), ctx.dynamic_batch))
    inputs = [
        _value_info(n, a, a.ndim >= 1, ctx.dynamic_batch) for n, a in zip(in_names, arrays)
    ]
    return helper.make_graph(ctx.nodes, "dezero", inputs, outputs, ctx.initializers)
