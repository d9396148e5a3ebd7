"""One output folder, one run: the lock file, with real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from dezero.train import cli
from dezero.train.lock import OutputLock, OutputLockedError

_HOLD = (
    "import sys; from dezero.train.lock import OutputLock; "
    "OutputLock(sys.argv[1]).acquire(); print('held', flush=True); sys.stdin.read()"
)
_SPIRAL = ["--dataset", "spiral", "--hidden", "4", "--epochs", "1", "--gpu", "false", "--quiet"]


def _holder(out):
    p = subprocess.Popen([sys.executable, "-c", _HOLD, str(out)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_second_run_into_the_same_folder_refuses_at_once(tmp_path, capsys):
    out = tmp_path / "run"
    holder = _holder(out)
    try:
        assert cli.main([*_SPIRAL, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert f"pid {holder.pid} on host {socket.gethostname()}" in err
        assert str(out / ".lock") in err
        assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing written
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("end", ["sigkill", "exit"])
def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, capsys, end):
    out = tmp_path / "run"
    holder = _holder(out)
    if end == "sigkill":
        holder.send_signal(signal.SIGKILL)
    else:
        holder.stdin.close()  # it exits without releasing
    holder.wait()
    assert json.loads((out / ".lock").read_text())["pid"] == holder.pid
    assert cli.main([*_SPIRAL, "--out", str(out)]) == 0, capsys.readouterr().err
    assert (out / "history.csv").is_file() and not (out / ".lock").exists()


def test_a_lock_from_another_host_is_never_guessed_dead(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"host": "elsewhere.example", "pid": 1}))
    with pytest.raises(OutputLockedError, match="pid 1 on host elsewhere.example"):
        OutputLock(out).acquire()


def test_the_lock_is_released_and_reusable_in_one_process(tmp_path):
    with OutputLock(tmp_path) as lock:
        owner = json.loads(lock.path.read_text())
        assert owner == {"host": socket.gethostname(), "pid": os.getpid()}
        with pytest.raises(OutputLockedError):
            OutputLock(tmp_path).acquire()  # the same process, a second run: refused too
    assert not (tmp_path / ".lock").exists()
    with OutputLock(tmp_path):
        pass


_RACE = (
    "import sys, time; from dezero.train.lock import OutputLock, OutputLockedError\n"
    "go = float(sys.argv[2])\n"
    "while time.time() < go: pass\n"
    "try:\n"
    "    OutputLock(sys.argv[1]).acquire(); print('won', flush=True)\n"
    "except OutputLockedError:\n"
    "    print('lost', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_runs_starting_together_over_a_stale_lock_have_one_winner(tmp_path):
    import time

    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (out / ".lock").write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead)}))
    go = time.time() + 3.0  # all start acquiring at the same instant
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, str(out), str(go)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    try:
        results = [p.stdout.readline().strip() for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)
    assert sorted(results) == ["lost", "lost", "lost", "won"]
