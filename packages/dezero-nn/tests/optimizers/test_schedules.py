"""Learning-rate schedules driven from a hand-written training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero.core import Variable
from dezero.nn import optimizers as O
from dezero.nn.layers import Linear


def _loop(opt, sched, epochs):
    """A hand-written loop: record the rate each epoch used, then step the schedule."""
    model = Linear(1, in_size=1)
    opt.setup(model)
    seen = []
    for _ in range(epochs):
        seen.append(getattr(opt, opt.lr_name))
        model.cleargrads()
        model.W.grad = Variable(np.ones((1, 1), np.float32))
        opt.update()
        sched.step()
    return seen


def test_step_lr():
    opt = O.SGD(1.0)
    seen = _loop(opt, O.StepLR(opt, step_size=2, gamma=0.5), 6)
    assert seen == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_exponential_lr_on_adam_alpha():
    opt = O.Adam(alpha=0.1)
    seen = _loop(opt, O.ExponentialLR(opt, gamma=0.9), 4)
    assert seen == pytest.approx([0.1 * 0.9**e for e in range(4)])
    assert opt.lr_name == "alpha"


def test_cosine_lr():
    opt = O.MomentumSGD(0.2)
    seen = _loop(opt, O.CosineLR(opt, t_max=4, eta_min=0.01), 6)
    want = [0.01 + 0.19 * (1 + math.cos(math.pi * min(e, 4) / 4)) / 2 for e in range(6)]
    assert seen == pytest.approx(want)
    assert seen[4] == pytest.approx(0.01) and seen[5] == pytest.approx(0.01)


def test_linear_warmup():
    opt = O.SGD(1.0)
    seen = _loop(opt, O.LinearWarmup(opt, warmup=4, start_factor=0.2), 6)
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])


def test_schedule_changes_the_update():
    opt = O.SGD(1.0)
    model = Linear(1, in_size=1, nobias=True)
    opt.setup(model)
    sched = O.StepLR(opt, step_size=1, gamma=0.5)
    w = float(model.W.data[0, 0])
    for e in range(3):
        model.W.grad = Variable(np.ones((1, 1), np.float32))
        opt.update()
        w -= 0.5**e
        sched.step()
    assert float(model.W.data[0, 0]) == pytest.approx(w)


def test_schedule_state_roundtrip():
    opt = O.SGD(1.0)
    s = O.StepLR(opt, 1, 0.5)
    s.step()
    s.step()
    opt2 = O.SGD(1.0)
    s2 = O.StepLR(opt2, 1, 0.5)
    s2.load_state_dict(s.state_dict())
    assert opt2.lr == pytest.approx(0.25)


@pytest.mark.parametrize("make, msg", [
    (lambda o: O.StepLR(o, 0), "StepLR: invalid step_size: 0"),
    (lambda o: O.ExponentialLR(o, -1), "ExponentialLR: invalid gamma: -1"),
    (lambda o: O.CosineLR(o, 0), "CosineLR: invalid t_max: 0"),
    (lambda o: O.LinearWarmup(o, 2, start_factor=0), "LinearWarmup: invalid start_factor"),
])
def test_schedule_argument_errors(make, msg):
    with pytest.raises(ValueError, match=msg):
        make(O.SGD())


def test_schedule_needs_an_optimizer():
    with pytest.raises(TypeError, match="lr_name"):
        O.StepLR(object(), 1)
