"""Progress: epoch lines, the tqdm bar on a terminal, silence."""

from __future__ import annotations

import math
import re


def _make(tiny, **kw):
    return tiny.make(**kw)


def test_epoch_line_format(tiny, tmp_path, capsys):
    trainer, *_ = _make(tiny, out=tmp_path, progress="lines")
    trainer.fit(2)
    lines = capsys.readouterr().out.strip().splitlines()
    pat = re.compile(
        r"^epoch (\d)/2  loss \d+\.\d{4}  acc \d\.\d{4}  test_loss \d+\.\d{4}  "
        r"test_acc \d\.\d{4}  time \d+\.\d{2}s$"
    )
    assert [pat.match(line).group(1) for line in lines] == ["1", "2"]
    rec = trainer.history[0]
    assert f"loss {rec['loss']:.4f}" in lines[0]


def test_progress_bar_mode_draws_a_bar(tiny, tmp_path, capsys, monkeypatch):
    from dezero.train.progress import Progress

    shown: list[float] = []
    monkeypatch.setattr(Progress, "set_loss", lambda self, v: shown.append(v))
    trainer, *_ = _make(tiny, out=tmp_path, progress="bar")
    trainer.postfix_every = 2
    trainer.fit(1)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "/8" in err
    assert len(shown) == 4  # batches 2, 4, 6, 8: running means, read every 2 batches
    assert math.isclose(shown[-1], trainer.history[0]["loss"], rel_tol=1e-12)


def test_silent_mode_prints_nothing(tiny, tmp_path, capsys):
    trainer, *_ = _make(tiny, out=tmp_path, progress=False)
    trainer.fit(1)
    assert capsys.readouterr() == ("", "")


class _TTY:
    """A stderr that says it is a terminal, keeping what is written."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, s):
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_default_bar_on_a_terminal_plain_lines_otherwise(tiny, tmp_path, capsys,
                                                                   monkeypatch):
    import sys

    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    trainer, *_ = _make(tiny, out=tmp_path / "a", progress=True)
    trainer.fit(1)
    drawn = "".join(tty.parts)
    assert "epoch 1/1" in drawn and "/8" in drawn  # tqdm's bar: 8 batches
    assert capsys.readouterr().out.startswith("epoch 1/1  loss ")
    monkeypatch.undo()

    trainer, *_ = _make(tiny, out=tmp_path / "b", progress=True)
    trainer.fit(1)
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("epoch 1/1  loss ") and out.count("\n") == 1
