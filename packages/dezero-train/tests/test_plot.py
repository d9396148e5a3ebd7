"""plot: a real PNG with the loss and accuracy curves of the history, drawn headless."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from dezero.train import History, Trainer, plot_history
from dezero.train.plot import history_figure


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_trainer_plot_writes_a_png_of_the_history(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    x, t = tiny.data(64, seed=1)
    net = tiny.Net()
    tr = Trainer(net, tiny.loss, tiny.SGD().setup(net), tiny.ListLoader(x, t, 16),
                 tiny.ListLoader(x, t, 32), gpu=False, out=tmp_path / "res",
                 metrics={"acc": tiny.acc}, progress=False)
    tr.fit(3)
    path = tr.plot()
    assert path == tmp_path / "res" / "history.png"
    data = path.read_bytes()
    assert _png_size(data) == (1000, 400)
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[:2] == (400, 1000)
    assert img[..., :3].std() > 0.05  # drawn, not blank

    fig = history_figure(tr.history)
    # The file is this very figure: the same pixels as the figure checked below.
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert np.array_equal(mpimg.imread(io.BytesIO(buf.getvalue())), img)
    ax_loss, ax_acc = fig.axes
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == ("epoch", "loss")
    assert (ax_acc.get_xlabel(), ax_acc.get_ylabel()) == ("epoch", "accuracy")
    lines = {(ax.get_ylabel(), ln.get_label()): ln for ax in fig.axes for ln in ax.lines}
    want = {("loss", "train"): "loss", ("loss", "test"): "test_loss",
            ("accuracy", "train"): "acc", ("accuracy", "test"): "test_acc"}
    assert set(lines) == set(want)
    for key, col in want.items():
        xs, ys = lines[key].get_data()
        assert list(xs) == [1, 2, 3]
        assert np.allclose(ys, tr.history[col], rtol=0, atol=0)


def test_plot_without_test_data_and_explicit_path(tmp_path):
    h = History([{"epoch": 1, "loss": 1.0, "acc": 0.5}, {"epoch": 2, "loss": 0.5, "acc": 0.7}])
    p = plot_history(h, tmp_path / "sub" / "p.png", show=False)
    assert p.read_bytes()[:4] == b"\x89PNG"
    fig = history_figure(h)
    assert [ln.get_label() for ax in fig.axes for ln in ax.lines] == ["train", "train"]
    with pytest.raises(TypeError, match="expected a History"):
        plot_history([1, 2], tmp_path / "x.png")
