"""Converters of dezero.core's ops: arithmetic, element-wise math, shapes, reductions, matmul."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core.ops import arithmetic, elementwise, linalg, reduction, shape
from dezero.onnx.context import INT64_MAX, INT64_MIN, ConversionContext
from dezero.onnx.errors import ConversionError
from dezero.onnx.registry import register

_Ctx = ConversionContext


def _simple(op_type: str) -> Any:
    def convert(ctx: _Ctx, f: Any, *xs: str) -> str:
        return ctx.node(op_type, list(xs))

    convert.__name__ = f"convert_{op_type.lower()}"
    return convert


for _cls, _op in (
    (arithmetic.Add, "Add"), (arithmetic.Sub, "Sub"), (arithmetic.Mul, "Mul"),
    (arithmetic.Div, "Div"), (arithmetic.Neg, "Neg"), (arithmetic.Pow, "Pow"),
    (elementwise.Exp, "Exp"), (elementwise.Log, "Log"), (elementwise.Sin, "Sin"),
    (elementwise.Cos, "Cos"), (elementwise.Tanh, "Tanh"), (linalg.MatMul, "MatMul"),
):
    register(_cls, _simple(_op))


def _with_scalar(op_type: str, scalar_first: bool) -> Any:
    # The node's Python scalar becomes a constant of the tensor's dtype, as a weak scalar
    # does in NumPy (float32 * 0.5 stays float32).
    def convert(ctx: _Ctx, f: Any, x: str) -> str:
        c = ctx.constant(f.c, dtype=f.inputs[0].data.dtype)
        return ctx.node(op_type, [c, x] if scalar_first else [x, c])

    convert.__name__ = f"convert_{op_type.lower()}_scalar"
    return convert


_scalar_ops: tuple[tuple[type[arithmetic._ScalarOp], str, bool], ...] = (
    (arithmetic.AddScalar, "Add", False), (arithmetic.SubScalar, "Sub", False),
    (arithmetic.RSubScalar, "Sub", True), (arithmetic.MulScalar, "Mul", False),
    (arithmetic.DivScalar, "Div", False), (arithmetic.RDivScalar, "Div", True),
    (arithmetic.PowScalar, "Pow", False), (arithmetic.RPowScalar, "Pow", True),
)
for _scls, _sop, _first in _scalar_ops:
    register(_scls, _with_scalar(_sop, _first))


@register(arithmetic.Cast)
def _cast(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Cast", [x], to=ctx.elem_type(f.dtype))


# ---------------------------------------------------------------------------- shapes
@register(shape.Reshape)
def _reshape(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.reshape(x, f.shape, f.inputs[0])


@register(shape.Transpose)
def _transpose(ctx: _Ctx, f: Any, x: str) -> str:
    nd = f.inputs[0].ndim
    perm = list(range(nd))[::-1] if f.axes is None else [int(a) % nd for a in f.axes]
    return ctx.node("Transpose", [x], perm=perm)


@register(shape.BroadcastTo)
def _broadcast_to(ctx: _Ctx, f: Any, x: str) -> str:
    out = tuple(f.shape)
    # A leading dimension equal to the batch size is taken to be the batch (the shape was
    # most likely read from the input), so it follows the batch at run time.
    batched = ctx.dynamic_batch and len(out) > 0 and out[0] == ctx.batch_size
    if batched:
        ctx.mark_batched_output()
    return ctx.node("Expand", [x, ctx.shape_tensor(out, batched)])


def _sum_to(ctx: _Ctx, x: str, v: Any, shape: tuple[int, ...]) -> str:
    in_shape = tuple(v.shape)
    lead = len(in_shape) - len(shape)
    axes = list(range(lead)) + [
        lead + i for i, s in enumerate(shape) if s == 1 and in_shape[lead + i] != 1
    ]
    y = ctx.reduce("ReduceSum", x, axes, keepdims=True) if axes else x
    if lead:
        y = ctx.reshape(y, shape, v) if 0 not in axes else ctx.node(
            "Reshape", [y, ctx.int64s(shape)])
    return y


@register(shape.SumTo)
def _sum_to_conv(ctx: _Ctx, f: Any, x: str) -> str:
    return _sum_to(ctx, x, f.inputs[0], tuple(f.shape))


@register(shape.GetItem)
def _get_item(ctx: _Ctx, f: Any, x: str) -> str:
    return get_item(ctx, x, f.inputs[0].ndim, f.slices)


def get_item(ctx: _Ctx, x: str, ndim: int, slices: Any) -> str:
    """``x[slices]`` for ints, slices, None, Ellipsis and at most one integer index array."""
    items = list(slices) if isinstance(slices, tuple) else [slices]
    n_axes = sum(1 for s in items if s is not None and s is not Ellipsis)
    if sum(1 for s in items if s is Ellipsis) > 1:
        raise ConversionError(f"GetItem: more than one Ellipsis in {slices!r}")
    expanded: list[Any] = []
    for s in items:
        if s is Ellipsis:
            expanded.extend([slice(None)] * (ndim - n_axes))
        else:
            expanded.append(s)
    expanded.extend([slice(None)] * (ndim - sum(1 for s in expanded if s is not None)))

    starts, ends, axes, steps = [], [], [], []
    squeeze: list[int] = []
    gather: tuple[int, Any] | None = None
    unsqueeze: list[int] = []
    axis = 0  # axis of the input
    out_pos = 0  # position in the result
    for s in expanded:
        if s is None:
            unsqueeze.append(out_pos)
            out_pos += 1
            continue
        if isinstance(s, (bool, np.bool_)):
            raise ConversionError(f"GetItem: a boolean index {s!r} is not supported")
        if isinstance(s, (int, np.integer)):
            i = int(s)
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif isinstance(s, slice):
            step = 1 if s.step is None else int(s.step)
            if s != slice(None):
                starts.append(int(s.start) if s.start is not None else
                              (0 if step > 0 else INT64_MAX))
                ends.append(int(s.stop) if s.stop is not None else
                            (INT64_MAX if step > 0 else INT64_MIN))
                axes.append(axis)
                steps.append(step)
            out_pos += 1
        else:
            idx = np.asarray(s)
            if idx.dtype.kind not in "iu" or gather is not None:
                raise ConversionError(
                    f"GetItem: only basic indexing and one integer index array are supported, "
                    f"got {slices!r}"
                )
            gather = (axis, idx)
            out_pos += idx.ndim
        axis += 1
    if gather is not None and squeeze:
        raise ConversionError(
            f"GetItem: an integer index array mixed with integer indices is not supported "
            f"({slices!r})"
        )
    y = x
    if axes:
        y = ctx.node("Slice", [y, ctx.int64s(starts), ctx.int64s(ends), ctx.int64s(axes),
                               ctx.int64s(steps)])
    if gather is not None:
        y = ctx.node("Gather", [y, ctx.constant(gather[1].astype(np.int64))], axis=gather[0])
    if squeeze:
        y = ctx.squeeze(y, squeeze)
    if unsqueeze:
        y = ctx.unsqueeze(y, unsqueeze)
    return y if y != x else ctx.node("Identity", [x])


# ---------------------------------------------------------------------------- reductions
def _reduction(op_type: str) -> Any:
    def convert(ctx: _Ctx, f: Any, x: str) -> str:
        axes = None if f.axis is None else list(f.axis)
        return ctx.reduce(op_type, x, axes, bool(f.keepdims))

    return convert


register(reduction.Sum, _reduction("ReduceSum"))
register(reduction.Max, _reduction("ReduceMax"))
register(reduction.Min, _reduction("ReduceMin"))
