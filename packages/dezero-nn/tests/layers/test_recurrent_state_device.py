"""A recurrent layer's state moves with the layer (to_gpu inside a model), as a constant."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.core.backend import device_of, using_device
from dezero.core.testing import HostGPUBackend, isolated_backends, to_host
from dezero.nn import Model
from dezero.nn.layers import GRU, LSTM, RNN, Linear


class Net(Model):
    def __init__(self, cls):
        super().__init__()
        self.rnn = cls(4, dtype=np.float64)
        self.out = Linear(2, dtype=np.float64)

    def forward(self, x):
        return self.out(self.rnn(x))


@pytest.mark.parametrize("cls, carried", [(RNN, ("h",)), (LSTM, ("h", "c")), (GRU, ("h",))])
def test_state_follows_the_model_to_another_device_and_the_steps_continue(cls, carried):
    xs = np.random.default_rng(3).standard_normal((4, 2, 5))
    with isolated_backends(HostGPUBackend(devices=2)):
        random.seed(4)
        moved = Net(cls)
        ref = Net(cls)
        moved(xs[0])
        moved(xs[1])
        ref.load_state_dict(moved.state_dict())
        ref.rnn.reset_state()
        for x in xs:  # the reference runs all four steps on the host
            want = ref(x)

        moved.to_gpu("cuda:1")  # mid-sequence, through the parent model
        for name in carried:
            assert device_of(getattr(moved.rnn, name).data) == "cuda:1"
        with using_device("cuda:1"):  # as the Trainer does: GPU libraries use the current one
            first = Variable(xs[2]).to_gpu("cuda:1")
            moved(first)
            y = moved(Variable(xs[3]).to_gpu("cuda:1"))
            assert device_of(y.data) == "cuda:1"
            np.testing.assert_allclose(to_host(y.data), want.data, rtol=1e-12)

            # Backward runs on the new device and stops at the move: the carried state is
            # a constant, so no step before it is reached (and no device is mixed).
            y.backward(grad=Variable(np.ones(y.shape)).to_gpu("cuda:1"))
        assert first.grad is not None and moved.rnn.x2h.W.grad is not None
        assert device_of(moved.rnn.x2h.W.grad.data) == "cuda:1"

        moved.to_cpu()
        assert all(type(getattr(moved.rnn, n).data) is np.ndarray for n in carried)
        assert "rnn.h" not in moved.state_dict()  # carried state is never saved


def test_a_layer_without_state_yet_moves_nothing():
    with isolated_backends(HostGPUBackend(devices=2)):
        net = Net(LSTM)
        net.to_gpu("cuda:1")
        assert net.rnn.h is None and net.rnn.c is None
