"""The checks behind ``Trainer.load_state_dict``: each component's saved state, validated.

One protocol for every part of a training run (model, optimizer, loaders, random
sources, callbacks, history, the loop itself): a ``check_*`` function validates a saved
state against the live object without touching it and returns an *apply* step, a
function of no arguments that puts the state in place. The Trainer runs every check
first and every apply afterwards, so a state that fails anywhere changes nothing.

Errors are [`StateError`][dezero.train.StateError] (a ``ValueError``) naming the component and the
problem.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from dezero.core import Parameter, Variable
from dezero.core import random as _random

__all__ = [
    "StateError",
    "Apply",
    "check_int",
    "check_rng_state",
    "random_state",
    "check_random_state",
    "check_model_state",
    "check_optimizer_state",
    "check_loader_state",
    "random_transforms",
    "transforms_state",
    "check_transforms_state",
    "check_settings",
    "check_callbacks_state",
]

Apply = Callable[[], None]


class StateError(ValueError):
    """A saved state that does not fit the object it is loaded into; nothing was changed."""


def check_int(what: str, value: Any, low: int = 0, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, or a [`StateError`][dezero.train.StateError] naming
    ``what``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value.item()
    if isinstance(value, np.integer):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise StateError(f"{what} must be an int, got {value!r:.60}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise StateError(f"{what} must be {bound}, got {value}")
    return value


def check_rng_state(what: str, state: Any) -> None:
    """Raise unless ``state`` is a generator state
    [`dezero.core.random.set_state`][dezero.core.random.set_state] takes."""
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise StateError(f"{what} is not a PCG64 generator state: {str(state)[:80]!r}")
    scratch: np.random.BitGenerator = np.random.PCG64()  # typed as any bit generator's state
    try:  # NumPy's own validation, on a scratch generator
        scratch.state = copy.deepcopy(state)
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise StateError(f"{what} is not a valid PCG64 state: {e}") from e


# ---- random sources ----------------------------------------------------------------
# Every generator a run draws from is saved here or by the object that owns it (loaders,
# random transforms). The framework's generator is one; backends' own generators (CuPy's,
# for GPU dropout) join ``random_state``/``check_random_state`` once dezero.core.random
# can save and restore them: one key per source.
def random_state() -> dict[str, Any]:
    """The framework's random sources, JSON-able."""
    return {"dezero": _random.get_state()}


def check_random_state(state: Any) -> Apply:
    if not isinstance(state, Mapping) or "dezero" not in state:
        raise StateError(f"random: expected {{'dezero': <generator state>}}, got {state!r:.80}")
    check_rng_state("random['dezero']", state["dezero"])
    saved = copy.deepcopy(state["dezero"])
    return lambda: _random.set_state(saved)


# ---- model -----------------------------------------------------------------------
def check_model_state(model: Any, state: Any) -> Apply:
    """Names, shapes and float dtypes of ``state`` against ``model``'s parameters."""
    if not isinstance(state, Mapping):
        raise StateError(f"model: expected a dict of arrays, got {type(state).__name__}")
    current = model.state_dict()  # initialised arrays only: lazily-sized ones are absent
    known = set(current)
    if callable(getattr(model, "named_params", None)):
        known.update(name for name, _ in model.named_params())
    missing = [k for k in current if k not in state]
    unexpected = [k for k in state if k not in known]
    wrong = [
        f"{k}: checkpoint {tuple(np.shape(state[k]))}, model {tuple(np.shape(v))}"
        for k, v in current.items()
        if k in state and tuple(np.shape(v)) != tuple(np.shape(state[k]))
    ]
    parts = []
    if missing:
        parts.append(f"missing parameters {missing}")
    if unexpected:
        parts.append(f"unexpected parameters {unexpected}")
    if wrong:
        parts.append(f"shape mismatch {wrong}")
    if parts:
        raise StateError(f"model: the state holds another model ({'; '.join(parts)})")
    params = known - set(current)  # lazily-sized parameters: floats too once built
    for k, v in state.items():
        kind = getattr(getattr(v, "dtype", None), "kind", None)
        want = getattr(current.get(k), "dtype", None)
        must_float = (want is not None and want.kind == "f") or k in params
        if kind is None or (must_float and kind != "f"):
            raise StateError(
                f"model: {k!r} must be a float array, got {getattr(v, 'dtype', type(v))}"
            )
    return lambda: model.load_state_dict(dict(state))


# ---- optimizer -------------------------------------------------------------------
def _state_entries(optimizer: Any, dtype: np.dtype) -> dict[str, np.dtype | None]:
    """The entries ``optimizer`` keeps per parameter (name -> dtype, None for 0-d ints).

    Found by one update of a copy on a scratch parameter, so every optimizer, built-in
    or user-written, is checked against what its own ``update_one`` creates.
    """
    probe = copy.copy(optimizer)
    probe.state, probe.hooks = {}, []
    p = Parameter(np.ones(3, dtype))
    p.grad = Variable(np.ones(3, dtype))
    st: dict[str, Any] = {}
    with np.errstate(all="ignore"):
        probe.update_one("probe", p, st)
    return {k: (np.asarray(v).dtype if np.ndim(v) > 0 else None) for k, v in st.items()}


