"""Converters of dezero.nn.functions: activations, linear, convolution, pooling,
normalisation, dropout, embedding and array ops."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

from dezero.onnx.context import ConversionContext
from dezero.onnx.errors import ConversionError
from dezero.onnx.registry import register

_Ctx = ConversionContext


def _module(name: str) -> Any:
    # By module path: dezero.nn.functions re-exports functions that shadow some module names
    # (``pooling``, ``conv2d``...).
    return importlib.import_module(f"dezero.nn.functions.{name}")


activation, array, connection = _module("activation"), _module("array"), _module("connection")
conv, noise, normalization = _module("conv"), _module("noise"), _module("normalization")
pooling = _module("pooling")


def _on(module: Any, name: str) -> Any:
    """Register the decorated converter for ``module.name``, if that class exists.

    dezero-nn's Function classes are looked up by name so that a renamed one leaves the
    rest importable; the tests then name the Function that lost its converter.
    """

    def decorate(fn: Any) -> Any:
        cls = getattr(module, name, None)
        if cls is not None:
            register(cls, fn)
        return fn

    return decorate


def _attr(f: Any, *names: str) -> Any:
    """The first of ``names`` that ``f`` has (attribute names differ between versions)."""
    for n in names:
        if hasattr(f, n):
            return getattr(f, n)
    raise ConversionError(
        f"{type(f).__name__}: none of the attributes {names} found; its converter needs updating"
    )


def _pair(v: Any) -> list[int]:
    return [int(v), int(v)] if np.ndim(v) == 0 else [int(i) for i in v]


def _dtype(f: Any) -> Any:
    return f.inputs[0].data.dtype


# ---------------------------------------------------------------------------- activations
@_on(activation, "Sigmoid")
def _sigmoid(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Sigmoid", [x])


@_on(activation, "ReLU")
def _relu(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Relu", [x])


@_on(activation, "LeakyReLU")
def _leaky_relu(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("LeakyRelu", [x], alpha=float(f.slope))


@_on(activation, "ELU")
def _elu(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Elu", [x], alpha=float(f.alpha))


@_on(activation, "Softplus")
def _softplus(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Softplus", [x])


@_on(activation, "GELU")
def _gelu(ctx: _Ctx, f: Any, x: str) -> str:
    # The tanh approximation written out (ONNX's own Gelu needs opset 20).
    dt = _dtype(f)
    x3 = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
    inner = ctx.node("Add", [x, ctx.node("Mul", [ctx.constant(0.044715, dt), x3])])
    t = ctx.node("Tanh", [ctx.node("Mul", [ctx.constant(math.sqrt(2.0 / math.pi), dt), inner])])
    half_x = ctx.node("Mul", [ctx.constant(0.5, dt), x])
    return ctx.node("Mul", [half_x, ctx.node("Add", [ctx.constant(1.0, dt), t])])


@_on(activation, "Softmax")
def _softmax(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Softmax", [x], axis=int(f.axis))


@_on(activation, "LogSoftmax")
def _log_softmax(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("LogSoftmax", [x], axis=int(f.axis))


# ---------------------------------------------------------------------------- connection
@_on(connection, "Linear")
def _linear(ctx: _Ctx, f: Any, x: str, W: str, b: str | None = None) -> str:
    if b is None:
        return ctx.node("MatMul", [x, W])
    return ctx.node("Gemm", [x, W, b])


@_on(connection, "EmbedID")
def _embed_id(ctx: _Ctx, f: Any, W: str) -> str:
    ids = f.ids
    name = ctx.input_name_of(ids)
    if name is None:
        name = ctx.constant(ids)
    return ctx.node("Gather", [W, name], axis=0)


# ---------------------------------------------------------------------------- convolution
def _check_2d(f: Any) -> None:
    if f.inputs[0].ndim != 4:
        raise ConversionError(f"{type(f).__name__}: only 4-d (N, C, H, W) inputs are supported")


def _window_attrs(f: Any, kernel: Any) -> dict[str, Any]:
    """ONNX's ``kernel_shape``, ``strides`` and ``pads`` of the 2-d sliding-window op ``f``.

    Shared by convolution, deconvolution and pooling. dezero pads both ends of an axis
    alike, ONNX lists the starts then the ends: ``[top, left, bottom, right]``.
    """
    _check_2d(f)
    ph, pw = _pair(_attr(f, "pad", "pd"))
    return {"kernel_shape": _pair(kernel), "strides": _pair(_attr(f, "stride", "st")),
            "pads": [ph, pw, ph, pw]}


def _conv_attrs(f: Any, x: str, W: str, b: str | None) -> tuple[list[str], dict[str, Any]]:
    """The inputs (the bias only when there is one) and window attributes of Conv and
    ConvTranspose; the kernel's size is read off ``W``'s shape (out, in, kh, kw)."""
    return [x, W] + ([b] if b is not None else []), _window_attrs(f, f.inputs[1].shape[2:])


@_on(conv, "Conv2d")
def _conv2d(ctx: _Ctx, f: Any, x: str, W: str, b: str | None = None) -> str:
    inputs, attrs = _conv_attrs(f, x, W, b)
    return ctx.node("Conv", inputs, **attrs)


@_on(conv, "Deconv2d")
def _deconv2d(ctx: _Ctx, f: Any, x: str, W: str, b: str | None = None) -> str:
    inputs, attrs = _conv_attrs(f, x, W, b)
    (kh, kw), (sy, sx), (ph, pw) = attrs["kernel_shape"], attrs["strides"], attrs["pads"][:2]
    h, w = f.inputs[0].shape[2:]
    y = ctx.function_outputs[0]
    oh, ow = (int(s) for s in y.shape[2:]) if y is not None else _pair(_attr(f, "outsize"))
    # ONNX: out = s * (in - 1) + output_padding + k - 2 p, so the extra rows are padding.
    extra = [oh - conv.get_deconv_outsize(h, kh, sy, ph),
             ow - conv.get_deconv_outsize(w, kw, sx, pw)]
    return ctx.node("ConvTranspose", inputs, output_padding=extra if any(extra) else None,
                    **attrs)


# ---------------------------------------------------------------------------- pooling
def _pool_attrs(f: Any) -> dict[str, Any]:
    return _window_attrs(f, _attr(f, "k", "kernel_size", "ksize"))


@_on(pooling, "MaxPooling")
def _max_pooling(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("MaxPool", [x], **_pool_attrs(f))


@_on(pooling, "AveragePooling")
def _average_pooling(ctx: _Ctx, f: Any, x: str) -> str:
    # dezero counts padded positions as zeros in the average.
    return ctx.node("AveragePool", [x], count_include_pad=1, **_pool_attrs(f))


# ---------------------------------------------------------------------------- normalisation
@_on(normalization, "FixedNormalization")
def _fixed_normalization(ctx: _Ctx, f: Any, x: str, gamma: str, beta: str) -> str:
    # The same float operations as dezero's forward: gamma * ((x - mean) * inv) + beta.
    gshape = [int(s) for s in f.gshape]
    xhat = ctx.node("Mul", [ctx.node("Sub", [x, ctx.constant(f.mean)]), ctx.constant(f.inv)])
    g = ctx.node("Reshape", [gamma, ctx.int64s(gshape)])
    bt = ctx.node("Reshape", [beta, ctx.int64s(gshape)])
    y = ctx.node("Add", [ctx.node("Mul", [g, xhat]), bt])
    if np.dtype(f.mean.dtype) != _dtype(f):
        y = ctx.node("Cast", [y], to=ctx.elem_type(_dtype(f)))
    return y


def _normalize(ctx: _Ctx, f: Any, x: str, gamma: str, beta: str) -> str:
    """Normalisation with the statistics of ``x`` over ``f.axes`` (layer_norm)."""
    nd = f.inputs[0].ndim
    axes = sorted(int(a) % nd for a in f.axes)
    gshape = [int(s) for s in f.gshape]
    eps = float(f.eps)
    if ctx.opset >= 17 and axes == [nd - 1] and gshape == [f.inputs[0].shape[-1]]:
        return ctx.node("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=eps)
    dt = _dtype(f)
    mu = ctx.reduce("ReduceMean", x, axes, keepdims=True)
    xc = ctx.node("Sub", [x, mu])
    var = ctx.reduce("ReduceMean", ctx.node("Mul", [xc, xc]), axes, keepdims=True)
    std = ctx.node("Sqrt", [ctx.node("Add", [var, ctx.constant(eps, dt)])])
    xhat = ctx.node("Div", [xc, std])
    g = ctx.node("Reshape", [gamma, ctx.int64s(gshape)])
    bt = ctx.node("Reshape", [beta, ctx.int64s(gshape)])
    return ctx.node("Add", [ctx.node("Mul", [g, xhat]), bt])


# layer_norm's Function; batch_norm's training-mode BatchNorm never appears in test_mode().
_on(normalization, "_Normalize")(_normalize)


# ---------------------------------------------------------------------------- noise
@_on(noise, "Dropout")
def _dropout(ctx: _Ctx, f: Any, x: str) -> str:
    return ctx.node("Identity", [x])  # export runs in test mode: dropout is the identity


# ---------------------------------------------------------------------------- arrays
@_on(array, "Concat")
def _concat(ctx: _Ctx, f: Any, *xs: str) -> str:
    return ctx.node("Concat", list(xs), axis=int(f.axis))


@_on(array, "Split")
def _split(ctx: _Ctx, f: Any, x: str) -> Any:
    v = f.inputs[0]
    axis = int(f.axis) % v.ndim
    bounds = [0, *(int(i) for i in f.indices), int(v.shape[axis])]
    sizes = [max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
    outs = ctx.node("Split", [x, ctx.int64s(sizes)], n_outputs=len(sizes), axis=axis)
    return outs if isinstance(outs, list) else [outs]


@_on(array, "Clip")
def _clip(ctx: _Ctx, f: Any, x: str) -> str:
    dt = _dtype(f)
    return ctx.node("Clip", [x, ctx.constant(f.x_min, dt), ctx.constant(f.x_max, dt)])


@_on(array, "Where")
def _where(ctx: _Ctx, f: Any, x0: str, x1: str) -> str:
    return ctx.node("Where", [ctx.constant(f.condition), x0, x1])
