"""Transforms for samples and for whole mini-batches.

Every transform here is a [`Transform`][dezero.data.transforms.Transform]: calling it transforms one
sample, and ``apply_batch`` transforms a batch whose first axis indexes the samples, in one array
operation. That is what lets a Dataset backed by arrays hand a whole mini-batch through its
transform without a Python loop. Plain functions work as transforms too; on a batch they are applied
sample by sample (see [`apply_batch`][dezero.data.transforms.apply_batch]).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from dezero.core.backend import backend_of, get_array_module
from dezero.core.random import get_generator, get_state, make_generator, set_state

__all__ = [
    "Transform",
    "apply_batch",
    "Compose",
    "Flatten",
    "AsType",
    "ToFloat",
    "ToInt",
    "Normalize",
    "RandomTransform",
    "RandomHorizontalFlip",
    "RandomCrop",
    "Resize",
    "CenterCrop",
    "ToArray",
    "ToPIL",
]


class Transform:
    """A transform of one sample (``__call__``) and of a batch (``apply_batch``)."""

    #: Optional ``apply_batch`` that may overwrite its input; Compose calls it on arrays
    #: it made itself. None: this transform has none.
    apply_batch_inplace: Callable[[Any], Any] | None = None

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def apply_batch(self, xs: Any) -> Any:
        """Transform a batch (first axis = samples); by default sample by sample."""
        return _stack([self(x) for x in xs])

    def state_dict(self) -> dict[str, Any]:
        """The transform's mutable state as plain JSON data (none for a deterministic one)."""
        return {"type": type(self).__name__}

    def reseed(self, seed: int | Sequence[int]) -> None:
        """Give a generator of its own a new seed (a data-parallel run draws per rank).

        Deterministic transforms, and random ones that draw from the framework's generator
        (no seed of their own), have nothing to reseed.
        """

    def check_state_dict(self, state: Any) -> None:
        """Raise if ``state`` cannot be loaded; changes nothing (checked before any load)."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{owner}: expected a dict, got {type(state).__name__}")
        if state.get("type") != type(self).__name__:
            raise ValueError(
                f"{owner}: state was saved from a {state.get('type')!r}, not a "
                f"{type(self).__name__!r}"
            )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a [`state_dict`][dezero.data.transforms.Transform.state_dict] (checked in full
        first; a bad one changes nothing)."""
        self.check_state_dict(state)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _stack(items: list[Any]) -> Any:
    if not items:
        raise ValueError("apply_batch: cannot transform an empty batch")
    # backend_of, not get_array_module: a NumPy scalar's ``.data`` is a memoryview.
    return backend_of(items[0]).xp.stack(items)


def apply_batch(transform: Callable[[Any], Any] | None, xs: Any) -> Any:
    """Apply ``transform`` to the batch ``xs``: in one go when it can, else sample by sample."""
    if transform is None:
        return xs
    method = getattr(transform, "apply_batch", None)
    if method is not None:
        return method(xs)
    return _stack([transform(x) for x in xs])


def _state_of(transform: Any) -> dict[str, Any] | None:
    method = getattr(transform, "state_dict", None)
    return method() if callable(method) else None


def check_state(transform: Any, state: Any) -> None:
    """Raise if ``state`` (from ``state_dict()``, or None) does not fit ``transform``."""
    check = getattr(transform, "check_state_dict", None)
    if callable(check):
        check(state)
    elif state is not None:
        raise ValueError(
            f"load_state_dict: {type(transform).__name__} holds no state, got {str(state)[:60]}"
        )


class Compose(Transform):
    """Apply ``transforms`` one after another.

    Examples:
        >>> t = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]] = ()) -> None:
        self.transforms = list(transforms)

    def reseed(self, seed: int | Sequence[int]) -> None:
        base = [seed] if isinstance(seed, int) else list(seed)
        for i, child in enumerate(self.transforms):
            fn = getattr(child, "reseed", None)
            if callable(fn):
                fn([*base, i])

    def state_dict(self) -> dict[str, Any]:
        """Every step's state, in order (None for a plain function without one)."""
        return {
            "type": type(self).__name__,
            "transforms": [_state_of(t) for t in self.transforms],
        }

    def check_state_dict(self, state: Any) -> None:
        super().check_state_dict(state)
        steps = state.get("transforms")
        if not isinstance(steps, list) or len(steps) != len(self.transforms):
            got = len(steps) if isinstance(steps, list) else type(steps).__name__
            raise ValueError(
                f"Compose.load_state_dict: state holds {got} steps, this Compose has "
                f"{len(self.transforms)}"
            )
        for i, (t, st) in enumerate(zip(self.transforms, steps)):
            try:
                check_state(t, st)
            except (TypeError, ValueError) as e:
                raise type(e)(f"Compose.load_state_dict: step {i}: {e}") from None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.check_state_dict(state)  # every step first, then apply: all or nothing
        for t, st in zip(self.transforms, state["transforms"]):
            if st is not None:  # a step with a state is a stateful transform (load_state_dict)
                cast(Any, t).load_state_dict(st)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, xs: Any) -> Any:
        # Track whether ``xs`` is an array this chain made (a copy, or a view of one): a
        # step that can work in place (Normalize after ToFloat) then reuses its memory
        # instead of allocating another batch-sized array. The caller's input never is.
        owned = False
        for t in self.transforms:
            inplace = getattr(t, "apply_batch_inplace", None)
            if owned and inplace is not None:
                ys = inplace(xs)
            else:
                ys = apply_batch(t, xs)
            if ys is not xs:
                fresh = isinstance(ys, np.ndarray) and ys.base is None
                owned = fresh or (
                    owned and isinstance(ys, np.ndarray) and np.may_share_memory(ys, xs)
                )
            xs = ys
        return xs


