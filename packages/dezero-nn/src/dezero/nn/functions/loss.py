"""Loss functions: mean squared error, softmax / sigmoid / binary cross-entropy."""

from __future__ import annotations

from typing import Any

from dezero.core import Function, Variable, get_array_module
from dezero.core.ops import broadcast_to, log, sum
from dezero.core.variable import _const, _shape, as_variable
from dezero.nn.functions._device import check_same_device
from dezero.nn.functions.activation import sigmoid, softmax

__all__ = [
    "mean_squared_error", "softmax_cross_entropy", "sigmoid_cross_entropy",
    "binary_cross_entropy",
]


def _label_array(fname: str, t: Any, allow_bool: bool = True) -> Any:
    t = t.data if isinstance(t, Variable) else t
    kind = getattr(getattr(t, "dtype", None), "kind", None)
    # Class indices must be integers: a boolean array would index as a mask instead.
    if kind not in (("i", "u", "b") if allow_bool else ("i", "u")):
        raise TypeError(
            f"{fname}: labels t must be an integer array, got "
            f"{getattr(t, 'dtype', type(t).__name__)}"
        )
    return t


# ---------------------------------------------------------------------------- MSE
class MeanSquaredError(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        diff = x0 - x1
        return (diff * diff).sum() / _batch_len(diff)

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        diff = x0 - x1
        gx = broadcast_to(gy, diff.shape) * diff * (2.0 / _batch_len(diff))
        n0, n1 = self.needs_input_grad
        return (gx if n0 else None, -gx if n1 else None)


def _batch_len(a: Any) -> int:
    # DeZero divides by len(x), the batch size; a 0-d input counts as one sample.
    return int(a.shape[0]) if a.ndim else 1


def mean_squared_error(x0: Any, x1: Any) -> Variable:
    """DeZero's definition: ``sum((x0 - x1) ** 2) / len(x0)``.

    The squared error summed over each sample's elements and averaged over the batch
    (the first axis). For shapes ``(N,)`` and ``(N, 1)`` this is the mean over all
    elements; for ``(N, D)`` it is ``D`` times that mean (PyTorch's ``MSELoss`` with
    ``reduction="mean"`` averages over all ``N * D`` elements instead).

    Args:
        x0, x1: Variables or arrays of the same shape.
    Returns:
        A 0-d Variable.
    """
    if _shape(x0) != _shape(x1):
        raise ValueError(
            f"mean_squared_error: x0 and x1 must have the same shape, got {_shape(x0)} and "
            f"{_shape(x1)}"
        )
    return MeanSquaredError()(x0, x1)


# ---------------------------------------------------------------------------- softmax CE
class SoftmaxCrossEntropy(Function):
    """``-mean(log softmax(x)[i, t_i])``, fused: one node forward, one node backward."""

    def __init__(self, t: Any) -> None:
        self.t = t

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        n = x.shape[0]
        m = x.max(axis=1, keepdims=True)
        e = xp.exp(x - m)
        s = e.sum(axis=1, keepdims=True)
        rows = xp.arange(n)
        # log softmax at the labels only: x_t - m - log(sum e).
        log_p = x[rows, self.t] - m[:, 0] - xp.log(s[:, 0])
        # Kept for backward: the probabilities cost one division here, an exp() there.
        e /= s
        self.prob = e
        return xp.asarray(-log_p.sum() / n)

    def backward(self, gy: Variable) -> Variable:
        return SoftmaxCrossEntropyGrad(self.t, self.prob)(self.inputs[0], gy)


class SoftmaxCrossEntropyGrad(Function):
    """``(softmax(x) - onehot(t)) * gy / N``, differentiable in ``x`` and ``gy``."""

    def __init__(self, t: Any, prob: Any) -> None:
        self.t = t
        self.prob = prob

    def forward(self, x: Any, gy: Any) -> Any:
        xp = get_array_module(x)
        n = x.shape[0]
        g = self.prob.copy()
        g[xp.arange(n), self.t] -= 1
        g *= gy / n  # gy is 0-d of x's dtype, so the product stays in that dtype
        return g

    def _onehot(self) -> Any:
        xp = get_array_module(self.prob)
        d = xp.zeros_like(self.prob)
        d[xp.arange(d.shape[0]), self.t] = 1
        return d

    def backward(self, ggx: Variable) -> tuple[Variable | None, Variable | None]:
        x, gy = self.inputs
        nx, ngy = self.needs_input_grad
        n = x.shape[0]
        gx = g_gy = None
        if nx:
            # Transposed Jacobian of softmax applied to h = ggx * gy / N.
            p = softmax(x, axis=1)
            h = ggx * (broadcast_to(gy, x.shape) / n)
            ph = p * h
            gx = ph - p * sum(ph, axis=1, keepdims=True)
        if ngy:
            p = softmax(x, axis=1)
            g_gy = sum(ggx * (p - _const(self._onehot()))) / n
        return gx, g_gy


def softmax_cross_entropy(x: Any, t: Any) -> Variable:
    """Cross-entropy of ``softmax(x)`` against integer labels, averaged over the batch.

    Computed through log-sum-exp, so large scores do not overflow.

    Args:
        x: scores of shape ``(N, C)``.
        t: integer labels of shape ``(N,)``, each in ``[0, C)``.
    Returns:
        A 0-d Variable of ``x``'s dtype.
    """
    t = _label_array("softmax_cross_entropy", t, allow_bool=False)
    xs = _shape(x)
    if len(xs) != 2:
        raise ValueError(f"softmax_cross_entropy: x must be 2-d (N, C), got shape {xs}")
    if t.shape != (xs[0],):
        raise ValueError(
            f"softmax_cross_entropy: t must have shape ({xs[0]},) to match x of shape {xs}, "
            f"got {t.shape}"
        )
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= xs[1]:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"softmax_cross_entropy: label {bad} is out of range for x of shape {xs} "
                f"({xs[1]} classes; labels must be in [0, {xs[1]}))"
            )
    return SoftmaxCrossEntropy(t)(x)


