"""One device vocabulary: get_device, Device, device_of, transfers between several GPUs,
and random draws made on an array's own device.

The GPUs are HostGPUBackend's pretend devices (three of them), whose arrays carry their
device number, so a transfer to the wrong GPU, or a check of the wrong one, shows here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dezero.core import Variable, random
from dezero.core.backend import (
    CPU,
    Device,
    DeviceMismatchError,
    GPUUnavailableError,
    device_of,
    get_device,
    on_device_of,
    to_cpu,
    to_device,
    to_gpu,
)
from dezero.core.testing import HostGPUBackend, isolated_backends


@pytest.fixture
def gpus():
    b = HostGPUBackend(devices=3)
    with isolated_backends(b):
        yield b


def _on(a, index):
    """A pretend-GPU array on device ``index``, made without dezero's transfer code."""
    out = np.array(a).view(HostGPUBackend.Array)
    out.device_index = index
    return out


# ---- the vocabulary -----------------------------------------------------------------------


def test_cpu_is_always_known_and_needs_no_gpu():
    with isolated_backends():
        assert get_device("cpu") is CPU
        assert device_of(np.ones(2)) is CPU and device_of(1.5) is CPU and device_of(None) is CPU
        assert device_of(Variable(np.ones(2))) is CPU
        assert CPU.number is None and not CPU.is_gpu and CPU.backend.name == "numpy"


@pytest.mark.parametrize("spec", ["cuda:1", 1, np.int64(1)])
def test_every_spelling_of_gpu_1_is_one_device(gpus, spec):
    d = get_device(spec)
    assert type(d) is Device and d.number == 1 and d.is_gpu and d.backend is gpus
    assert d == "cuda:1" and str(d) == "cuda:1" and repr(d) == "Device('cuda:1')"
    assert d is get_device("cuda:1")  # one object per device: cheap to compare
    assert get_device(d) is d
    assert json.dumps({"device": d}) == '{"device": "cuda:1"}'


def test_cuda_means_the_current_device(gpus):
    assert get_device("cuda") == "cuda:0"
    with gpus.use_device(2):
        assert get_device("cuda") == "cuda:2"
        x = Variable(np.arange(3.0)).to_gpu()
    assert device_of(x) == "cuda:2"


def test_device_object_of_the_gpu_library_is_read_by_its_backend(gpus, monkeypatch):
    class LibraryDevice:
        def __init__(self, n):
            self.n = n

    monkeypatch.setattr(HostGPUBackend, "parse_device",
                        lambda self, obj: obj.n if isinstance(obj, LibraryDevice) else None)
    assert get_device(LibraryDevice(2)) == "cuda:2"
    with pytest.raises(TypeError, match="get_device: device must be"):
        get_device(object())


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("gpu", ValueError, "'gpu'"),
        ("cuda:", ValueError, "'cuda:'"),
        ("cuda:x", ValueError, "'cuda:x'"),
        ("cuda:-1", ValueError, "'cuda:-1'"),
        ("CPU", ValueError, "'CPU'"),
        (-1, ValueError, "must be >= 0, got -1"),
        (True, TypeError, "True"),
        (1.0, TypeError, "float"),
        ("cuda:3", ValueError, r"device 3 does not exist; 3 GPU device\(s\) visible"),
        (3, ValueError, "device 3 does not exist"),
    ],
)
def test_bad_device_names_say_what_is_accepted(gpus, spec, error, match):
    with pytest.raises(error, match=match) as info:
        get_device(spec, "Thing.to_gpu")
    assert str(info.value).startswith("Thing.to_gpu: ")


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", 0])
def test_naming_a_gpu_without_one_says_what_is_missing(spec):
    with isolated_backends():
        with pytest.raises(GPUUnavailableError, match="Thing: the GPU is not usable: .*cuda"):
            get_device(spec, "Thing")


# ---- transfers ----------------------------------------------------------------------------


def test_to_device_moves_between_gpus_and_back(gpus):
    a = np.arange(6.0).reshape(2, 3)
    on0 = to_device(a, "cuda:0")
    on1 = to_device(on0, 1)
    assert device_of(on0) == "cuda:0" and device_of(on1) == "cuda:1"
    assert on1 is not on0
    np.testing.assert_array_equal(np.asarray(on1), a)
    assert to_device(on1, get_device("cuda:1")) is on1  # already there: no copy
    back = to_device(on1, "cpu")
    assert type(back) is np.ndarray
    np.testing.assert_array_equal(back, a)
    assert to_cpu(a) is a and to_device(None, "cuda:2") is None


def test_to_gpu_refuses_the_host(gpus):
    with pytest.raises(ValueError, match="to_gpu: device must be a GPU, got Device\\('cpu'\\)"):
        to_gpu(np.ones(2), "cpu")
    with pytest.raises(ValueError, match="Variable.to_gpu: device must be a GPU"):
        Variable(np.ones(2)).to_gpu("cpu")


