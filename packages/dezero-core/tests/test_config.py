"""Config, using_config, no_grad, test_mode: graph recording, restore on error, per thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dezero.core import Config, Variable, no_grad, test_mode, using_config


def test_defaults():
    assert Config.enable_backprop is True and Config.train is True


def test_no_grad_records_no_graph():
    x = Variable(np.ones(3))
    with no_grad():
        y = (x * 2.0).sum()
        assert Config.enable_backprop is False
    assert y.creator is None and y.generation == 0
    assert Config.enable_backprop is True
    y2 = x * 2.0
    assert y2.creator is not None


def test_no_grad_keeps_nothing_alive():
    import weakref

    x = Variable(np.ones(3))
    with no_grad():
        h = x * 2.0
        ref = weakref.ref(h)
        y = h * 3.0
        del h
    assert ref() is None  # no Function holds the intermediate
    assert y.creator is None


def test_no_grad_as_decorator_both_forms():
    @no_grad
    def f(x):
        return Config.enable_backprop, x * 2.0

    @no_grad()
    def g(x):
        return Config.enable_backprop, x * 2.0

    for fn in (f, g):
        flag, y = fn(Variable(np.ones(2)))
        assert flag is False and y.creator is None
        assert Config.enable_backprop is True
    assert f.__name__ == "f"


def test_test_mode_flips_train():
    with test_mode():
        assert Config.train is False
    assert Config.train is True


@pytest.mark.parametrize("cm", [no_grad, test_mode])
def test_restored_on_exception(cm):
    before = (Config.enable_backprop, Config.train)
    with pytest.raises(RuntimeError):
        with cm():
            raise RuntimeError("boom")
    assert (Config.enable_backprop, Config.train) == before


def test_decorator_restores_on_exception():
    @no_grad
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert Config.enable_backprop is True


def test_nested():
    with using_config("train", False):
        with using_config("train", True):
            assert Config.train is True
        assert Config.train is False
    assert Config.train is True


def test_unknown_setting():
    with pytest.raises(AttributeError, match="unknown setting 'trian'"):
        using_config("trian", False)


def test_threads_do_not_share_settings():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with no_grad(), test_mode():
            inside.set()
            release.wait(5)
            seen["worker"] = (Config.enable_backprop, Config.train)

    def other():
        seen["other"] = (Config.enable_backprop, Config.train)
        seen["graph"] = (Variable(np.ones(1)) * 2.0).creator is not None

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    assert Config.enable_backprop is True and Config.train is True  # main thread untouched
    t2 = threading.Thread(target=other)
    t2.start()
    t2.join(5)
    release.set()
    t.join(5)
    assert seen == {"worker": (False, False), "other": (True, True), "graph": True}


def test_backward_restores_enable_backprop_on_error():
    from dezero.core import Function

    class Boom(Function):
        def forward(self, x):
            return x

        def backward(self, gy):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Boom()(Variable(np.ones(1))).backward(create_graph=False)
    assert Config.enable_backprop is True
