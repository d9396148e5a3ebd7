"""dezero.onnx.export: every converter and every bundled model, checked with onnxruntime.

The reference is dezero's own forward pass (test mode) on the same inputs; onnxruntime is
an independent implementation of each ONNX operator. The batch fed to onnxruntime differs
from the example's, which checks the symbolic batch axis.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import dezero.onnx
from dezero.core import Parameter, Variable, test_mode
from dezero.nn import functions as F
from dezero.nn import layers as L
from dezero.nn.models import MLP, VGG16, Model, ResNet18, ResNet34, ResNet50, Sequential

RTOL, ATOL = 1e-5, 1e-6
EXPORT_BATCH, RUN_BATCH = 3, 5


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _run(path, *xs, names=None):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = names or [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, xs)))


def _forward(model, *xs):
    with test_mode():
        y = model(*[Variable(x) for x in xs])
    ys = y if isinstance(y, (tuple, list)) else (y,)
    return [v.data for v in ys]


def _check(model, example, run, tmp_path, **kw):
    example = example if isinstance(example, tuple) else (example,)
    run = run if isinstance(run, tuple) else (run,)
    path = dezero.onnx.export(model, example if len(example) > 1 else example[0],
                              tmp_path / "m.onnx", **kw)
    assert path == tmp_path / "m.onnx" and path.is_file()
    got = _run(path, *run)
    want = _forward(model, *run)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
    return path


class Fn(Model):
    """A model made of one function of the input and a few parameters."""

    def __init__(self, fn, **params):
        super().__init__()
        for k, v in params.items():
            setattr(self, k, Parameter(v.astype(np.float32)))
        self.fn = fn

    def forward(self, x):
        return self.fn(self, x)


def _x(*shape, seed=0, positive=False):
    a = _rng(seed).standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.5 if positive else a


r = _rng(42)
P = {
    "w4": r.standard_normal(4).astype(np.float32),
    "W46": r.standard_normal((4, 6)).astype(np.float32),
    "b6": r.standard_normal(6).astype(np.float32),
}

# name -> (function of (model, x), parameters, feature shape, positive input)
CASES = {
    "add": (lambda m, x: x + m.w, {"w": P["w4"]}, (4,), False),
    "radd_scalar": (lambda m, x: 1.5 + x, {}, (4,), False),
    "sub": (lambda m, x: m.w - x, {"w": P["w4"]}, (4,), False),
    "rsub_scalar": (lambda m, x: 1.0 - x, {}, (4,), False),
    "mul": (lambda m, x: x * m.w, {"w": P["w4"]}, (4,), False),
    "mul_scalar": (lambda m, x: x * 2.5, {}, (4,), False),
    "div": (lambda m, x: x / (m.w * m.w + 1.0), {"w": P["w4"]}, (4,), False),
    "rdiv_scalar": (lambda m, x: 2.0 / x, {}, (4,), True),
    "pow_int": (lambda m, x: x**3, {}, (4,), False),
    "pow_float": (lambda m, x: x**1.5, {}, (4,), True),
    "neg": (lambda m, x: -x, {}, (4,), False),
    "exp": (lambda m, x: F.exp(x), {}, (4,), False),
    "log": (lambda m, x: F.log(x), {}, (4,), True),
    "sin_cos": (lambda m, x: F.sin(x) + F.cos(x), {}, (4,), False),
    "tanh": (lambda m, x: F.tanh(x), {}, (4,), False),
    "sigmoid": (lambda m, x: F.sigmoid(x * 4.0), {}, (4,), False),
    "relu": (lambda m, x: F.relu(x), {}, (4,), False),
    "leaky_relu": (lambda m, x: F.leaky_relu(x, 0.1), {}, (4,), False),
    "elu": (lambda m, x: F.elu(x, 0.7), {}, (4,), False),
    "gelu": (lambda m, x: F.gelu(x * 3.0), {}, (4,), False),
    "softplus": (lambda m, x: F.softplus(x), {}, (4,), False),
    "silu": (lambda m, x: F.silu(x * 3.0), {}, (4,), False),
    "huber_loss_none": (lambda m, x: F.huber_loss(x, m.w, delta=0.5, reduction="none"),
                        {"w": P["w4"]}, (4,), False),
    "softmax": (lambda m, x: F.softmax(x * 3.0), {}, (4,), False),
    "softmax_axis_last": (lambda m, x: F.softmax(x, axis=2), {}, (2, 4), False),
    "log_softmax": (lambda m, x: F.log_softmax(x * 3.0), {}, (4,), False),
    "reshape": (lambda m, x: F.reshape(x, (x.shape[0], 3, 4)), {}, (2, 6), False),
    "reshape_flat": (lambda m, x: F.reshape(x, (-1,)), {}, (2, 3), False),
    "transpose": (lambda m, x: F.transpose(x, (0, 2, 1)), {}, (2, 3), False),
    "transpose_all": (lambda m, x: F.transpose(x), {}, (2, 3), False),
    "flatten": (lambda m, x: F.flatten(x), {}, (2, 3, 2), False),
    "expand_squeeze": (lambda m, x: F.squeeze(F.expand_dims(x, 1) * 2.0, 1), {}, (4,), False),
    "concat": (lambda m, x: F.concat([x, x * 2.0, F.exp(x)], axis=1), {}, (4,), False),
    "stack": (lambda m, x: F.stack([x, -x], axis=1), {}, (4,), False),
    "split": (lambda m, x: F.split(x, [1, 3], axis=1)[2] * 2.0, {}, (5,), False),
    "get_item_slices": (lambda m, x: x[:, 1:3, ::2], {}, (4, 5), False),
    "get_item_reverse": (lambda m, x: x[:, ::-1], {}, (4,), False),
    "get_item_negative": (lambda m, x: x[:, -3:-1], {}, (4,), False),
    "get_item_int": (lambda m, x: x[:, 2], {}, (4, 3), False),
    "get_item_last_int": (lambda m, x: x[..., -1], {}, (4, 3), False),
    "get_item_none": (lambda m, x: x[:, None, 1:], {}, (4,), False),
    "get_item_array": (lambda m, x: x[:, [0, 3, 1]], {}, (4,), False),
    "sum_axis": (lambda m, x: F.sum(x, axis=1), {}, (4, 3), False),
    "sum_keepdims": (lambda m, x: F.sum(x, axis=(1, 2), keepdims=True), {}, (4, 3), False),
    "sum_all": (lambda m, x: F.sum(x) + x, {}, (4,), False),
    "max_axis": (lambda m, x: F.max(x, axis=1), {}, (4, 3), False),
    "min_keepdims": (lambda m, x: F.min(x, axis=2, keepdims=True), {}, (4, 3), False),
    "mean": (lambda m, x: F.sum(x, axis=1) / x.shape[1], {}, (6,), False),
    "broadcast_to": (lambda m, x: F.broadcast_to(F.sum(x, axis=1, keepdims=True),
                                                 x.shape) * x, {}, (4,), False),
    "broadcast_param": (lambda m, x: F.broadcast_to(m.w, (x.shape[0], 4)) + x,
                        {"w": P["w4"]}, (4,), False),
    "sum_to": (lambda m, x: F.sum_to(x, (1, 4)) + x, {}, (4,), False),
    "matmul": (lambda m, x: F.matmul(x, m.W), {"W": P["W46"]}, (4,), False),
    "matmul_3d": (lambda m, x: x @ m.W, {"W": P["W46"]}, (2, 4), False),
    "linear": (lambda m, x: F.linear(x, m.W, m.b), {"W": P["W46"], "b": P["b6"]}, (4,), False),
    "linear_nobias": (lambda m, x: F.linear(x, m.W), {"W": P["W46"]}, (4,), False),
    "linear_3d": (lambda m, x: F.linear(x, m.W, m.b), {"W": P["W46"], "b": P["b6"]}, (3, 4),
                  False),
    "layer_norm": (lambda m, x: F.layer_norm(x, m.g, m.b), {"g": P["w4"] + 1, "b": P["w4"]},
                   (3, 4), False),
    "clip": (lambda m, x: F.clip(x, -0.5, 0.7), {}, (4,), False),
    "where": (lambda m, x: F.where(np.array([True, False, True, False]), x, -x), {}, (4,),
              False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_matches_onnxruntime(name, tmp_path):
    fn, params, feat, positive = CASES[name]
    model = Fn(fn, **params)
    example = _x(EXPORT_BATCH, *feat, seed=1, positive=positive)
    run = _x(RUN_BATCH, *feat, seed=2, positive=positive)
    _check(model, example, run, tmp_path)


def test_layer_norm_decomposed_below_opset_17(tmp_path):
    fn, params, feat, _ = CASES["layer_norm"]
    path = _check(Fn(fn, **params), _x(3, *feat), _x(5, *feat, seed=3), tmp_path, opset=13)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "LayerNormalization" not in ops and "ReduceMean" in ops


@pytest.mark.parametrize("opset", [13, 17, 18, 21])
def test_reductions_across_opsets(opset, tmp_path):
    model = Fn(lambda m, x: F.max(x, axis=1) + F.min(x, axis=1) + F.sum(x, axis=1), )
    _check(model, _x(3, 4, 2), _x(5, 4, 2, seed=9), tmp_path, opset=opset)


# ---------------------------------------------------------------------------- layers
def _conv_case(layer_fn, in_ch=3, hw=(9, 8)):
    return layer_fn, _x(EXPORT_BATCH, in_ch, *hw, seed=4), _x(RUN_BATCH, in_ch, *hw, seed=5)


class _Wrap(Model):
    def __init__(self, layer, fn=None):
        super().__init__()
        self.layer = layer
        self.fn = fn

    def forward(self, x):
        y = self.layer(x)
        return self.fn(y) if self.fn is not None else y


LAYER_CASES = {
    "conv2d": lambda: _Wrap(L.Conv2d(4, 3, stride=1, pad=1)),
    "conv2d_stride_pad": lambda: _Wrap(L.Conv2d(5, (3, 2), stride=(2, 1), pad=(1, 0))),
    "conv2d_nobias": lambda: _Wrap(L.Conv2d(4, 1, nobias=True)),
    "deconv2d": lambda: _Wrap(L.Deconv2d(4, 3, stride=2, pad=1)),
    "deconv2d_outsize": lambda: _Wrap(L.Deconv2d(2, 3, stride=2, pad=1, outsize=(18, 16))),
    "deconv2d_nobias": lambda: _Wrap(L.Deconv2d(2, 2, stride=2, nobias=True)),
    "max_pooling": lambda: _Wrap(L.Conv2d(2, 1), lambda h: F.pooling(h, 3, 2, 1)),
    "max_pooling_2": lambda: _Wrap(L.Conv2d(2, 1), lambda h: F.pooling(h, 2, 2)),
    "average_pooling": lambda: _Wrap(L.Conv2d(2, 1), lambda h: F.average_pooling(h, 3, 2, 1)),
    "average_pooling_rect": lambda: _Wrap(L.Conv2d(2, 1),
                                          lambda h: F.average_pooling(h, (2, 3), (1, 2))),
}


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_conv_and_pooling_match_onnxruntime(name, tmp_path):
    model = LAYER_CASES[name]()
    _check(model, _x(EXPORT_BATCH, 3, 9, 8, seed=4), _x(RUN_BATCH, 3, 9, 8, seed=5), tmp_path)


def _trained_batchnorm(shape):
    bn = L.BatchNorm()
    # A few training-mode calls give non-trivial running averages (and gamma/beta set below).
    for s in range(3):
        bn(_x(*shape, seed=10 + s) * 2.0 + 1.0)
    bn.gamma.data = _x(shape[1], seed=20) + 1.0
    bn.beta.data = _x(shape[1], seed=21)
    return bn


@pytest.mark.parametrize("shape", [(6, 4), (6, 3, 5, 4)])
def test_batch_norm_in_test_mode(shape, tmp_path):
    model = _Wrap(_trained_batchnorm(shape))
    mean_before = model.layer.avg_mean.copy()
    _check(model, _x(EXPORT_BATCH, *shape[1:]), _x(RUN_BATCH, *shape[1:], seed=7), tmp_path)
    # export ran in test mode: the running averages did not move.
    np.testing.assert_array_equal(model.layer.avg_mean, mean_before)


def test_dropout_is_identity(tmp_path):
    model = Sequential(L.Linear(8), lambda h: F.dropout(h, 0.5), F.relu, L.Linear(3))
    _check(model, _x(EXPORT_BATCH, 5), _x(RUN_BATCH, 5, seed=3), tmp_path)


def test_dropout_function_converts_to_identity(tmp_path):
    # A Dropout node only exists in training mode; its converter is the identity.
    from dezero.nn.functions.noise import Dropout

    class Always(Model):
        def forward(self, x):
            return Dropout(0.0)(x) * 2.0

    _check(Always(), _x(3, 4), _x(5, 4, seed=1), tmp_path)


def test_embed_id(tmp_path):
    model = Sequential(L.EmbedID(10, 4), F.tanh)
    ids = _rng(1).integers(0, 10, size=(EXPORT_BATCH, 6))
    run = _rng(2).integers(0, 10, size=(RUN_BATCH, 6))
    _check(model, ids, run, tmp_path)



class _GRUTagger(Model):
    """A GRU unrolled over a fixed number of steps (the export traces one sequence)."""

    def __init__(self):
        super().__init__()
        self.rnn = L.GRU(4)
        self.fc = L.Linear(2)
        self.rnn.h2h.b.data = _x(12, seed=5)  # non-zero: the bias inside r * (...) is exported

    def forward(self, x):
        self.rnn.reset_state()
        for t in range(x.shape[1]):
            h = self.rnn(x[:, t])
        return self.fc(h)


def test_gru_unrolled(tmp_path):
    _check(_GRUTagger(), _x(EXPORT_BATCH, 5, 6), _x(RUN_BATCH, 5, 6, seed=1), tmp_path)

# ---------------------------------------------------------------------------- models
def _cnn():
    return Sequential(
        L.Conv2d(8, 3, pad=1), F.relu, lambda h: F.pooling(h, 2, 2),
        L.Conv2d(16, 3, pad=1), L.BatchNorm(), F.relu, lambda h: F.average_pooling(h, 2, 2),
        F.flatten, L.Linear(32), lambda h: F.dropout(h, 0.3), F.relu, L.Linear(10),
    )


def _cnn_layers():
    # The pooling / flatten / layer-norm layers: compositions of converted Functions.
    ln = L.LayerNorm(64)  # 4 channels x 4 x 4 after MaxPool2d(2) on 8 x 8
    ln.gamma.data = _x(64, seed=30) + 1.0
    ln.beta.data = _x(64, seed=31)
    return Sequential(L.Conv2d(4, 3, pad=1), L.MaxPool2d(2), F.silu,
                      L.AvgPool2d(3, stride=1, pad=1), L.Flatten(), ln, L.Linear(5))


MODELS = {
    "mlp": (lambda: MLP((30, 20, 10)), (12,)),
    "mlp_relu": (lambda: MLP((16, 4), activation=F.relu), (7,)),
    "sequential": (lambda: Sequential(L.Linear(16), F.tanh, L.Linear(8), F.softmax), (5,)),
    "cnn": (_cnn, (1, 12, 12)),
    "cnn_layers": (_cnn_layers, (2, 8, 8)),
    "vgg16": (lambda: VGG16(n_classes=10, fc_size=32), (3, 32, 32)),
    "resnet18": (lambda: ResNet18(n_classes=10), (3, 32, 32)),
    "resnet34": (lambda: ResNet34(n_classes=10), (3, 32, 32)),
    "resnet50": (lambda: ResNet50(n_classes=10), (3, 32, 32)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_bundled_model_matches_onnxruntime(name, tmp_path):
    make, feat = MODELS[name]
    model = make()
    # One training-mode step sets BatchNorm's running averages away from 0 and 1.
    model(_x(4, *feat, seed=8))
    _check(model, _x(2, *feat, seed=1), _x(RUN_BATCH, *feat, seed=2), tmp_path)
    assert all(p.grad is None for p in model.params())


# ---------------------------------------------------------------------------- the file
def test_parameters_are_named_initializers_and_batch_is_symbolic(tmp_path):
    model = MLP((6, 3))
    path = dezero.onnx.export(model, _x(4, 5), tmp_path / "m.onnx")
    m = onnx.load(str(path))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    for name, p in model.named_params():
        np.testing.assert_array_equal(inits[name], p.data)
    (inp,), (out,) = m.graph.input, m.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert out.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert m.opset_import[0].version == 17


def test_static_batch_when_asked(tmp_path):
    path = dezero.onnx.export(MLP((6, 3)), _x(4, 5), tmp_path / "m.onnx", dynamic_batch=False,
                              opset=13)
    m = onnx.load(str(path))
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert m.opset_import[0].version == 13


def test_names_several_inputs_and_outputs(tmp_path):
    class Two(Model):
        def __init__(self):
            super().__init__()
            self.l = L.Linear(3)

        def forward(self, a, b):
            h = self.l(a) + b
            return F.relu(h), F.sum(h, axis=1)

    model = Two()
    a, b = _x(3, 4), _x(3, 3, seed=1)
    path = dezero.onnx.export(model, (a, b), tmp_path / "m.onnx", input_names=["a", "b"],
                              output_names=["y", "s"])
    a2, b2 = _x(6, 4, seed=2), _x(6, 3, seed=3)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["y", "s"]
    got = sess.run(None, {"a": a2, "b": b2})
    for g, w in zip(got, _forward(model, a2, b2)):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


def test_export_leaves_no_gradients_and_overwrites_atomically(tmp_path):
    model = MLP((6, 3))
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    dezero.onnx.export(model, _x(4, 5), target)
    assert all(p.grad is None for p in model.params())
    onnx.checker.check_model(onnx.load(str(target)))
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


@pytest.mark.parametrize("opset", [12, 10_000, 17.0, True])
def test_bad_opset_is_refused(opset, tmp_path):
    with pytest.raises(ValueError, match="opset"):
        dezero.onnx.export(MLP((3,)), _x(2, 2), tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()


def test_bad_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="input_names"):
        dezero.onnx.export(MLP((3,)), _x(2, 2), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ValueError, match="output_names"):
        dezero.onnx.export(MLP((3,)), _x(2, 2), tmp_path / "m.onnx", output_names=[""])
    with pytest.raises(TypeError, match="example_input"):
        dezero.onnx.export(MLP((3,)), "text", tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_float64_model(tmp_path):
    model = Sequential(L.Linear(6, dtype=np.float64), F.gelu, L.Linear(2, dtype=np.float64))
    x = _rng(0).standard_normal((3, 4))
    path = _check(model, x, _rng(1).standard_normal((5, 4)), tmp_path)
    inp = onnx.load(str(path)).graph.input[0]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
