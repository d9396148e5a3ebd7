"""Layer: a container of Parameters, sub-Layers and persistent state, with weight files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from dezero.core import Parameter, Variable, as_variable
from dezero.core import backend as _backend
from dezero.nn import weights as _weights

__all__ = ["Layer", "LoadResult"]


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing: list[str]
    unexpected: list[str]


class Layer:
    """Base class of layers and models.

    Parameters and sub-Layers assigned as attributes are registered in the order they
    are first assigned; ``named_params()`` walks them depth first, giving dotted names
    such as ``"l1.W"``. Arrays that are not learned but belong to the layer's state
    (BatchNorm's running averages) are registered with
    [`register_state`][dezero.nn.layers.Layer.register_state] and saved with the weights.

    Subclasses implement ``forward(*inputs)``; calling the layer calls it.

    Examples:
        >>> class TwoLayer(Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.l1 = Linear(10)
        ...         self.l2 = Linear(1)
        ...     def forward(self, x):
        ...         return self.l2(F.sigmoid(self.l1(x)))
    """

    _children: dict[str, None]  # registered Parameter and Layer attributes, in order
    _states: dict[str, None]  # attributes registered with register_state
    # Attributes holding a Variable of per-sequence state (a recurrent layer's ``h``): moved
    # with the layer by to_device, as constants, and never saved.
    _carried: tuple[str, ...] = ()

    def __init__(self) -> None:
        # A dict used as an ordered set: deterministic order, unlike DeZero's set.
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_states", {})

    def __setattr__(self, name: str, value: Any) -> None:
        children = self.__dict__.get("_children")
        if children is None:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if isinstance(value, (Parameter, Layer)):
            children[name] = None
        elif name in children:
            del children[name]  # replaced by something that is neither: no longer registered
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._children.pop(name, None)
        self._states.pop(name, None)
        object.__delattr__(self, name)

    def register_state(self, name: str, value: Any = None) -> None:
        """Register attribute ``name`` (an array or None) as persistent, non-learned state."""
        self._states[name] = None
        object.__setattr__(self, name, value)

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    # ---- parameters ------------------------------------------------------------------
    def named_params(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, Parameter)`` pairs in registration order; each Parameter once."""
        seen: set[int] = set()
        for name, p in self._walk_params(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_params(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name in self._children:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                yield from obj._walk_params(prefix + name + ".")
            else:
                yield prefix + name, obj

    def params(self) -> Iterator[Parameter]:
        """Every Parameter of this layer and its sub-layers, in registration order."""
        for _, p in self.named_params():
            yield p

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, Layer]]:
        """``(dotted_name, Layer)`` for this layer (name ``prefix``) and every sub-layer."""
        yield prefix.rstrip("."), self
        for name in self._children:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                yield from obj.named_layers(prefix + name + ".")

    def _named_states(self) -> Iterator[tuple[str, Layer, str]]:
        for lname, layer in self.named_layers():
            for s in layer._states:
                yield (f"{lname}.{s}" if lname else s), layer, s

    def cleargrads(self) -> None:
        """Forget every parameter's gradient (call before each ``backward``)."""
        for p in self.params():
            p.cleargrad()

    # ---- devices ---------------------------------------------------------------------
    def to_cpu(self) -> Layer:
        """Move every parameter and state array to host memory, in place; returns self."""
        return self.to_device(_backend.CPU)

    def to_gpu(self, device: Any = None) -> Layer:
        """Move every parameter and state array to GPU ``device``, in place; returns self.

        ``device`` is ``"cuda"`` (the default: the current GPU), ``"cuda:N"``, an int ``N``
        or a [`Device`][dezero.core.backend.Device]. Raises
        [`GPUUnavailableError`][dezero.core.backend.GPUUnavailableError] (saying what is missing)
        when no GPU backend is usable.
        """
        dev = _backend.get_device(
            "cuda" if device is None else device, f"{type(self).__name__}.to_gpu"
        )
        if not dev.is_gpu:
            raise ValueError(
                f"{type(self).__name__}.to_gpu: device must be a GPU, got {dev!r}; use "
                f"to_cpu() for the host"
            )
        return self.to_device(dev)

    def to_device(self, device: Any) -> Layer:
        """Move every parameter and state array to ``device`` (``"cpu"``, ``"cuda:N"``, an
        int, a Device...), in place; returns self. The device is checked once, here."""
        dev = device if type(device) is _backend.Device else _backend.get_device(
            device, f"{type(self).__name__}.to_device"
        )
        for p in self.params():
            p.to_device(dev)
        for _, layer, s in self._named_states():
            object.__setattr__(layer, s, _backend.to_device(getattr(layer, s), dev))
        for _, layer in self.named_layers():
            for s in layer._carried:
                v = getattr(layer, s)
                if v is not None:
                    # The state goes along as a constant: the steps before the move stay
                    # where they ran, so a backward pass stops here (as after unchain()).
                    object.__setattr__(layer, s, as_variable(_backend.to_device(v.data, dev)))
        return self

    # ---- state -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Host copies of every initialised parameter and state array, by dotted name.

        Lazily-sized parameters that do not exist yet (``data is None``) are left out.
        """
        out: dict[str, np.ndarray] = {}
        for name, p in self.named_params():
            if p.data is not None:
                out[name] = np.array(_backend.to_cpu(p.data), copy=True)
        for name, layer, s in self._named_states():
            v = getattr(layer, s)
            if v is not None:
                out[name] = np.array(_backend.to_cpu(v), copy=True)
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy ``state`` (as from [`state_dict`][dezero.nn.layers.Layer.state_dict]) into this
        layer.

        Names the layer has but ``state`` lacks are *missing* (lazily-sized parameters
        that do not exist yet are not counted: they stay lazy); names ``state`` has but
        the layer lacks are *unexpected*. With ``strict`` either is an error.

        Every array is checked before anything changes: it must be floating point (an
        int, bool or complex array is a ``TypeError`` naming it), it is converted to the
        layer's float dtype (a value that overflows it is a ``ValueError``), and its shape
        must equal the existing one or, for lazily-sized parameters that do not exist
        yet, what the layer would build (``W``'s output width, ``b``'s length, the next
        layer's input width). On any error nothing changes. Arrays go to the device the
        layer's parameters are on.

        Returns:
            ``LoadResult(missing, unexpected)``.
        """
        cls = type(self).__name__
        func = f"{cls}.load_state_dict"
        layers = dict(self.named_layers())
        targets: dict[str, tuple[str, Any, Any]] = {}
        for name, p in self.named_params():
            targets[name] = ("param", p, p.data)
        for name, layer, s in self._named_states():
            targets[name] = ("state", (layer, s), getattr(layer, s))
        missing = [n for n, t in targets.items() if n not in state and t[2] is not None]
        unexpected = [n for n in state if n not in targets]
        if strict and (missing or unexpected):
            raise ValueError(
                f"{func}: names do not match: missing {missing}, unexpected {unexpected} "
                f"(names are dotted attribute paths such as {next(iter(targets), 'l0.W')!r}; "
                "compare with named_params())"
            )
        default_dtype = self._float_dtype()
        device_ref = next((p.data for p in self.params() if p.data is not None), None)
        plan = []
        shapes: dict[str, tuple[int, ...] | None] = {}
        for name, (kind, obj, cur) in targets.items():
            shapes[name] = None if cur is None else tuple(cur.shape)
            if name not in state:
                continue
            raw = state[name]
            if isinstance(raw, Variable):
                raw = raw.data
            arr = np.asarray(_backend.to_cpu(raw))
            if cur is not None:
                if tuple(arr.shape) != tuple(cur.shape):
                    raise ValueError(
                        f"{func}: shape mismatch for {name!r}: the layer has "
                        f"{tuple(cur.shape)}, the state has {tuple(arr.shape)}"
                    )
                dtype, ref = cur.dtype, cur
            else:
                owner = layers[name.rpartition(".")[0]]
                own = getattr(owner, "dtype", None)
                dtype = own if isinstance(own, np.dtype) and own.kind == "f" else default_dtype
                ref = device_ref
            arr = _weights.cast_checked(func, name, arr, dtype)
            shapes[name] = tuple(arr.shape)
            plan.append((kind, obj, arr, ref))
        def shapes_under(pre: str) -> Callable[[str], tuple[int, ...] | None]:
            return lambda n: shapes.get(pre + n)

        problems = []
        for lname, layer in layers.items():
            pre = lname + "." if lname else ""
            problems += [f"{pre}{m}" for m in layer._shape_problems(shapes_under(pre))]
        if problems:
            raise ValueError(f"{func}: the shapes do not fit the model: " + "; ".join(problems))
        # Everything checked: now apply (device copies may still fail, so build them first).
        placed = []
        for kind, obj, arr, ref in plan:
            placed.append((kind, obj, arr if ref is None else _backend.on_device_of(arr, ref)))
        for kind, obj, arr in placed:
            if kind == "param":
                obj.data = arr
            else:
                layer, s = obj
                object.__setattr__(layer, s, arr)
        for layer in layers.values():
            layer._loaded()
        return LoadResult(missing, unexpected)

    def _float_dtype(self) -> np.dtype:
        """The float dtype of this model: its built parameters', else its layers', else f32."""
        for p in self.params():
            if p.data is not None and p.data.dtype.kind == "f":
                return np.dtype(p.data.dtype)
        for _, layer in self.named_layers():
            d = getattr(layer, "dtype", None)
            if isinstance(d, np.dtype) and d.kind == "f":
                return d
        return np.dtype(np.float32)

    def _shape_problems(self, shape_of: Callable[[str], tuple[int, ...] | None]) -> list[str]:
        """What is wrong with the shapes this layer's entries would have after a load.

        ``shape_of(name)`` gives the shape of an entry (local dotted name) after the load,
        None when it stays unbuilt. Layers whose sizes are fixed or inferred override this.
        """
        return []

    def _loaded(self) -> None:
        """Called after a load has put new arrays in place (lazy sizes follow them)."""

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write [`state_dict`][dezero.nn.layers.Layer.state_dict] to ``path``, atomically; the
        layer stays where it is.

        A path ending in ``.safetensors`` is written as safetensors (needs the optional
        ``safetensors`` package); any other as an uncompressed ``.npz``.
        """
        _weights.save(path, self.state_dict())

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load a file written by [`save_weights`][dezero.nn.layers.Layer.save_weights], strictly
        (names and shapes must match).

        Also reads DeZero 0.0.13's ``.npz`` files (names such as ``l0/W``), converting the
        names and saying so with a `dezero.nn.weights.DeZeroFormatWarning`.
        A damaged file is a `dezero.nn.weights.WeightFileError`; on any error the
        layer is unchanged.
        """
        arrays = _weights.load(path)
        fmt = "dezero's dotted names (such as 'l0.W')"
        if _weights.is_dezero_names(arrays):
            arrays = _weights.from_dezero_names(arrays)
            fmt = "DeZero 0.0.13's names (such as 'l0/W'), converted to dotted names"
            warnings.warn(
                f"{type(self).__name__}.load_weights: {os.fspath(path)!r} is a DeZero 0.0.13 "
                "weight file; its names were converted ('l0/W' -> 'l0.W')",
                _weights.DeZeroFormatWarning, stacklevel=2,
            )
        try:
            self.load_state_dict(arrays, strict=True)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{e} [file {os.fspath(path)!r}, which uses {fmt}]") from None

    def __repr__(self) -> str:
        subs = [n for n in self._children if isinstance(self.__dict__[n], Layer)]
        if not subs:
            return f"{type(self).__name__}()"
        body = "\n".join(
            f"  ({n}): " + repr(self.__dict__[n]).replace("\n", "\n  ") for n in subs
        )
        return f"{type(self).__name__}(\n{body}\n)"
