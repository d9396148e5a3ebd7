"""dezero.train: the Trainer, its history, plots, callbacks, checkpoints and the CLI."""

from dezero.train.__about__ import __version__
from dezero.train.callbacks import (
    Callback,
    Checkpoint,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    LRScheduler,
    TerminateOnNaN,
)
from dezero.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dezero.train.history import History
from dezero.train.lock import OutputLock, OutputLockedError
from dezero.train.plot import plot_history
from dezero.train.state import StateError
from dezero.train.summary import Summary
from dezero.train.trainer import Trainer

__all__ = [
    "__version__",
    "Trainer",
    "History",
    "plot_history",
    "Callback",
    "CSVLogger",
    "JSONLogger",
    "Checkpoint",
    "EarlyStopping",
    "LRScheduler",
    "TerminateOnNaN",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "StateError",
    "Summary",
    "OutputLock",
    "OutputLockedError",
]
