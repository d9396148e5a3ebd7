"""The converter registry: a user's own Function exports once it has a converter."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import dezero.onnx
from dezero.core import Function, Variable, get_array_module, test_mode
from dezero.nn import functions as F
from dezero.nn import layers as L
from dezero.nn.models import Model, Sequential


class Swish(Function):
    """``x * sigmoid(beta * x)``: a user's Function, unknown to dezero.onnx."""

    def __init__(self, beta: float) -> None:
        self.beta = beta

    def forward(self, x):
        xp = get_array_module(x)
        return x / (1 + xp.exp(-self.beta * x))

    def backward(self, gy):
        raise NotImplementedError


class Net(Model):
    def __init__(self):
        super().__init__()
        self.l0 = L.Linear(8)
        self.l1 = L.Linear(3)

    def forward(self, x):
        return self.l1(Swish(1.5)(F.relu(self.l0(x))))


def _x(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 5)).astype(np.float32)


@pytest.fixture
def swish_converter():
    @dezero.onnx.register(Swish)
    def _swish(ctx, f, x):
        beta = ctx.constant(f.beta, dtype=f.inputs[0].dtype)
        return ctx.node("Mul", [x, ctx.node("Sigmoid", [ctx.node("Mul", [beta, x])])])

    yield _swish
    dezero.onnx.unregister(Swish)


def test_custom_function_with_a_user_converter_exports(swish_converter, tmp_path):
    assert dezero.onnx.get_converter(Swish) is swish_converter
    model = Net()
    path = dezero.onnx.export(model, _x(3), tmp_path / "net.onnx")
    x = _x(6, seed=1)
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})
    with test_mode():
        want = model(Variable(x)).data
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_register_as_a_call(tmp_path):
    def conv(ctx, f, x):
        return ctx.node("Mul", [x, ctx.node("Sigmoid", [x])])

    dezero.onnx.register(Swish, conv)
    try:
        assert Swish in dezero.onnx.registered()
        dezero.onnx.export(Sequential(lambda x: Swish(1.0)(x)), _x(2), tmp_path / "s.onnx")
    finally:
        dezero.onnx.unregister(Swish)
    assert dezero.onnx.get_converter(Swish) is None


def test_missing_converter_names_the_function_and_its_layer_and_writes_nothing(tmp_path):
    target = tmp_path / "net.onnx"
    with pytest.raises(dezero.onnx.UnsupportedFunctionError) as e:
        dezero.onnx.export(Net(), _x(3), target)
    msg = str(e.value)
    assert "Swish" in msg and "test_registry.Swish" in msg
    assert "after layer 'l0'" in msg
    assert "input -> Linear(l0) -> ReLU -> Swish" in msg
    assert "dezero.onnx.register" in msg
    assert list(tmp_path.iterdir()) == []


def test_missing_converter_leaves_an_existing_file_alone(tmp_path):
    target = tmp_path / "net.onnx"
    target.write_bytes(b"previous export")
    with pytest.raises(dezero.onnx.UnsupportedFunctionError):
        dezero.onnx.export(Net(), _x(3), target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["net.onnx"]


def test_missing_converter_inside_a_layer_names_the_layer(tmp_path):
    class Scale(Function):
        def forward(self, x, w):
            return x * w

    class Outer(Model):
        def __init__(self):
            super().__init__()
            self.block = L.Linear(4)

        def forward(self, x):
            h = self.block(x)
            return Scale()(h, self.block.b)

    with pytest.raises(dezero.onnx.UnsupportedFunctionError, match=r"Scale: in layer 'block'"):
        dezero.onnx.export(Outer(), _x(2), tmp_path / "o.onnx")


def test_register_checks_its_arguments():
    with pytest.raises(TypeError, match="subclass of dezero.core.Function"):
        dezero.onnx.register(int, lambda ctx, f, x: x)
    with pytest.raises(TypeError, match="callable"):
        dezero.onnx.register(Swish, "not a function")


def test_a_failing_converter_is_reported_with_its_place(tmp_path):
    def broken(ctx, f, x):
        raise KeyError("oops")

    dezero.onnx.register(Swish, broken)
    try:
        with pytest.raises(dezero.onnx.ConversionError,
                           match=r"converter of Swish failed, after layer 'l0'.*KeyError"):
            dezero.onnx.export(Net(), _x(3), tmp_path / "net.onnx")
    finally:
        dezero.onnx.unregister(Swish)
    assert list(tmp_path.iterdir()) == []


def test_a_reshape_that_moves_the_batch_axis_is_refused(tmp_path):
    # (N, 4) -> (2, 2N): the batch no longer leads, so no symbolic shape can express it.
    model = Sequential(lambda x: F.reshape(x, (2, x.shape[0] * 2)))
    with pytest.raises(dezero.onnx.ConversionError, match=r"dynamic_batch=False.*Reshape"):
        dezero.onnx.export(model, np.zeros((3, 4), np.float32), tmp_path / "r.onnx")
    path = dezero.onnx.export(model, np.zeros((3, 4), np.float32), tmp_path / "r.onnx",
                              dynamic_batch=False)
    x = _x(3, seed=4)[:, :4]
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})
    np.testing.assert_array_equal(got, x.reshape(2, 6))
