"""Optimizers, their hooks and learning-rate schedules."""

from dezero.nn.optimizers.adadelta import AdaDelta
from dezero.nn.optimizers.adagrad import AdaGrad
from dezero.nn.optimizers.adam import Adam, AdamW
from dezero.nn.optimizers.hooks import ClipGrad, FreezeParam, WeightDecay
from dezero.nn.optimizers.optimizer import Optimizer
from dezero.nn.optimizers.rmsprop import RMSprop
from dezero.nn.optimizers.schedules import (
    CosineLR,
    ExponentialLR,
    LinearWarmup,
    Schedule,
    StepLR,
)
from dezero.nn.optimizers.sgd import SGD, MomentumSGD

__all__ = [
    "Optimizer", "SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam", "AdamW", "RMSprop",
    "WeightDecay", "ClipGrad", "FreezeParam",
    "Schedule", "StepLR", "ExponentialLR", "CosineLR", "LinearWarmup",
]