class Flatten(Transform):
    """Flatten a sample to 1-D, a batch to ``(N, -1)``."""

    def __call__(self, x: Any) -> Any:
        return x.reshape(-1)

    def apply_batch(self, xs: Any) -> Any:
        return xs.reshape(len(xs), -1)


class AsType(Transform):
    """Convert to ``dtype`` (no copy when the array already has it)."""

    def __init__(self, dtype: Any = np.float32) -> None:
        self.dtype = np.dtype(dtype)

    def __call__(self, x: Any) -> Any:
        return x.astype(self.dtype, copy=False)

    def apply_batch(self, xs: Any) -> Any:
        return xs.astype(self.dtype, copy=False)


class ToFloat(AsType):
    """Convert to a floating dtype (float32 by default)."""

    def __init__(self, dtype: Any = np.float32) -> None:
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"ToFloat: dtype must be a floating type, got {np.dtype(dtype)}")
        super().__init__(dtype)


class ToInt(AsType):
    """Convert to an integer dtype (int64 by default)."""

    def __init__(self, dtype: Any = np.int64) -> None:
        if not np.issubdtype(np.dtype(dtype), np.integer):
            raise ValueError(f"ToInt: dtype must be an integer type, got {np.dtype(dtype)}")
        super().__init__(dtype)


class Normalize(Transform):
    """``(x - mean) / std``; a sequence of means/stds applies per channel.

    The channel axis is the first axis of a sample ``(C, H, W)`` and the second of a
    batch ``(N, C, H, W)``. A floating input keeps its dtype.

    Examples:
        >>> Normalize(0.0, 255.0)(np.array([0, 255], np.uint8))
        array([0., 1.])
    """

    def __init__(
        self, mean: float | Sequence[float] = 0.0, std: float | Sequence[float] = 1.0
    ) -> None:
        m, s = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        if m.ndim > 1 or s.ndim > 1:
            raise ValueError(
                f"Normalize: mean and std must be scalars or 1-D, got shapes {m.shape}, {s.shape}"
            )
        if np.any(s == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {std!r}")
        self.mean = mean
        self.std = std
        self._m, self._s = m, s
        # The common scalar case, precomputed: this runs once per mini-batch.
        self._scalar = (float(m), float(s)) if m.ndim == 0 and s.ndim == 0 else None

    def _apply(self, x: Any, axis: int) -> Any:
        if self._scalar is not None:
            # Python floats are weak scalars: float32 data stays float32.
            mean, std = self._scalar
            out = x - mean if mean != 0.0 else x
            if std != 1.0:
                return out / std
            return out if out.dtype.kind == "f" else out.astype(np.float64)
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        m, s = self._m, self._s
        if x.ndim <= axis:
            raise ValueError(
                f"Normalize: per-channel mean/std need a channel axis {axis}, got shape {x.shape}"
            )
        shape = [1] * x.ndim
        shape[axis] = -1
        mean = xp.asarray(np.broadcast_to(m, (x.shape[axis],)), dtype=dtype).reshape(shape)
        std = xp.asarray(np.broadcast_to(s, (x.shape[axis],)), dtype=dtype).reshape(shape)
        return (x - mean) / std

    def __call__(self, x: Any) -> Any:
        return self._apply(x, 0)

    def apply_batch(self, xs: Any) -> Any:
        return self._apply(xs, 1)

    def apply_batch_inplace(self, xs: Any) -> Any:
        """Like ``apply_batch``, overwriting ``xs`` when it is floating (Compose's hook)."""
        if self._scalar is None or xs.dtype.kind != "f":
            return self._apply(xs, 1)
        m, s = self._scalar
        if m != 0.0:
            xs -= m
        if s != 1.0:
            xs /= s
        return xs


class RandomTransform(Transform):
    """A transform that draws random numbers, from its own generator or the framework's.

    With ``seed=None`` (the default) it draws from the framework's generator at each call,
    so [`dezero.core.random.seed`][dezero.core.random.seed] reaches it and the framework's saved
    random state (a Trainer checkpoint's) covers it. With a seed it owns a generator, whose state
    [`state_dict`][dezero.data.transforms.Transform.state_dict] /
    [`load_state_dict`][dezero.data.transforms.Transform.load_state_dict] save and restore.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._rng = None if seed is None else make_generator(seed)

    def reseed(self, seed: int | Sequence[int]) -> None:
        if self._rng is not None:
            self._rng = make_generator(seed)  # type: ignore[arg-type]

    @property
    def rng(self) -> np.random.Generator:
        """The generator drawn from now: its own, or the framework's current one."""
        return get_generator() if self._rng is None else self._rng

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "rng_state": None if self._rng is None else get_state(self._rng),
        }

    def check_state_dict(self, state: Any) -> None:
        super().check_state_dict(state)
        owner = f"{type(self).__name__}.load_state_dict"
        if "rng_state" not in state:
            raise ValueError(f"{owner}: state has no 'rng_state'")
        rng_state = state["rng_state"]
        if (rng_state is None) != (self._rng is None):
            raise ValueError(
                f"{owner}: state is from a transform "
                f"{'without' if rng_state is None else 'with'} a seed of its own; this one "
                f"{'has one' if self._rng is not None else 'draws from the framework generator'}"
            )
        if rng_state is not None:
            try:
                set_state(rng_state, make_generator(0))  # on a scratch generator
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"{owner}: malformed rng_state: {e}") from None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.check_state_dict(state)
        if self._rng is not None:
            set_state(state["rng_state"], self._rng)


