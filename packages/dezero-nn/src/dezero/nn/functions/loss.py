"""Loss functions: mean squared error, Huber, softmax / sigmoid / binary cross-entropy.

Where DeZero defines a loss, the default is DeZero's meaning: the loss summed over each
sample and divided by the batch size ``len(x)`` (``reduction="batchmean"``). The
``reduction=`` keyword offers PyTorch's alternatives: ``"mean"`` (over every element),
``"sum"`` and ``"none"`` (elementwise, or one value per sample for
``softmax_cross_entropy``). ``huber_loss``, which DeZero lacks, defaults to PyTorch's
``"mean"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.core import Function, Variable, get_array_module
from dezero.core.ops import broadcast_to, get_item, log, sum, sum_to
from dezero.core.variable import _const, _shape, as_variable
from dezero.nn.functions._device import check_same_device
from dezero.nn.functions._labels import (
    check_not_empty,
    check_reduction,
    class_labels,
    raw,
    target_like,
)
from dezero.nn.functions.activation import log_softmax, sigmoid, softmax
from dezero.nn.functions.array import clip

__all__ = [
    "mean_squared_error", "softmax_cross_entropy", "sigmoid_cross_entropy",
    "binary_cross_entropy", "huber_loss",
]

def _divisor(reduction: str, shape: tuple[int, ...]) -> int | None:
    """What the summed loss is divided by; None for ``"none"`` (no reduction)."""
    if reduction == "none":
        return None
    if reduction == "sum":
        return 1
    if reduction == "mean":
        n = 1
        for d in shape:
            n *= d
        return n
    return shape[0] if shape else 1  # batchmean


def _reduce(loss: Any, divisor: int | None) -> Any:
    xp = get_array_module(loss)
    return loss if divisor is None else xp.asarray(loss.sum() / divisor)


def _spread(gy: Variable, shape: tuple[int, ...], divisor: int | None) -> Variable:
    # Gradient of the reduction: gy (0-d, or elementwise for "none") over every element.
    return gy if divisor is None else broadcast_to(gy, shape) / divisor


# ---------------------------------------------------------------------------- MSE
class MeanSquaredError(Function):
    def __init__(self, divisor: int | None) -> None:
        self.divisor = divisor

    def forward(self, x0: Any, x1: Any) -> Any:
        diff = x0 - x1
        return _reduce(diff * diff, self.divisor)

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        x0, x1 = self.inputs
        diff = x0 - x1
        gx = _spread(gy, diff.shape, self.divisor) * diff * 2.0
        n0, n1 = self.needs_input_grad
        gx1 = None
        if n1:
            gx1 = -gx if x1.shape == gx.shape else sum_to(-gx, x1.shape)
        return (gx if n0 else None, gx1)


def mean_squared_error(x0: Any, x1: Any, reduction: str = "batchmean") -> Variable:
    """DeZero's definition: ``sum((x0 - x1) ** 2) / len(x0)``.

    The squared error summed over each sample's elements and averaged over the batch
    (the first axis). For shapes ``(N,)`` and ``(N, 1)`` this is the mean over all
    elements; for ``(N, D)`` it is ``D`` times that mean (PyTorch's ``MSELoss`` with
    ``reduction="mean"`` averages over all ``N * D`` elements instead).

    Args:
        x0: predictions, any shape.
        x1: targets of ``x0``'s shape, or one that broadcasts to it (``(D,)`` against
            ``(N, D)``). A broadcast that would grow ``x0`` (``(N, 1)`` against ``(N,)``
            gives ``(N, N)`` in DeZero) is refused.
        reduction: ``"batchmean"`` (DeZero's, the default), ``"mean"``, ``"sum"`` or
            ``"none"`` (the elementwise squared error).

    Returns:
        A 0-d Variable (``x0``'s shape for ``"none"``).

    Examples:
        >>> float(F.mean_squared_error(np.array([1.0, 2.0]), np.array([1.0, 4.0])).data)
        2.0
    """
    check_reduction("mean_squared_error", reduction)
    s0 = _shape(x0)
    _check_target_shape("mean_squared_error", s0, _shape(x1))
    check_not_empty("mean_squared_error", "x0", s0)
    return MeanSquaredError(_divisor(reduction, s0))(x0, x1)


def _check_target_shape(fname: str, s0: tuple[int, ...], s1: tuple[int, ...]) -> None:
    if s1 != s0:
        try:
            fits = np.broadcast_shapes(s0, s1) == s0
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{fname}: x0 and x1 must have the same shape (or x1 one that "
                f"broadcasts to x0's), got {s0} and {s1}"
            )


# ---------------------------------------------------------------------------- Huber
def huber_loss(x0: Any, x1: Any, delta: float = 1.0, reduction: str = "mean") -> Variable:
    """Huber loss (PyTorch's ``HuberLoss``): quadratic for small errors, linear for large.

    With ``d = x0 - x1``, each element's loss is ``0.5 * d**2`` where ``|d| <= delta`` and
    ``delta * (|d| - 0.5 * delta)`` elsewhere (``delta`` times ``smooth_l1``). The
    gradient is ``d`` clipped to ``[-delta, delta]``.

    DeZero has no Huber loss, so the default reduction is PyTorch's ``"mean"`` over every
    element (the other losses default to DeZero's ``"batchmean"``).

    Args:
        x0: predictions, any shape.
        x1: targets of ``x0``'s shape, or one that broadcasts to it (``(D,)`` against
            ``(N, D)``); a broadcast that would grow ``x0`` is refused.
        delta: where the loss turns from quadratic to linear; positive.
        reduction: ``"mean"`` (the default), ``"batchmean"`` (the sum over each sample,
            averaged over the first axis), ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        A 0-d Variable (``x0``'s shape for ``"none"``).

    Examples:
        >>> float(F.huber_loss(np.array([0.0, 3.0]), np.array([0.5, 0.0])).data)  # (0.125+2.5)/2
        1.3125
    """
    check_reduction("huber_loss", reduction)
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)) \
            or not delta > 0 or not np.isfinite(delta):
        raise ValueError(f"huber_loss: delta must be a positive finite number, got {delta!r}")
    s0 = _shape(x0)
    _check_target_shape("huber_loss", s0, _shape(x1))
    check_not_empty("huber_loss", "x0", s0)
    delta = float(delta)
    d = as_variable(x0) - x1
    q = clip(d, -delta, delta)  # the gradient; equal to d in the quadratic zone
    loss = q * (d - 0.5 * q)  # 0.5 d^2 inside, delta (|d| - delta / 2) outside
    divisor = _divisor(reduction, s0)
    if divisor is None:
        return loss
    total = sum(loss)
    return total if divisor == 1 else total / float(divisor)


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


def softmax_cross_entropy(x: Any, t: Any, reduction: str = "batchmean") -> Variable:
    """Cross-entropy of ``softmax(x)`` against integer labels, averaged over the batch.

    Computed through log-sum-exp, so large scores do not overflow.

    Args:
        x: scores of shape ``(N, C)``.
        t: integer labels of shape ``(N,)`` (or ``(N, 1)``, as DeZero accepts), each in
            ``[0, C)``.
        reduction: ``"batchmean"`` (the default) and ``"mean"`` both average over the
            ``N`` samples; ``"sum"`` sums; ``"none"`` gives the ``N`` per-sample losses.

    Returns:
        A 0-d Variable of ``x``'s dtype (shape ``(N,)`` for ``"none"``).

    Examples:
        >>> loss = F.softmax_cross_entropy(np.array([[0.0, np.log(3.0)]]), np.array([1]))
        >>> round(float(loss.data), 4)  # -log(3/4)
        0.2877
    """
    check_reduction("softmax_cross_entropy", reduction)
    t = class_labels("softmax_cross_entropy", _shape(x), t)
    if reduction == "none":
        xp = get_array_module(t)
        return -get_item(log_softmax(x, axis=1), (xp.arange(t.shape[0]), t))
    y = SoftmaxCrossEntropy(t)(x)
    return y * float(t.shape[0]) if reduction == "sum" else y


# ---------------------------------------------------------------------------- sigmoid CE
class SigmoidCrossEntropy(Function):
    def __init__(self, t: Any, divisor: int | None) -> None:
        self.t = t
        self.divisor = divisor

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        t = self.t.astype(x.dtype)
        # max(x,0) - x t + log(1 + e^-|x|): the stable form of -t log p - (1-t) log(1-p).
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return _reduce(loss, self.divisor)

    def backward(self, gy: Variable) -> Variable:
        x = self.inputs[0]
        t = _const(self.t.astype(x.dtype))
        return (sigmoid(x) - t) * _spread(gy, x.shape, self.divisor)


def _unit_targets(fname: str, x: Any, t: Any) -> Any:
    """Targets in [0, 1] (integer, boolean or float), shaped like ``x`` as DeZero does."""
    t = raw(t)
    kind = getattr(getattr(t, "dtype", None), "kind", None)
    if kind not in ("i", "u", "b", "f"):
        raise TypeError(
            f"{fname}: targets t must be a numeric array, got "
            f"{getattr(t, 'dtype', type(t).__name__)}"
        )
    check_same_device(fname, "x", x, t=t)
    t = target_like(fname, _shape(x), t)
    if t.size:
        lo, hi = t.min(), t.max()
        if not (lo >= 0 and hi <= 1):  # also catches NaN
            raise ValueError(
                f"{fname}: targets must be in [0, 1] (0/1 labels or probabilities), got "
                f"values in [{float(lo)}, {float(hi)}]"
            )
    return t


def sigmoid_cross_entropy(x: Any, t: Any, reduction: str = "batchmean") -> Variable:
    """Binary cross-entropy of ``sigmoid(x)`` against targets, DeZero's meaning by default:
    summed over each sample's elements and divided by the batch size ``len(x)``.

    Computed from the logits in a stable form (no ``log(0)``, no overflow).

    Args:
        x: scores (logits), any shape.
        t: targets in ``[0, 1]``: 0/1 labels (integer, boolean) or probabilities
            (float), of ``x``'s shape, or one DeZero accepts (``(N,)`` against
            ``(N, 1)``: reshaped; one that broadcasts to ``x``'s shape).
        reduction: ``"batchmean"`` (the default), ``"mean"`` (PyTorch's
            ``BCEWithLogitsLoss``), ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        A 0-d Variable of ``x``'s dtype (``x``'s shape for ``"none"``).

    Examples:
        >>> loss = F.sigmoid_cross_entropy(np.array([[0.0, 0.0]]), np.array([[1, 0]]))
        >>> round(float(loss.data), 4)  # 2 * log(2), one sample
        1.3863
    """
    check_reduction("sigmoid_cross_entropy", reduction)
    t = _unit_targets("sigmoid_cross_entropy", x, t)
    check_not_empty("sigmoid_cross_entropy", "x", _shape(x))
    return SigmoidCrossEntropy(t, _divisor(reduction, _shape(x)))(x)


# ---------------------------------------------------------------------------- BCE
class BinaryCrossEntropy(Function):
    def __init__(self, divisor: int | None) -> None:
        self.divisor = divisor

    def forward(self, p: Any, t: Any) -> Any:
        xp = get_array_module(p)
        q = 1 - p
        # log clamped at -100 (as PyTorch) so p = 0 or 1 gives a finite loss, with no
        # log(0) evaluated on the way.
        # No item assignment: on 0-d input the ufuncs return scalars.
        log_p = xp.where(p > 0, xp.maximum(xp.log(xp.where(p > 0, p, 1)), -100), -100)
        log_q = xp.where(q > 0, xp.maximum(xp.log(xp.where(q > 0, q, 1)), -100), -100)
        loss = -(t * log_p + (1 - t) * log_q)
        return _reduce(xp.asarray(loss, dtype=p.dtype), self.divisor)

    def backward(self, gy: Variable) -> tuple[Variable | None, Variable | None]:
        p, t = self.inputs
        np_, nt = self.needs_input_grad
        g = _spread(gy, p.shape, self.divisor)
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


def binary_cross_entropy(p: Any, t: Any, reduction: str = "batchmean") -> Variable:
    """Binary cross-entropy ``-(t log p + (1 - t) log(1 - p))`` of probabilities ``p``,
    DeZero's meaning by default: summed over each sample's elements and divided by the
    batch size ``len(p)`` (a VAE's reconstruction term).

    Prefer [`sigmoid_cross_entropy`][dezero.nn.functions.sigmoid_cross_entropy] on logits: it is
    numerically safer. ``log`` is clamped at -100 (as PyTorch), so ``p`` of exactly 0 or 1 gives a
    finite loss.

    Args:
        p: probabilities in ``[0, 1]``, any shape.
        t: targets (0/1 labels or soft targets) of ``p``'s shape, or one DeZero accepts
            (``(N,)`` against ``(N, 1)``: reshaped; one that broadcasts to ``p``'s shape).
        reduction: ``"batchmean"`` (the default), ``"mean"`` (PyTorch's ``BCELoss``),
            ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        A 0-d Variable of ``p``'s dtype (``p``'s shape for ``"none"``).

    Examples:
        >>> loss = F.binary_cross_entropy(np.array([0.8, 0.5]), np.array([1.0, 0.0]))
        >>> round(float(loss.data), 4)  # (-log(0.8) - log(0.5)) / 2
        0.4581
    """
    check_reduction("binary_cross_entropy", reduction)
    ps = _shape(p)
    t = as_variable(target_like("binary_cross_entropy", ps, t))
    check_not_empty("binary_cross_entropy", "p", ps)
    pd = raw(p)
    if t.dtype is not None and t.dtype.kind in "iub" and hasattr(pd, "dtype"):
        t = _const(t.data.astype(pd.dtype))  # integer labels join p's dtype
    return BinaryCrossEntropy(_divisor(reduction, ps))(p, t)