def check_optimizer_state(optimizer: Any, state: Any, model_state: Mapping[str, Any]) -> Apply:
    """A ``dezero.nn`` optimizer's state: step count, hyper-parameters, every entry per parameter.

    ``model_state`` (the model's saved arrays) gives the shapes of parameters that the
    model has not built yet. Other optimizers' states are passed to their own
    ``load_state_dict`` as they are.
    """
    name = type(optimizer).__name__
    if not isinstance(state, Mapping):
        raise StateError(f"optimizer: expected a dict of arrays, got {type(state).__name__}")
    if not (callable(getattr(optimizer, "update_one", None)) and hasattr(optimizer, "state")):
        return lambda: optimizer.load_state_dict(dict(state))
    check_int(f"optimizer {name}: 't'", state.get("t"))
    hyper_names = tuple(getattr(optimizer, "hyper_names", ()))
    for h in hyper_names:
        v = state.get(f"hyper/{h}")
        if v is None or np.ndim(v) != 0 or not math.isfinite(float(v)):
            raise StateError(f"optimizer {name}: hyper-parameter {h!r} missing or not finite")
    params = {}
    target = getattr(optimizer, "target", None)
    if target is not None:
        for pname, p in target.named_params():
            data = p.data if p.data is not None else model_state.get(pname)
            params[pname] = None if data is None else (tuple(np.shape(data)), data.dtype)
    per_param: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        if key == "t" or (key.startswith("hyper/") and key[6:] in hyper_names):
            continue
        if not key.startswith("state/") or key.count("/") < 2:
            raise StateError(f"optimizer {name}: unexpected entry {key!r}")
        pname, entry = key[len("state/"):].rsplit("/", 1)
        if target is not None and pname not in params:
            raise StateError(f"optimizer {name}: state for {pname!r}, which the model lacks")
        per_param.setdefault(pname, {})[entry] = value
    probes: dict[Any, dict[str, np.dtype | None]] = {}
    for pname, entries in per_param.items():
        info = params.get(pname)
        if info is None:
            continue  # no shape known: the optimizer's own load checks what it can
        shape, dtype = info
        if dtype not in probes:
            probes[dtype] = _state_entries(optimizer, dtype)
        want = probes[dtype]
        missing = sorted(set(want) - set(entries))
        extra = sorted(set(entries) - set(want))
        if missing or extra:
            raise StateError(
                f"optimizer {name}: parameter {pname!r} has state entries {sorted(entries)}, "
                f"expected {sorted(want)} (missing {missing}, unexpected {extra})"
            )
        for entry, value in entries.items():
            wdt = want[entry]
            got_shape = tuple(np.shape(value))
            got_dtype = getattr(value, "dtype", None)
            if wdt is None:
                ok = got_shape == () and got_dtype is not None and got_dtype.kind in "iu"
                expect = "a 0-d int"
            else:
                ok = got_shape == shape and got_dtype == wdt
                expect = f"{np.dtype(wdt)} {shape}"
            if not ok:
                raise StateError(
                    f"optimizer {name}: 'state/{pname}/{entry}' must be {expect}, "
                    f"got {got_dtype} {got_shape}"
                )
    return lambda: optimizer.load_state_dict(dict(state))


# ---- loaders ---------------------------------------------------------------------
_LOADER_IDENTITY = ("type", "dataset_len", "batch_size", "shuffle", "drop_last")


def check_loader_state(what: str, loader: Any, state: Any) -> Apply:
    """A loader's saved state: present when the loader has one, of the same kind, well-formed."""
    if loader is None or not callable(getattr(loader, "state_dict", None)):
        if state is not None:
            raise StateError(f"{what}: the state has a loader state, this loader keeps none")
        return lambda: None
    if not isinstance(state, Mapping):
        raise StateError(f"{what}: expected the loader's state dict, got {state!r:.60}")
    check = getattr(loader, "check_state_dict", None)
    if callable(check):
        try:
            check(state)
        except (TypeError, ValueError, KeyError) as e:
            raise StateError(f"{what}: {e}") from e
    else:
        current = loader.state_dict()
        missing = [k for k in current if k not in state]
        if missing:
            raise StateError(f"{what}: the state lacks {missing}")
        diff = [f"{k}={state[k]!r} (this loader: {current[k]!r})"
                for k in _LOADER_IDENTITY if k in current and state[k] != current[k]]
        if diff:
            raise StateError(f"{what}: saved from a different loader: {', '.join(diff)}")
        if "position" in current:
            n = len(loader) if hasattr(loader, "__len__") else None
            check_int(f"{what}: position", state["position"], 0, n)
        if "epochs_started" in current:
            check_int(f"{what}: epochs_started", state["epochs_started"])
        for k in current:
            if k.endswith("rng_state") and not (k.startswith("epoch") and state[k] is None):
                check_rng_state(f"{what}: {k}", state[k])
    saved = copy.deepcopy(dict(state))
    return lambda: loader.load_state_dict(saved)