# ---------------------------------------------------------------------------- sigmoid CE
class SigmoidCrossEntropy(Function):
    def __init__(self, t: Any) -> None:
        self.t = t

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        t = self.t.astype(x.dtype)
        # max(x,0) - x t + log(1 + e^-|x|): the stable form of -t log p - (1-t) log(1-p).
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return xp.asarray(loss.sum() / x.size)

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        t = _const(self.t.astype(x.dtype))
        return (sigmoid(x) - t) * (broadcast_to(gy, x.shape) / x.size)


def sigmoid_cross_entropy(x: Any, t: Any) -> Variable:
    """Binary cross-entropy of ``sigmoid(x)`` against 0/1 labels, averaged over all elements.

    Args:
        x: scores (logits), any shape.
        t: integer (or boolean) labels of ``x``'s shape, each 0 or 1.
    Returns:
        A 0-d Variable of ``x``'s dtype.
    """
    t = _label_array("sigmoid_cross_entropy", t)
    check_same_device("sigmoid_cross_entropy", "x", x, t=t)
    if t.shape != _shape(x):
        raise ValueError(
            f"sigmoid_cross_entropy: t must have x's shape {_shape(x)}, got {t.shape}"
        )
    if t.size and (int(t.min()) < 0 or int(t.max()) > 1):
        raise ValueError(
            f"sigmoid_cross_entropy: labels must be 0 or 1, got values in "
            f"[{int(t.min())}, {int(t.max())}]"
        )
    return SigmoidCrossEntropy(t)(x)


# ---------------------------------------------------------------------------- BCE
class BinaryCrossEntropy(Function):
    def forward(self, p: Any, t: Any) -> Any:
        xp = get_array_module(p)
        q = 1 - p
        # log clamped at -100 (as PyTorch) so p = 0 or 1 gives a finite loss, with no
        # log(0) evaluated on the way.
        # No item assignment: on 0-d input the ufuncs return scalars.
        log_p = xp.where(p > 0, xp.maximum(xp.log(xp.where(p > 0, p, 1)), -100), -100)
        log_q = xp.where(q > 0, xp.maximum(xp.log(xp.where(q > 0, q, 1)), -100), -100)
        loss = -(t * log_p + (1 - t) * log_q)
        return xp.asarray(loss.sum() / p.size)

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        p, t = self.inputs
        np_, nt = self.needs_input_grad
        g = broadcast_to(gy, p.shape) / p.size
        gp = None
        if np_:
            # p = 0 or 1 (a saturated sigmoid in float32) would divide by zero: floor the
            # denominator at 1e-12, as PyTorch does, with a constant so it stays
            # differentiable.
            den = p * (1 - p)
            xp = get_array_module(den)
            floor = _const(xp.where(den.data > 1e-12, 0, 1e-12).astype(den.dtype))
            gp = g * (p - t) / (den + floor)
        gt = g * (log(1 - p) - log(p)) if nt else None
        return gp, gt


def binary_cross_entropy(p: Any, t: Any) -> Variable:
    """Binary cross-entropy ``-mean(t log p + (1 - t) log(1 - p))`` of probabilities ``p``.

    Prefer :func:`sigmoid_cross_entropy` on logits: it is numerically safer.

    Args:
        p: probabilities in ``[0, 1]``, any shape.
        t: targets of ``p``'s shape (0/1 labels or soft targets).
    Returns:
        A 0-d Variable of ``p``'s dtype.
    """
    if _shape(t) != _shape(p):
        raise ValueError(
            f"binary_cross_entropy: t must have p's shape {_shape(p)}, got {_shape(t)}"
        )
    t = as_variable(t)
    pd = p.data if isinstance(p, Variable) else p
    if t.dtype is not None and t.dtype.kind in "iub" and hasattr(pd, "dtype"):
        t = _const(t.data.astype(pd.dtype))  # integer labels join p's dtype
    return BinaryCrossEntropy()(p, t)
