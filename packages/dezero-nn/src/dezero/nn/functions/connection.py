"""Fully connected ops: linear (one fused node) and embed_id (a table lookup)."""

from __future__ import annotations

from typing import Any

from dezero.core import Function, Variable
from dezero.core.ops import matmul, reshape, sum
from dezero.core.ops.shape import GetItemGrad
from dezero.core.variable import _shape, as_variable

__all__ = ["linear", "embed_id"]


class MatMulNT(Function):
    """``a @ b.T`` without materialising the transpose (BLAS reads it transposed)."""

    def forward(self, a: Any, b: Any) -> Any:
        return a @ b.T

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (matmul(gy, b) if na else None, MatMulTN()(gy, a) if nb else None)


class MatMulTN(Function):
    """``a.T @ b`` without materialising the transpose."""

    def forward(self, a: Any, b: Any) -> Any:
        return a.T @ b

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (MatMulNT()(b, gy) if na else None, matmul(a, gy) if nb else None)


class Linear(Function):
    """``x @ W + b`` for 2-d ``x``, in one node (one matrix product each way)."""

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        y = x @ W
        if b is not None:
            y += b
        return y

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, W = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = MatMulNT()(gy, W) if need[0] else None
        gW = MatMulTN()(x, gy) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        gb = sum(gy, axis=0) if need[2] else None
        return gx, gW, gb


def linear(x: Any, W: Any, b: Any = None) -> Variable:
    """Affine map ``x @ W + b``.

    ``x`` of more than two dimensions is treated as a batch of rows over its last axis.

    Args:
        x: input of shape ``(..., in_size)``.
        W: weights of shape ``(in_size, out_size)``.
        b: optional bias of shape ``(out_size,)``.

    Returns:
        A Variable of shape ``(..., out_size)``.

    Examples:
        >>> F.linear(np.array([[1.0, 2.0]]), np.array([[1.0], [1.0]]), np.array([0.5])).data
        array([[3.5]])
    """
    xs, ws = _shape(x), _shape(W)
    if len(ws) != 2 or len(xs) < 1 or xs[-1] != ws[0]:
        raise ValueError(
            f"linear: x of shape {xs} does not fit W of shape {ws} (W must be 2-d "
            f"(in_size, out_size) with in_size equal to x's last dimension)"
        )
    if b is not None and _shape(b) != (ws[1],):
        raise ValueError(
            f"linear: b of shape {_shape(b)} does not fit W of shape {ws} "
            f"(expected ({ws[1]},))"
        )
    if len(xs) == 2:
        return Linear()(x, W) if b is None else Linear()(x, W, b)
    x2 = reshape(as_variable(x), (-1, ws[0]))
    y = Linear()(x2, W) if b is None else Linear()(x2, W, b)
    return reshape(y, xs[:-1] + (ws[1],))


class EmbedID(Function):
    def __init__(self, ids: Any) -> None:
        self.ids = ids

    def forward(self, W: Any) -> Any:
        return W[self.ids]

    def backward(self, gy: Variable) -> Variable:
        # Scatter-add, itself differentiable (its backward is the lookup again).
        return GetItemGrad(self.ids, self.inputs[0].shape)(gy)


def embed_id(x: Any, W: Any) -> Variable:
    """Rows of the embedding table ``W`` picked by the integer ids ``x``.

    Args:
        x: integer ids, any shape, each in ``[0, W.shape[0])``.
        W: the table, of shape ``(n_vocab, n_units)``.

    Returns:
        A Variable of shape ``x.shape + (n_units,)``.

    Examples:
        >>> W = np.array([[0.0, 0.0], [1.0, 2.0]])
        >>> F.embed_id(np.array([1, 0, 1]), W).data
        array([[1., 2.],
               [0., 0.],
               [1., 2.]])
    """
    ids = x.data if isinstance(x, Variable) else x
    ws = _shape(W)
    if getattr(getattr(ids, "dtype", None), "kind", None) not in ("i", "u"):
        raise TypeError(
            f"embed_id: x must be an integer array, got {getattr(ids, 'dtype', type(ids))}"
        )
    if len(ws) != 2:
        raise ValueError(f"embed_id: W must be 2-d (n_vocab, n_units), got shape {ws}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= ws[0]):
        bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
        raise ValueError(f"embed_id: id {bad} is out of range for a table of {ws[0]} rows")
    return EmbedID(ids)(W)
