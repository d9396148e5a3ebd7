"""Checkpoints: one .npz holding weights, optimizer state and a JSON record of the loop.

Layout: ``model/<name>`` (weights), ``optimizer/<key>`` (optimizer state),
``callbacks/<i>/<path>`` (array parts of callback state) and ``__meta__``, a 0-d
string array holding JSON: format, epoch, iteration, partial-epoch sums, history,
callback states, loader states and the framework's random state. Written atomically,
read with ``allow_pickle=False``: nothing is ever pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero.core import backend
from dezero.core import random as _random
from dezero.core.files import atomic_write

if TYPE_CHECKING:
    from dezero.train.trainer import Trainer

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "read_checkpoint"]

FORMAT = "dezero-train checkpoint 1"
_META = "__meta__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used with this Trainer (another model, damaged file...)."""


def _host(a: Any) -> np.ndarray:
    return np.asarray(backend.to_cpu(a))


def _split(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace arrays inside ``obj`` by ``{"__array__": key}`` and put them in ``arrays``."""
    if isinstance(obj, Mapping):
        return {str(k): _split(v, f"{prefix}/{k}", arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if backend.is_array(obj) and not isinstance(obj, np.generic):
        arrays[prefix] = _host(obj)
        return {"__array__": prefix}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> Path:
    """Write ``trainer``'s full state to ``path`` atomically and return the path."""
    arrays: dict[str, np.ndarray] = {}
    for k, v in trainer.model.state_dict().items():
        arrays[f"model/{k}"] = _host(v)
    for k, v in trainer.optimizer.state_dict().items():
        arrays[f"optimizer/{k}"] = _host(v)
    callbacks = []
    for i, cb in enumerate(trainer.callbacks):
        state = _split(cb.state_dict(), f"callbacks/{i}", arrays)
        callbacks.append({"class": type(cb).__name__, "state": state})
    sources: list[tuple[str, Any]] = [("train", trainer.train_loader),
                                      ("test", trainer.test_loader)]
    loaders = {
        name: loader.state_dict() if callable(getattr(loader, "state_dict", None)) else None
        for name, loader in sources
    }
    train_state = loaders["train"]
    if trainer.iteration_in_epoch == 0 and isinstance(train_state, dict) and (
        "position" in train_state
    ):
        # At an epoch boundary the loop may have left the loader's epoch early
        # (max_iters_per_epoch, a stop): an uninterrupted run starts the next epoch with a
        # fresh order, so the checkpoint records this epoch as complete.
        train_state["position"] = len(trainer.train_loader)
    meta = {
        "format": FORMAT,
        **trainer._loop_state(),
        "history": trainer.history.state_dict(),
        "callbacks": callbacks,
        "loaders": _split(loaders, "loaders", arrays),
        "random": _random.get_state(),
    }
    arrays[_META] = np.array(json.dumps(meta))

    def write(f: Any) -> None:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwargs

    return atomic_write(path, write)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, meta)`` of a checkpoint file, checked for format; nothing is applied."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_checkpoint: no checkpoint at {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:  # a zip that is not complete, or not a zip at all
        raise CheckpointError(f"read_checkpoint: {str(path)!r} is not a readable .npz: {e}") from e
    if _META not in arrays:
        raise CheckpointError(
            f"read_checkpoint: {str(path)!r} has no {_META!r} entry: not a dezero-train "
            f"checkpoint (weights alone load with model.load_weights)"
        )
    meta = json.loads(str(arrays.pop(_META)))
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"read_checkpoint: {str(path)!r} has format {meta.get('format')!r}, "
            f"expected {FORMAT!r}"
        )
    return arrays, meta


def _check_model(path: Path, model: Any, saved: Mapping[str, np.ndarray]) -> None:
    current = model.state_dict()  # initialised arrays only: lazily-sized ones are absent
    known = set(current)
    if callable(getattr(model, "named_params", None)):
        known.update(name for name, _ in model.named_params())
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in known]
    wrong = [
        f"{k}: checkpoint {tuple(saved[k].shape)}, model {tuple(np.shape(v))}"
        for k, v in current.items()
        if k in saved and tuple(np.shape(v)) != tuple(saved[k].shape)
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing parameters {missing}")
        if unexpected:
            parts.append(f"unexpected parameters {unexpected}")
        if wrong:
            parts.append(f"shape mismatch {wrong}")
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} holds another model ({'; '.join(parts)}); "
            f"nothing was changed"
        )


def load_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Restore ``trainer`` from ``path``; return the checkpoint's JSON record.

    Everything is checked before anything changes: a file of another model (parameter
    names or shapes differ) raises :class:`CheckpointError` and leaves the trainer as is.
    """
    path = Path(path)
    arrays, meta = read_checkpoint(path)
    model_sd = {k[6:]: v for k, v in arrays.items() if k.startswith("model/")}
    opt_sd = {k[10:]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    _check_model(path, trainer.model, model_sd)
    try:
        loop = {k: meta[k] for k in ("epoch", "iteration", "iteration_in_epoch", "partial")}
        history = meta["history"]
        saved_cbs = meta["callbacks"]
        loaders = _join(meta["loaders"], arrays)
        rng = meta["random"]
    except KeyError as e:
        raise CheckpointError(f"load_checkpoint: {str(path)!r} lacks the entry {e}") from e

    # Applying can still fail inside a component; put back what was already changed.
    undo_model = trainer.model.state_dict()
    undo_opt = trainer.optimizer.state_dict()
    undo_rng = _random.get_state()
    try:
        try:
            trainer.model.load_state_dict(model_sd)
        except (ValueError, TypeError) as e:  # the model checks everything before changing
            raise CheckpointError(
                f"load_checkpoint: {str(path)!r} does not fit this model: {e}; nothing was changed"
            ) from e
        trainer.optimizer.load_state_dict(opt_sd)
        _load_callbacks(trainer, saved_cbs, arrays)
        targets: list[tuple[str, Any]] = [("train", trainer.train_loader),
                                          ("test", trainer.test_loader)]
        for name, loader in targets:
            state = loaders.get(name)
            if state is not None and loader is not None:
                loader.load_state_dict(state)
        _random.set_state(rng)
        trainer.history.load_state_dict(history)
        trainer._load_loop_state(loop)
    except Exception:
        # Not strict: lazily-sized parameters created by the failed load simply stay.
        trainer.model.load_state_dict(undo_model, strict=False)
        trainer.optimizer.load_state_dict(undo_opt)
        _random.set_state(undo_rng)
        raise
    return meta


def _load_callbacks(trainer: Trainer, saved: list[dict[str, Any]], arrays: Any) -> None:
    # Matched by class name and rank among callbacks of that class, so adding or removing
    # an unrelated callback between runs does not shift the others' state.
    def keyed(names: list[str]) -> list[tuple[str, int]]:
        seen: dict[str, int] = {}
        out = []
        for n in names:
            out.append((n, seen.get(n, 0)))
            seen[n] = seen.get(n, 0) + 1
        return out

    saved_keys = keyed([s["class"] for s in saved])
    by_key = {k: _join(s["state"], arrays) for k, s in zip(saved_keys, saved, strict=True)}
    cur_keys = keyed([type(cb).__name__ for cb in trainer.callbacks])
    for key, cb in zip(cur_keys, trainer.callbacks, strict=True):
        state = by_key.get(key)
        if state:
            cb.load_state_dict(state)
