"""Mini-batch iteration: DataLoader (shuffled epochs) and SeqDataLoader (parallel time series)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dezero.core.backend import CPU, Device, backend_of, get_device, to_cpu, to_device
from dezero.core.random import get_generator, get_state, make_generator, set_state
from dezero.data.dataset import Dataset
from dezero.data.transforms import check_state

__all__ = ["DataLoader", "SeqDataLoader"]

Batch = tuple[Any, Any]


def _check_batch_size(owner: str, batch_size: Any) -> int:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(f"{owner}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _own_generator(seed: int | None) -> np.random.Generator:
    """A loader's generator: from ``seed``, or else a child of the framework's generator.

    The child is spawned from the framework generator's seed sequence, which draws no
    number from it: ``dezero.core.random.seed(n)`` before creating the loader fixes its
    order, and the model's initial weights do not depend on how many loaders exist.
    """
    if seed is not None:
        return make_generator(seed)
    bit = get_generator().bit_generator
    # Public from NumPy 1.25; NumPy 1.24 (still supported) has only the private name.
    seq = getattr(bit, "seed_seq", None) or bit._seed_seq  # type: ignore[attr-defined]
    return np.random.Generator(np.random.PCG64(seq.spawn(1)[0]))


def _transforms_of(dataset: Any) -> dict[str, Any]:
    """The dataset's transforms that carry state, by attribute name."""
    if not isinstance(dataset, Dataset):
        return {}
    return {
        name: t
        for name in ("transform", "target_transform")
        if callable(getattr(t := getattr(dataset, name, None), "state_dict", None))
    }


def _gatherer(dataset: Any) -> Callable[[np.ndarray], Batch]:
    """How to fetch a batch from ``dataset``: one fancy index when it can, else sample by sample."""
    if isinstance(dataset, Dataset) and dataset.batchable:
        return dataset.__getitem__
    return functools.partial(_gather_samples, dataset)


def _gather_samples(dataset: Any, idx: np.ndarray) -> Batch:
    samples = [dataset[int(i)] for i in idx]
    xs = [s[0] for s in samples]
    ts = [s[1] for s in samples]
    xp = backend_of(xs[0]).xp
    x = xp.stack([xp.asarray(v) for v in xs])
    t = None if ts[0] is None else backend_of(ts[0]).xp.asarray(ts)
    return x, t


