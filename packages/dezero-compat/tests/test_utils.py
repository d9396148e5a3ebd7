"""dezero.compat.utils: DeZero's gradient_check (float64, bool), broadcasting allclose,
array helpers against naive loops, get_file against a local server."""

from __future__ import annotations

import http.server
import itertools
import threading

import numpy as np
import pytest

import dezero.compat.functions as F
from dezero.compat import Function, utils


def test_gradient_check_computes_in_float64():
    # In float32, central differences with eps = 1e-4 are far off; DeZero converts to float64.
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    assert utils.gradient_check(F.tanh, x) is True
    assert utils.gradient_check(lambda v: F.sum(v ** 3), x) is True


def test_gradient_check_reports_a_wrong_backward(capsys):
    class WrongSquare(Function):
        def forward(self, x):
            return x ** 2

        def backward(self, gy):
            return 3 * self.inputs[0] * gy  # should be 2x

    assert utils.gradient_check(lambda v: WrongSquare()(v), np.array([1.0, 2.0])) is False
    out = capsys.readouterr().out
    assert "FAILED (Gradient Check)" in out and "Numerical Grad" in out and "Backprop Grad" in out


def test_numerical_grad_closed_form():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = utils.numerical_grad(lambda a: a ** 3, x.copy())
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-7)


def test_array_allclose_broadcasts_and_array_equal_does_not():
    assert utils.array_allclose(np.ones((2, 3)), np.ones(3))
    assert utils.array_allclose(F.exp(np.zeros(2)), np.ones(2))
    assert not utils.array_allclose(np.ones(3), np.full(3, 1.001))
    assert utils.array_equal(np.arange(3), np.arange(3))
    assert not utils.array_equal(np.ones((2, 3)), np.ones(3))


def test_sum_to_against_a_loop():
    x = np.random.RandomState(1).randn(2, 3, 4)
    for shape in [(3, 1), (1, 4), (4,), (2, 1, 1), (1,)]:
        want = np.zeros(shape)
        full = np.broadcast_to(want, x.shape)
        for idx in itertools.product(*map(range, x.shape)):
            lead = len(x.shape) - len(shape)
            tgt = tuple(0 if s == 1 else i for i, s in zip(idx[lead:], shape))
            want[tgt] += x[idx]
        assert full.shape == x.shape
        np.testing.assert_allclose(utils.sum_to(x, shape), want)


def test_array_helpers():
    x = np.random.RandomState(2).randn(3, 5) * 50
    ref = np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(utils.logsumexp(x, axis=1), ref + x.max(axis=1, keepdims=True))
    assert utils.max_backward_shape(np.zeros((2, 3, 4)), 1) == [2, 1, 4]
    assert utils.max_backward_shape(np.zeros((2, 3)), None) == [1, 1]
    assert utils.reshape_sum_backward(np.zeros((2, 4)), (2, 3, 4), 1, False).shape == (2, 1, 4)
    assert utils.reshape_sum_backward(np.zeros((2,)), (2, 3), -1, False).shape == (2, 1)
    assert utils.get_conv_outsize(28, 3, 1, 1) == 28 and utils.get_conv_outsize(7, 3, 2, 0) == 3
    assert utils.get_deconv_outsize(4, 2, 2, 0) == 8
    assert utils.pair(3) == (3, 3) and utils.pair((1, 2)) == (1, 2)
    with pytest.raises(ValueError, match="pair"):
        utils.pair((1, 2, 3))


def test_plot_graph_functions_exist():
    from dezero.compat import Variable

    y = F.tanh(Variable(np.array(1.0), name="x"))
    assert "digraph g" in utils.get_dot_graph(y)


@pytest.fixture
def server(tmp_path):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "data.bin").write_bytes(b"\x01\x02" * 1000)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(tmp_path / "srv"), **k)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_get_file_downloads_once_into_the_cache(server, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setattr(utils, "cache_dir", str(cache))
    path = utils.get_file(server + "/data.bin")
    assert path == str(cache / "data.bin")
    assert open(path, "rb").read() == b"\x01\x02" * 1000
    assert "Downloading: data.bin" in capsys.readouterr().out
    assert utils.get_file(server + "/data.bin", "data.bin") == path  # cached: no download
    assert capsys.readouterr().out == ""
    with pytest.raises(OSError):
        utils.get_file(server + "/missing.bin")
    assert sorted(p.name for p in cache.iterdir()) == ["data.bin"]  # nothing half-written
