"""dezero.onnx.export of a model that lives on the GPU: the file holds host arrays and the
same graph as the CPU model's export."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import dezero.onnx
from dezero.core import Variable, backend, test_mode
from dezero.nn import functions as F
from dezero.nn import layers as L
from dezero.nn.models import Sequential


@pytest.mark.gpu
def test_gpu_model_exports_like_its_cpu_twin(tmp_path):
    model = Sequential(L.Conv2d(4, 3, pad=1), L.BatchNorm(), F.relu,
                       lambda h: F.pooling(h, 2, 2), F.flatten, L.Linear(5))
    x = np.random.default_rng(0).standard_normal((3, 2, 8, 8)).astype(np.float32)
    model(x)  # sizes the lazy layers and moves the running averages
    with test_mode():
        want = model(Variable(x)).data
    model.to_gpu()
    path = dezero.onnx.export(model, backend.to_gpu(x[:2]), tmp_path / "gpu.onnx")
    assert backend.is_array(model.l0.W.data) and type(model.l0.W.data) is not np.ndarray
    onnx.checker.check_model(onnx.load(str(path)))
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