class DataLoader:
    """Iterate over ``dataset`` in mini-batches ``(x, t)``; each ``for`` loop is one epoch.

    Args:
        dataset: a [`Dataset`][dezero.data.Dataset] (or any sequence of ``(x, t)`` pairs).
        batch_size: samples per batch.
        shuffle: draw a new order every epoch from the loader's own generator.
        drop_last: leave out the last, smaller batch.
        seed: seed of the loader's generator (None: a child of the framework's generator,
            so ``dezero.core.random.seed(n)`` before this call fixes the order).

    Batches come out as NumPy arrays, or on a GPU after [`to_gpu`][dezero.data.DataLoader.to_gpu]
    (``device`` says where: ``"cpu"`` or ``"cuda:N"``).
    [`state_dict`][dezero.data.DataLoader.state_dict] captures the generator, the position within
    the epoch and the state of the dataset's random transforms (those with a seed of their own), so
    a loader restored with [`load_state_dict`][dezero.data.DataLoader.load_state_dict] continues
    with the same remaining batches, augmented the same way.

    Examples:
        >>> loader = DataLoader(MNISTSample(), batch_size=100, seed=0)
        >>> for x, t in loader:
        ...     pass
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        owner = type(self).__name__
        self.batch_size = _check_batch_size(owner, batch_size)
        n = len(dataset)
        if n == 0:
            raise ValueError(f"{owner}: dataset is empty ({type(dataset).__name__} has 0 samples)")
        if drop_last and self.batch_size > n:
            raise ValueError(
                f"{owner}: drop_last=True with batch_size={self.batch_size} > len(dataset)={n} "
                "would yield no batch"
            )
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device: Device = CPU
        self._rng = _own_generator(seed)
        self._epoch_state: dict[str, Any] | None = None  # generator state when this epoch began
        self._order: np.ndarray | None = None
        self._position = 0  # batches already handed out in the current epoch
        self._epochs_started = 0
        self._resume = False

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def epoch(self) -> int:
        """Epochs completed so far."""
        done = self._order is not None and self._position >= len(self)
        return self._epochs_started - (0 if done or self._epochs_started == 0 else 1)

    @property
    def position(self) -> int:
        """Batches already handed out in the current epoch."""
        return self._position

    def seed(self, seed: int | None) -> None:
        """Re-seed the loader's generator; the next ``for`` starts a fresh epoch from it."""
        self._rng = _own_generator(seed)
        self._epoch_state = None
        self._order = None
        self._position = 0
        self._resume = False

    def _new_epoch(self) -> None:
        self._epoch_state = get_state(self._rng)
        n = len(self.dataset)
        self._order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        self._position = 0
        self._epochs_started += 1

    def __iter__(self) -> Iterator[Batch]:
        if not self._resume:
            self._new_epoch()
        self._resume = False
        order, bs, nb = self._order, self.batch_size, len(self)
        assert order is not None
        gather = _gatherer(self.dataset)
        while self._position < nb:
            i = self._position
            self._position += 1
            yield self._to_device(gather(order[i * bs : (i + 1) * bs]))

    def _to_device(self, batch: Batch) -> Batch:
        x, t = batch
        dev = self.device
        if dev.number is not None:  # checked once, by to_gpu(): no check per batch
            return to_device(x, dev), (None if t is None else to_device(t, dev))
        if type(x) is np.ndarray and (t is None or type(t) is np.ndarray):
            return batch
        return to_cpu(x), to_cpu(t)

    def to_gpu(self, device: Any = None) -> DataLoader:
        """Hand out batches on GPU ``device`` (via core's backend registry): ``"cuda"`` (the
        default: the current GPU), ``"cuda:N"``, an int ``N``, or a Device such as a model
        parameter's ``device_of(p)``, so the batches follow the model. Fails now, saying
        why, when there is no usable GPU or no such device."""
        owner = f"{type(self).__name__}.to_gpu"
        dev = get_device("cuda" if device is None else device, owner)
        if not dev.is_gpu:
            raise ValueError(f"{owner}: device must be a GPU, got {dev!r}; use to_cpu()")
        self.device = dev
        return self

    def to_cpu(self) -> DataLoader:
        """Hand out batches as NumPy arrays (the default)."""
        self.device = CPU
        return self

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot: generator state, epoch and position within it."""
        return {
            "type": type(self).__name__,
            "dataset_len": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "epochs_started": self._epochs_started,
            "position": self._position,
            # The generator as it was before this epoch's order was drawn: redrawing gives
            # the same order without storing it.
            "epoch_rng_state": self._epoch_state,
            "rng_state": get_state(self._rng),
            # The dataset's transforms: their own generators (random augmentation).
            "transforms": {k: t.state_dict() for k, t in _transforms_of(self.dataset).items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a [`state_dict`][dezero.data.DataLoader.state_dict]; the next ``for`` continues
        where that one stood."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{owner}: expected a dict, got {type(state).__name__}")
        expected = {
            "type": type(self).__name__,
            "dataset_len": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }
        missing = [
            k
            for k in (*expected, "epochs_started", "position", "epoch_rng_state", "rng_state")
            if k not in state
        ]
        if missing:
            raise KeyError(f"{owner}: state is missing keys {missing}")
        wrong = {k: (state[k], v) for k, v in expected.items() if state[k] != v}
        if wrong:
            detail = ", ".join(
                f"{k}={got!r} (this loader: {want!r})" for k, (got, want) in wrong.items()
            )
            raise ValueError(f"{owner}: state was saved from a different loader: {detail}")
        pos = state["position"]
        if not isinstance(pos, int) or isinstance(pos, bool) or not 0 <= pos <= len(self):
            raise ValueError(f"{owner}: position must be in [0, {len(self)}], got {pos!r}")
        epochs = state["epochs_started"]
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"{owner}: epochs_started must be an int >= 0, got {epochs!r}")
        for key in ("epoch_rng_state", "rng_state"):
            if state[key] is None and key == "epoch_rng_state":
                continue
            try:
                set_state(state[key], make_generator(0))  # checked on a scratch generator
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"{owner}: malformed {key}: {e}") from None
        transforms = _transforms_of(self.dataset)
        saved = state.get("transforms", {})  # absent in states saved before 0.2
        if not isinstance(saved, dict) or set(saved) - set(transforms):
            names = sorted(saved) if isinstance(saved, dict) else saved
            raise ValueError(
                f"{owner}: state holds transform states {names!r}; "
                f"this loader's dataset has {sorted(transforms)}"
            )
        for name, t in transforms.items():
            if name in saved:
                try:
                    check_state(t, saved[name])
                except (TypeError, ValueError) as e:
                    raise ValueError(f"{owner}: dataset.{name}: {e}") from None
        # Everything is checked: from here on nothing can fail half-way.
        for name, t in transforms.items():
            if name in saved:
                t.load_state_dict(saved[name])
        self._epochs_started = int(state["epochs_started"])
        if state["epoch_rng_state"] is not None and pos < len(self):
            # Mid-epoch: redraw this epoch's order from its starting state, then skip ahead.
            set_state(state["epoch_rng_state"], self._rng)
            self._epochs_started -= 1
            self._new_epoch()
            self._position = pos
            self._resume = True
            # The generator is now exactly where it was after this epoch's draw.
        else:
            set_state(state["rng_state"], self._rng)
            self._order = None if state["epoch_rng_state"] is None else np.empty(0, np.intp)
            self._epoch_state = state["epoch_rng_state"]
            self._position = pos
            self._resume = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dataset={type(self.dataset).__name__}"
            f"(len={len(self.dataset)}), "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"device={str(self.device)!r})"
        )


class SeqDataLoader(DataLoader):
    """Batches for truncated BPTT: ``batch_size`` parallel streams through a time series.

    Stream ``i`` starts at sample ``i * (n // batch_size)`` and moves one step per batch,
    so batch ``k`` holds samples ``i * jump + k``: consecutive batches continue every
    stream. An epoch is ``n // batch_size`` batches, each stream covering its own
    contiguous segment once (DeZero takes ``ceil(n / batch_size)`` steps, which lets
    each stream run one step into the next segment).

    Examples:
        >>> loader = SeqDataLoader(SinCurve(), batch_size=30)
    """

    def __init__(self, dataset: Any, batch_size: int) -> None:
        bs = _check_batch_size(type(self).__name__, batch_size)
        if 0 < len(dataset) < bs:
            raise ValueError(
                f"SeqDataLoader: batch_size={bs} streams need at least {bs} samples, "
                f"len(dataset)={len(dataset)}"
            )
        super().__init__(dataset, bs, shuffle=False, drop_last=False, seed=0)

    def __len__(self) -> int:
        return len(self.dataset) // self.batch_size

    def __iter__(self) -> Iterator[Batch]:
        if not self._resume:
            self._new_epoch()
        self._resume = False
        jump = len(self)
        gather = _gatherer(self.dataset)
        starts = np.arange(self.batch_size) * jump
        while self._position < jump:
            k = self._position
            self._position += 1
            yield self._to_device(gather(starts + k))