def test_on_device_of_puts_an_array_where_another_lives(gpus):
    host = np.arange(4.0)
    like = _on(np.zeros(1), 2)
    moved = on_device_of(host, like)
    assert device_of(moved) == "cuda:2"
    np.testing.assert_array_equal(np.asarray(moved), host)
    assert on_device_of(moved, Variable(like)) is moved  # a Variable names its data's device
    assert device_of(on_device_of(_on(host, 0), like)) == "cuda:2"  # GPU 0 -> GPU 2
    assert type(on_device_of(moved, np.zeros(1))) is np.ndarray
    assert on_device_of(host, np.zeros(1)) is host


def test_variable_moves_data_and_grad_to_the_named_gpu(gpus):
    v = Variable(np.arange(3.0))
    v.grad = Variable(np.ones(3))
    v.to_gpu("cuda:1")
    assert device_of(v) == "cuda:1" and device_of(v.grad) == "cuda:1"
    v.to_gpu(2)
    assert device_of(v) == "cuda:2" and device_of(v.grad) == "cuda:2"
    v.to_device("cpu")
    assert type(v.data) is np.ndarray and type(v.grad.data) is np.ndarray


def test_moving_to_a_resolved_device_checks_nothing_more(gpus):
    dev = get_device("cuda:1")
    checks = gpus.checks
    xs = [Variable(np.full(2, float(i))) for i in range(10)]
    for x in xs:
        x.to_device(dev)
    assert gpus.checks == checks  # ten arrays, no availability check
    assert all(device_of(x) == "cuda:1" for x in xs)
    Variable(np.ones(2)).to_gpu("cuda:1")
    assert gpus.checks == checks + 1  # a name is checked once


def test_inputs_on_two_gpus_are_a_device_mismatch(gpus):
    x0 = Variable(_on(np.ones(2), 0))
    x1 = Variable(_on(np.ones(2), 1))
    with pytest.raises(DeviceMismatchError, match=r"Add: .*input 0 on cuda:0, input 1 on cuda:1"):
        _ = x0 + x1
    y = x1 * x1
    assert device_of(y) == "cuda:1"


# ---- random draws on a device -------------------------------------------------------------


def test_uniform_on_the_cpu_is_the_framework_generator():
    random.seed(11)
    u = random.uniform((4, 5), np.float32)
    ref = np.random.Generator(np.random.PCG64(11)).random((4, 5), dtype=np.float32)
    assert type(u) is np.ndarray and u.dtype == np.float32
    np.testing.assert_array_equal(u, ref)


def test_uniform_on_a_gpu_is_drawn_there_and_fixed_by_the_framework_state(gpus):
    random.seed(5)
    u = random.uniform((1000,), np.float32, device="cuda:1")
    assert isinstance(u, HostGPUBackend.Array) and device_of(u) == "cuda:1"
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(float(u.mean()) - 0.5) < 0.05
    # The documented scheme, written out: one number from the framework's generator seeds
    # the device's generator.
    key = int(np.random.Generator(np.random.PCG64(5)).integers(0, 2**63))
    ref = np.random.Generator(np.random.Philox(key)).random((1000,), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(u), ref)
    # Saving the framework's state saves the GPU's draws to come.
    state = random.get_state()
    a = np.asarray(random.uniform((50,), np.float64, device=get_device("cuda:2")))
    random.set_state(state)
    b = np.asarray(random.uniform((50,), np.float64, device="cuda:2"))
    np.testing.assert_array_equal(a, b)
    c = np.asarray(random.uniform((50,), np.float64, device="cuda:2"))
    assert not np.array_equal(a, c)


def test_uniform_in_half_precision_stays_below_one():
    random.seed(0)
    u = random.uniform((200_000,), np.float16)
    assert u.dtype == np.float16 and u.max() < 1 and u.min() >= 0


def test_uniform_refuses_integer_dtypes():
    with pytest.raises(TypeError, match="uniform: dtype must be a floating-point type"):
        random.uniform((2,), np.int32)


def test_using_device_makes_a_gpu_current_for_array_creation(gpus):
    from dezero.core.backend import get_array_module, using_device

    x = Variable(_on(np.ones(2), 2))
    xp = get_array_module(x)
    with using_device("cuda:2") as dev:
        assert dev == "cuda:2" and gpus.current == 2
        assert device_of(xp.zeros(3)) == "cuda:2"
        assert device_of(Variable(np.ones(2)).to_gpu()) == "cuda:2"
    assert gpus.current == 0
    assert device_of(xp.zeros(3)) == "cuda:0"
    with using_device("cpu") as dev:
        assert dev is CPU and gpus.current == 0
    with pytest.raises(ValueError, match="using_device: device 7 does not exist"):
        with using_device(7):
            pass


def test_devices_copy_and_pickle_as_themselves(gpus):
    import copy
    import pickle

    d = get_device("cuda:1")
    assert copy.copy(d) is d and copy.deepcopy({"d": d})["d"] is d
    assert pickle.loads(pickle.dumps(d)) is d
    assert pickle.loads(pickle.dumps(CPU)) is CPU
