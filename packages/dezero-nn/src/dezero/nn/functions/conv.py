"""2-d convolution, transposed convolution and im2col/col2im, from strided views and GEMMs.

The patches of an image are a strided *view* (``as_strided``, no copy) of shape
``(N, C, OH, OW, KH, KW)``; a convolution is then one ``tensordot`` of that view with
the filters. Going back (col2im) adds each of the KH*KW kernel offsets in one slice
assignment, so there is no Python loop over output pixels, and the same code runs on
NumPy and CuPy.
"""

from __future__ import annotations

from typing import Any

from dezero.core import Config, Function, Variable, get_array_module
from dezero.core.ops import sum
from dezero.core.variable import _shape

__all__ = ["conv2d", "deconv2d", "im2col", "col2im", "get_conv_outsize", "get_deconv_outsize"]


# ---------------------------------------------------------------------------- helpers
def _pair(fname: str, name: str, v: Any) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        p = (v, v)
    elif isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) for i in v):
        p = (int(v[0]), int(v[1]))
    else:
        raise TypeError(f"{fname}: {name} must be an int or a pair of ints, got {v!r}")
    return p


def get_conv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a convolution over ``size`` with kernel ``k``, stride ``s``, pad ``p``."""
    return (size + 2 * p - k) // s + 1


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution (the inverse of `get_conv_outsize`)."""
    return s * (size - 1) + k - 2 * p


def _windows(
    x: Any, kh: int, kw: int, sy: int, sx: int, ph: int, pw: int, pad_value: float = 0
) -> Any:
    """A read-only strided view of the patches of ``x``: ``(N, C, OH, OW, KH, KW)``."""
    xp = get_array_module(x)
    if ph or pw:
        x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh = (h - kh) // sy + 1
    ow = (w - kw) // sx + 1
    s0, s1, s2, s3 = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s0, s1, s2 * sy, s3 * sx, s2, s3)
    )


def _col2im_array(
    col: Any, img_shape: tuple[int, ...], sy: int, sx: int, ph: int, pw: int
) -> Any:
    """Sum the patches ``col`` ``(N, C, OH, OW, KH, KW)`` back into an image of ``img_shape``."""
    xp = get_array_module(col)
    n, c, oh, ow, kh, kw = col.shape
    h, w = img_shape[2], img_shape[3]
    # Room for the padding, plus the rows/columns a stride may step over at the end.
    hp = max(h + 2 * ph, sy * (oh - 1) + kh)
    wp = max(w + 2 * pw, sx * (ow - 1) + kw)
    img = xp.zeros((n, c, hp, wp), dtype=col.dtype)
    for i in range(kh):  # a loop over kernel offsets only: each step is one strided add
        i_end = i + sy * oh
        for j in range(kw):
            img[:, :, i:i_end:sy, j : j + sx * ow : sx] += col[:, :, :, :, i, j]
    return img[:, :, ph : ph + h, pw : pw + w]


# ---------------------------------------------------------------------------- conv2d
class Conv2d(Function):
    def __init__(self, stride: tuple[int, int], pad: tuple[int, int],
                 keep_col: bool = True) -> None:
        self.stride = stride
        self.pad = pad
        # The patch matrix is as large as the input times KH*KW: keep it only for gW.
        self.keep_col = keep_col
        self.col: Any = None

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        kh, kw = W.shape[2:]
        col = _windows(x, kh, kw, *self.stride, *self.pad)
        # (N, OH, OW, C*KH*KW) @ (C*KH*KW, OC): one GEMM over every output pixel.
        n, c, oh, ow = col.shape[:4]
        colm = col.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        y = colm @ W.reshape(W.shape[0], -1).T
        if b is not None:
            y += b
        if self.keep_col and Config.enable_backprop:
            self.col = colm  # reused by the weight gradient (as Chainer does)
        # A channels-last array seen as (N, OC, OH, OW): copying it to NCHW would cost more
        # than every later op gains; they all work on strided arrays.
        return y.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, W = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = gW = gb = None
        if need[0]:
            gx = deconv2d(gy, W, None, self.stride, self.pad, outsize=x.shape[2:])
        if need[1]:
            gW = Conv2dGradW((W.shape[2], W.shape[3]), self.stride, self.pad, self.col)(x, gy)
        self.col = None
        if len(self.inputs) == 2:
            return gx, gW
        if need[2]:
            gb = sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


