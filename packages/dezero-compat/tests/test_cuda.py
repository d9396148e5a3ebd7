"""dezero.compat.cuda: gpu_enable is a bool, true only when a device answers."""

from __future__ import annotations

import importlib

import numpy as np

from dezero.compat import Variable


def test_gpu_enable_is_a_bool_that_tells_the_truth():
    import dezero.compat.cuda as cuda

    importlib.reload(cuda)
    flag = cuda.gpu_enable
    assert type(flag) is bool
    try:
        import dezero.cuda as native
    except ImportError:
        assert flag is False
    else:
        assert flag is native.gpu_enable()
    if flag:
        assert cuda.cupy is not None
    else:
        assert cuda.cupy is None


def test_without_a_device_gpu_enable_is_false(monkeypatch):
    import dezero.compat.cuda as cuda

    try:
        import dezero.cuda as native
    except ImportError:  # without dezero-cuda there is no device to find
        native = None
    if native is not None:
        monkeypatch.setattr(native.backend, "available", lambda: (False, "no device"))
    importlib.reload(cuda)
    assert cuda.gpu_enable is False
    took = bool(cuda.gpu_enable)  # `if dezero.cuda.gpu_enable: model.to_gpu()` is skipped
    assert took is False
    monkeypatch.undo()
    importlib.reload(cuda)


def test_array_helpers():
    import dezero.compat.cuda as cuda

    a = np.arange(3.0)
    assert cuda.as_numpy(a) is a
    assert cuda.as_numpy(Variable(a)) is a
    assert cuda.as_numpy(2.0).shape == ()
    assert cuda.get_array_module(Variable(a)) is np