class RandomHorizontalFlip(RandomTransform):
    """Flip the last axis (image width) with probability ``p``; per sample in a batch.

    ``seed``: see [`RandomTransform`][dezero.data.transforms.RandomTransform] (None: the framework's
    generator).
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        super().__init__(seed)
        self.p = p

    def __call__(self, x: Any) -> Any:
        return x[..., ::-1] if self.rng.random() < self.p else x

    def apply_batch(self, xs: Any) -> Any:
        flip = self.rng.random(len(xs)) < self.p
        out = xs.copy()
        out[flip] = xs[flip][..., ::-1]
        return out


class RandomCrop(RandomTransform):
    """Crop a random ``size`` window from the last two axes, after zero-padding by ``padding``.

    Each sample of a batch gets its own window. ``size`` is an int (square) or ``(h, w)``.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        padding: int = 0,
        fill: float = 0,
        seed: int | None = None,
    ) -> None:
        h, w = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
        if h <= 0 or w <= 0:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        if padding < 0:
            raise ValueError(f"RandomCrop: padding must be >= 0, got {padding!r}")
        self.size = (int(h), int(w))
        self.padding = int(padding)
        self.fill = fill
        super().__init__(seed)

    def _pad(self, x: Any, batch: bool) -> Any:
        need = 3 if batch else 2
        if x.ndim < need:
            what = "a batch" if batch else "a sample"
            raise ValueError(
                f"RandomCrop: {what} needs at least {need} axes (..., H, W), got shape {x.shape}"
            )
        h, w = self.size
        H, W = x.shape[-2] + 2 * self.padding, x.shape[-1] + 2 * self.padding
        if h > H or w > W:
            raise ValueError(
                f"RandomCrop: crop {self.size} is larger than the padded image ({H}, {W})"
            )
        if self.padding == 0:
            return x
        p = self.padding
        xp = get_array_module(x)
        return xp.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)], constant_values=self.fill)

    def __call__(self, x: Any) -> Any:
        x = self._pad(x, batch=False)
        h, w = self.size
        top = int(self.rng.integers(0, x.shape[-2] - h + 1))
        left = int(self.rng.integers(0, x.shape[-1] - w + 1))
        return x[..., top : top + h, left : left + w]

    def apply_batch(self, xs: Any) -> Any:
        padded = self._pad(xs, batch=True)
        xp = get_array_module(xs)
        n, mid, (H, W) = len(xs), padded.shape[1:-2], padded.shape[-2:]
        h, w = self.size
        top = self.rng.integers(0, H - h + 1, size=n)
        left = self.rng.integers(0, W - w + 1, size=n)
        flat = padded.reshape(n, -1, H, W)  # fold the middle axes into one
        rows = xp.asarray(top[:, None] + np.arange(h)).reshape(n, 1, h, 1)
        cols = xp.asarray(left[:, None] + np.arange(w)).reshape(n, 1, 1, w)
        ni = xp.arange(n).reshape(n, 1, 1, 1)
        ci = xp.arange(flat.shape[1]).reshape(1, -1, 1, 1)
        return flat[ni, ci, rows, cols].reshape((n, *mid, h, w))