class Conv2dGradW(Function):
    """The filter gradient of conv2d, ``gW = sum over pixels of gy * patches(x)``."""

    def __init__(
        self, ksize: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int], col: Any
    ) -> None:
        self.ksize = ksize
        self.stride = stride
        self.pad = pad
        self.col = col

    def forward(self, x: Any, gy: Any) -> Any:
        kh, kw = self.ksize
        n, oc, oh, ow = gy.shape
        c = x.shape[1]
        col = self.col
        if col is None:
            col = _windows(x, kh, kw, *self.stride, *self.pad)
            col = col.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        self.col = None
        # A free view when gy is channels-last (as conv2d's own output is), a copy otherwise.
        gy2 = gy.transpose(0, 2, 3, 1).reshape(n * oh * ow, oc)
        return (gy2.T @ col).reshape(oc, c, kh, kw)

    def backward(self, ggW: Variable) -> tuple[Variable | None, Variable | None]:
        x, gy = self.inputs
        nx, ngy = self.needs_input_grad
        gx = deconv2d(gy, ggW, None, self.stride, self.pad, outsize=x.shape[2:]) if nx else None
        ggy = conv2d(x, ggW, None, self.stride, self.pad) if ngy else None
        return gx, ggy


def _check_conv(
    fname: str, x: Any, W: Any, b: Any, out_axis: int, in_axis: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    xs, ws = _shape(x), _shape(W)
    if len(xs) != 4:
        raise ValueError(f"{fname}: x must be 4-d (N, C, H, W), got shape {xs}")
    if len(ws) != 4:
        raise ValueError(f"{fname}: W must be 4-d, got shape {ws}")
    if xs[1] != ws[in_axis]:
        raise ValueError(
            f"{fname}: x has {xs[1]} channels but W of shape {ws} expects {ws[in_axis]} "
            f"(x shape {xs})"
        )
    if b is not None and _shape(b) != (ws[out_axis],):
        raise ValueError(
            f"{fname}: b of shape {_shape(b)} does not fit W of shape {ws} "
            f"(expected ({ws[out_axis]},))"
        )
    return xs, ws


def conv2d(
    x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0
) -> Variable:
    """2-d convolution (cross-correlation, as in every deep-learning library).

    Args:
        x: input of shape ``(N, C, H, W)``.
        W: filters of shape ``(OC, C, KH, KW)``.
        b: optional bias of shape ``(OC,)``.
        stride: an int or a pair ``(sy, sx)``.
        pad: zero padding, an int or a pair ``(ph, pw)``.

    Returns:
        A Variable of shape ``(N, OC, OH, OW)``, ``OH = (H + 2 ph - KH) // sy + 1``.

    Examples:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> F.conv2d(x, np.ones((1, 1, 2, 2))).data[0, 0]  # sums of the 2x2 windows
        array([[ 8., 12.],
               [20., 24.]])
    """
    st, pd = _pair("conv2d", "stride", stride), _pair("conv2d", "pad", pad)
    if min(st) < 1 or min(pd) < 0:
        raise ValueError(f"conv2d: stride must be >= 1 and pad >= 0, got {stride}, {pad}")
    xs, ws = _check_conv("conv2d", x, W, b, 0, 1)
    oh = get_conv_outsize(xs[2], ws[2], st[0], pd[0])
    ow = get_conv_outsize(xs[3], ws[3], st[1], pd[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"conv2d: kernel {ws[2:]} is larger than the padded input {xs[2:]} (pad {pd})"
        )
    # A frozen or constant W (requires_grad False) gets no gradient: keep no patch matrix.
    f = Conv2d(st, pd, keep_col=getattr(W, "requires_grad", True))
    return f(x, W) if b is None else f(x, W, b)


# ---------------------------------------------------------------------------- deconv2d
class Deconv2d(Function):
    def __init__(
        self, stride: tuple[int, int], pad: tuple[int, int], outsize: tuple[int, int]
    ) -> None:
        self.stride = stride
        self.pad = pad
        self.outsize = outsize

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        xp = get_array_module(x)
        n, c, h, w = x.shape
        cout, kh, kw = W.shape[1:]
        # (N*H*W, Cin) @ (Cin, Cout*KH*KW): every input pixel spreads one patch.
        x2 = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)
        col = (x2 @ W.reshape(c, -1)).reshape(n, h, w, cout, kh, kw)
        col = col.transpose(0, 3, 1, 2, 4, 5)
        y = _col2im_array(col, (n, cout) + self.outsize, *self.stride, *self.pad)
        if b is not None:
            y = y + b.reshape(1, -1, 1, 1)
        return xp.ascontiguousarray(y)

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, W = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = gW = gb = None
        if need[0]:
            gx = conv2d(gy, W, None, self.stride, self.pad)
        if need[1]:
            gW = Conv2dGradW((W.shape[2], W.shape[3]), self.stride, self.pad, None)(gy, x)
        if len(self.inputs) == 2:
            return gx, gW
        if need[2]:
            gb = sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


def deconv2d(
    x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0, outsize: Any = None
) -> Variable:
    """2-d transposed convolution (the gradient of [`conv2d`][dezero.nn.functions.conv2d] with
    respect to its input).

    Args:
        x: input of shape ``(N, C, H, W)``.
        W: filters of shape ``(C, OC, KH, KW)``.
        b: optional bias of shape ``(OC,)``.
        stride: an int or a pair ``(sy, sx)``.
        pad: an int or a pair ``(ph, pw)``, removed from the border of the output.
        outsize: ``(OH, OW)``; default ``sy * (H - 1) + KH - 2 ph`` (and likewise for OW).
            Any size whose convolution gives back ``(H, W)`` is allowed.

    Returns:
        A Variable of shape ``(N, OC, OH, OW)``.

    Examples:
        >>> y = F.deconv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
        >>> y.data[0, 0]  # how many of the 2x2 kernel placements cover each pixel
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    st, pd = _pair("deconv2d", "stride", stride), _pair("deconv2d", "pad", pad)
    if min(st) < 1 or min(pd) < 0:
        raise ValueError(f"deconv2d: stride must be >= 1 and pad >= 0, got {stride}, {pad}")
    xs, ws = _check_conv("deconv2d", x, W, b, 1, 0)
    if outsize is None:
        out = (
            get_deconv_outsize(xs[2], ws[2], st[0], pd[0]),
            get_deconv_outsize(xs[3], ws[3], st[1], pd[1]),
        )
    else:
        out = _pair("deconv2d", "outsize", tuple(int(v) for v in outsize))
        back = (
            get_conv_outsize(out[0], ws[2], st[0], pd[0]),
            get_conv_outsize(out[1], ws[3], st[1], pd[1]),
        )
        if back != xs[2:]:
            raise ValueError(
                f"deconv2d: outsize {out} is inconsistent with x of shape {xs}, W of shape "
                f"{ws}, stride {st}, pad {pd} (its convolution would be {back})"
            )
    if out[0] < 1 or out[1] < 1:
        raise ValueError(f"deconv2d: the output size {out} is empty (x {xs}, W {ws}, pad {pd})")
    f = Deconv2d(st, pd, out)
    return f(x, W) if b is None else f(x, W, b)


# ---------------------------------------------------------------------------- im2col
class Im2col(Function):
    def __init__(
        self, ksize: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
        to_matrix: bool,
    ) -> None:
        self.ksize, self.stride, self.pad, self.to_matrix = ksize, stride, pad, to_matrix

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        col = _windows(x, *self.ksize, *self.stride, *self.pad)
        n, c, oh, ow, kh, kw = col.shape
        if self.to_matrix:
            return col.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        return get_array_module(x).ascontiguousarray(col.transpose(0, 1, 4, 5, 2, 3))

    def backward(self, gy: Variable) -> Variable:
        return Col2im(self.x_shape, self.ksize, self.stride, self.pad, self.to_matrix)(gy)


class Col2im(Function):
    def __init__(
        self, x_shape: tuple[int, ...], ksize: tuple[int, int], stride: tuple[int, int],
        pad: tuple[int, int], to_matrix: bool,
    ) -> None:
        self.x_shape, self.ksize, self.stride = x_shape, ksize, stride
        self.pad, self.to_matrix = pad, to_matrix

    def forward(self, col: Any) -> Any:
        n, c, h, w = self.x_shape
        kh, kw = self.ksize
        oh = get_conv_outsize(h, kh, self.stride[0], self.pad[0])
        ow = get_conv_outsize(w, kw, self.stride[1], self.pad[1])
        if self.to_matrix:
            col = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
        else:
            col = col.transpose(0, 1, 4, 5, 2, 3)
        return get_array_module(col).ascontiguousarray(
            _col2im_array(col, self.x_shape, *self.stride, *self.pad)
        )

    def backward(self, gy: Variable) -> Variable:
        return Im2col(self.ksize, self.stride, self.pad, self.to_matrix)(gy)


def im2col(
    x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0, to_matrix: bool = True
) -> Variable:
    """Extract the patches of an image batch (differentiable; its gradient is col2im).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair ``(sy, sx)``.
        pad: zero padding, an int or a pair ``(ph, pw)``.
        to_matrix: return the matrix ``(N*OH*OW, C*KH*KW)`` (one patch per row) instead
            of the array ``(N, C, KH, KW, OH, OW)``.

    Returns:
        A Variable holding the patches.

    Examples:
        >>> F.im2col(np.arange(9.0).reshape(1, 1, 3, 3), 2).data
        array([[0., 1., 3., 4.],
               [1., 2., 4., 5.],
               [3., 4., 6., 7.],
               [4., 5., 7., 8.]])
    """
    if len(_shape(x)) != 4:
        raise ValueError(f"im2col: x must be 4-d (N, C, H, W), got shape {_shape(x)}")
    k = _pair("im2col", "kernel_size", kernel_size)
    st, pd = _pair("im2col", "stride", stride), _pair("im2col", "pad", pad)
    return Im2col(k, st, pd, to_matrix)(x)


def col2im(
    col: Any, img_shape: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0,
    to_matrix: bool = True,
) -> Variable:
    """Sum patches back into an image: the adjoint of [`im2col`][dezero.nn.functions.im2col]
    (overlaps add up).

    Args:
        col: patches as [`im2col`][dezero.nn.functions.im2col] returns them (matrix or 6-d array).
        img_shape: the image shape ``(N, C, H, W)``.
        kernel_size: an int or a pair ``(kh, kw)``, as given to im2col.
        stride: an int or a pair ``(sy, sx)``, as given to im2col.
        pad: an int or a pair ``(ph, pw)``, as given to im2col.
        to_matrix: whether ``col`` is in matrix form.

    Returns:
        A Variable of shape ``img_shape``.

    Examples:
        >>> F.col2im(np.ones((4, 4)), (1, 1, 3, 3), 2).data[0, 0]  # overlaps add up
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    shape = tuple(int(s) for s in img_shape)
    if len(shape) != 4:
        raise ValueError(f"col2im: img_shape must be (N, C, H, W), got {img_shape!r}")
    k = _pair("col2im", "kernel_size", kernel_size)
    st, pd = _pair("col2im", "stride", stride), _pair("col2im", "pad", pad)
    n, c, h, w = shape
    oh, ow = get_conv_outsize(h, k[0], st[0], pd[0]), get_conv_outsize(w, k[1], st[1], pd[1])
    want = (n * oh * ow, c * k[0] * k[1]) if to_matrix else (n, c, k[0], k[1], oh, ow)
    if _shape(col) != want:
        raise ValueError(
            f"col2im: col of shape {_shape(col)} does not fit img_shape {shape} with kernel {k}, "
            f"stride {st}, pad {pd} (expected {want})"
        )
    return Col2im(shape, k, st, pd, to_matrix)(col)