# ---- random transforms -----------------------------------------------------------
def random_transforms(loader: Any) -> Iterator[tuple[str, Any]]:
    """``(path, transform)`` for each transform of ``loader``'s dataset with state to save.

    A transform with ``state_dict``/``load_state_dict`` saves what it says; one that only
    owns a NumPy generator (``rng``) saves that generator's state.
    """
    dataset = getattr(loader, "dataset", None)

    def walk(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
        if obj is None:
            return
        if callable(getattr(obj, "state_dict", None)) or isinstance(
            getattr(obj, "rng", None), np.random.Generator
        ):
            yield path, obj
            return
        for i, child in enumerate(getattr(obj, "transforms", None) or ()):
            yield from walk(child, f"{path}/{i}")

    prefix = ""
    while dataset is not None:  # a view of another dataset (a rank's shard): its base's too
        for attr in ("transform", "target_transform"):
            yield from walk(getattr(dataset, attr, None), prefix + attr)
        dataset, prefix = getattr(dataset, "base", None), prefix + "base/"


def transforms_state(loader: Any) -> dict[str, Any]:
    out = {}
    for path, t in random_transforms(loader):
        fn = getattr(t, "state_dict", None)
        out[path] = fn() if callable(fn) else {"rng": _random.get_state(t.rng)}
    return out


def check_transforms_state(what: str, loader: Any, state: Any) -> Apply:
    found = dict(random_transforms(loader))
    if not isinstance(state, Mapping) or set(state) != set(found):
        got = sorted(state) if isinstance(state, Mapping) else state
        raise StateError(
            f"{what}: random transforms differ: the state has {got}, the dataset {sorted(found)}"
        )
    def restore(t: Any, s: Any) -> Apply:
        return lambda: t.load_state_dict(s)

    def reseed(t: Any, s: Any) -> Apply:
        return lambda: _random.set_state(s["rng"], t.rng)

    steps: list[Apply] = []
    for path, t in found.items():
        s = copy.deepcopy(state[path])
        if callable(getattr(t, "load_state_dict", None)):
            check = getattr(t, "check_state_dict", None)
            if callable(check):
                check(s)
            steps.append(restore(t, s))
        else:
            if not isinstance(s, Mapping) or "rng" not in s:
                raise StateError(f"{what}: {path}: expected {{'rng': <generator state>}}")
            check_rng_state(f"{what}: {path}", s["rng"])
            steps.append(reseed(t, s))

    def apply() -> None:
        for step in steps:
            step()

    return apply


# ---- settings and callbacks ---------------------------------------------------------
def check_settings(current: Mapping[str, Any], saved: Any) -> None:
    """Refuse a saved run whose settings differ from ``current``, naming the setting."""
    if not isinstance(saved, Mapping):
        raise StateError(f"settings: expected a dict, got {saved!r:.60}")
    size, saved_size = current.get("world_size", 1), saved.get("world_size", 1)
    if size != saved_size:  # a data-parallel run: each rank's own state is in its own file
        raise StateError(
            f"settings: the saved run was written by {saved_size} ranks, this run has {size}; "
            f"resume with the same world size (mpiexec -n {saved_size}), or start a new run "
            f"(another output folder)"
        )
    for key, now in current.items():
        if key in saved and saved[key] != now:
            raise StateError(
                f"settings: {key!r} is {now!r} here but {saved[key]!r} in the saved run; "
                f"resume with the same {key}, or start a new run (another output folder)"
            )


def check_callbacks_state(callbacks: list[Any], saved: Any) -> Apply:
    """Each callback's saved state, through its own ``check_state_dict``."""
    # Matched by class name and rank among callbacks of that class, so adding or
    # removing an unrelated callback between runs does not shift the others' state.
    if not isinstance(saved, list) or not all(
        isinstance(s, Mapping) and isinstance(s.get("class"), str) and "state" in s
        for s in saved
    ):
        raise StateError("callbacks: expected a list of {'class': name, 'state': ...}")

    def keyed(names: list[str]) -> list[tuple[str, int]]:
        seen: dict[str, int] = {}
        out = []
        for n in names:
            out.append((n, seen.get(n, 0)))
            seen[n] = seen.get(n, 0) + 1
        return out

    by_key = dict(zip(keyed([s["class"] for s in saved]), saved, strict=True))
    pairs = []
    for key, cb in zip(keyed([type(cb).__name__ for cb in callbacks]), callbacks,
                       strict=True):
        entry = by_key.get(key)
        if entry and entry["state"]:
            try:
                cb.check_state_dict(entry["state"])
            except (TypeError, ValueError, KeyError) as e:
                who = "" if str(e).startswith(key[0]) else f"{key[0]}: "
                raise StateError(f"callbacks: {who}{e}") from e
            pairs.append((cb, entry["state"]))

    def apply() -> None:
        for cb, st in pairs:
            cb.load_state_dict(st)

    return apply