# ---------------------------------------------------------------- PIL images (Pillow: optional)
# DeZero's image transforms. Sizes are (width, height), as in DeZero and Pillow (an int
# means a square). Pillow is the ``image`` extra: pip install "dezero-data[image]".


def _pil_image(owner: str) -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            f"{owner}: needs Pillow, an optional extra of dezero-data: "
            "pip install 'dezero-data[image]' (or pip install Pillow)"
        ) from None
    return Image


def _pair(owner: str, size: Any) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        w = h = int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        w, h = (int(v) for v in size)
    else:
        raise ValueError(f"{owner}: size must be an int or (width, height), got {size!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"{owner}: size must be positive, got {size!r}")
    return w, h


def _check_image(owner: str, img: Any) -> None:
    Image = _pil_image(owner)
    if not isinstance(img, Image.Image):
        raise TypeError(
            f"{owner}: expects a PIL image, got {type(img).__name__}"
            + (" (convert arrays with ToPIL() first)" if hasattr(img, "shape") else "")
        )


class Resize(Transform):
    """Resize a PIL image to ``size`` = ``(width, height)`` (an int: square), as DeZero does.

    ``mode`` is Pillow's resampling filter (default bilinear, ``2``). Needs Pillow.

    Examples:
        >>> Compose([ToPIL(), Resize(64), ToArray()])
    """

    def __init__(self, size: int | tuple[int, int], mode: int = 2) -> None:
        self.size = _pair("Resize", size)
        self.mode = mode

    def __call__(self, img: Any) -> Any:
        _check_image("Resize", img)
        return img.resize(self.size, self.mode)

    def apply_batch(self, imgs: Any) -> Any:
        return [self(img) for img in imgs]


class CenterCrop(Transform):
    """Cut the central ``size`` = ``(width, height)`` window (an int: square), as DeZero does.

    Works on PIL images and on arrays, whose last two axes are height and width (a sample
    ``(C, H, W)`` or a batch ``(N, C, H, W)``). When the size difference is odd, the
    extra pixel is cut from the right and the bottom.
    """

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = _pair("CenterCrop", size)

    def _box(self, W: int, H: int) -> tuple[int, int, int, int]:
        w, h = self.size
        if w > W or h > H:
            raise ValueError(
                f"CenterCrop: crop (width {w}, height {h}) is larger than the image "
                f"(width {W}, height {H})"
            )
        left, top = (W - w) // 2, (H - h) // 2
        return left, top, left + w, top + h

    def __call__(self, x: Any) -> Any:
        if hasattr(x, "shape"):
            if x.ndim < 2:
                raise ValueError(f"CenterCrop: an array needs axes (..., H, W), got {x.shape}")
            left, top, right, bottom = self._box(x.shape[-1], x.shape[-2])
            return x[..., top:bottom, left:right]
        _check_image("CenterCrop", x)
        return x.crop(self._box(*x.size))

    def apply_batch(self, xs: Any) -> Any:
        if hasattr(xs, "shape"):
            return self(xs)  # the same slice for every sample
        return [self(x) for x in xs]


class ToArray(Transform):
    """A PIL image as an array ``(C, H, W)`` of ``dtype`` (grey images: ``C = 1``).

    An array passes through unchanged, as in DeZero. Needs Pillow for images.
    """

    def __init__(self, dtype: Any = np.float32) -> None:
        self.dtype = np.dtype(dtype)

    def __call__(self, img: Any) -> Any:
        if hasattr(img, "shape") and hasattr(img, "dtype"):
            return img
        _check_image("ToArray", img)
        a = np.asarray(img)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        return a.astype(self.dtype)

    def apply_batch(self, imgs: Any) -> Any:
        if hasattr(imgs, "shape") and hasattr(imgs, "dtype"):
            return imgs
        return _stack([self(img) for img in imgs])


class ToPIL(Transform):
    """An array ``(C, H, W)`` (``C`` = 1, 3 or 4; uint8) as a PIL image. Needs Pillow."""

    def __call__(self, array: Any) -> Any:
        Image = _pil_image("ToPIL")
        a = np.asarray(array)
        if a.ndim != 3 or a.shape[0] not in (1, 3, 4):
            raise ValueError(f"ToPIL: expects an array (C, H, W) with C 1, 3 or 4, got {a.shape}")
        if a.dtype != np.uint8 and a.shape[0] != 1:
            raise ValueError(
                f"ToPIL: colour images must be uint8 (0-255), got {a.dtype}; "
                "scale and convert first (e.g. AsType(np.uint8))"
            )
        hwc = a[0] if a.shape[0] == 1 else np.ascontiguousarray(a.transpose(1, 2, 0))
        return Image.fromarray(hwc)

    def apply_batch(self, xs: Any) -> Any:
        return [self(x) for x in xs]
