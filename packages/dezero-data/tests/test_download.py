"""Finding and downloading files, against a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from dezero.data.download import (
    ChecksumError,
    DatasetFileError,
    DatasetNotFoundError,
    RemoteFile,
    cache_dir,
    fetch,
    search_dirs,
    system_dirs,
)


def _files_in(d: Path) -> list[str]:
    return sorted(p.name for p in d.rglob("*") if p.is_file()) if d.exists() else []


def _remote(idx_files, name: str = "images.gz") -> RemoteFile:
    return RemoteFile(name, sha256=idx_files.sha256[name])


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_then_reuse_cache(server, idx_files, isolated_data_dirs):
    server.files["/a/images.gz"] = idx_files.gz["images.gz"]
    rf = _remote(idx_files)
    content = fetch(rf, "tiny", [server.url + "/a/"], progress=False)
    assert content == gzip.decompress(idx_files.gz["images.gz"])
    cached = isolated_data_dirs["cache"] / "tiny" / "images.gz"
    assert cached.read_bytes() == idx_files.gz["images.gz"]
    assert _files_in(isolated_data_dirs["cache"]) == ["images.gz"]  # no temporary left over

    assert fetch(rf, "tiny", [server.url + "/a/"], progress=False) == content
    assert server.hits["/a/images.gz"] == 1  # the second call used the cache


def test_checksum_mismatch_leaves_nothing(server, idx_files, isolated_data_dirs):
    server.files["/m/images.gz"] = idx_files.gz["labels.gz"]  # the wrong file
    with pytest.raises(DatasetNotFoundError) as e:
        fetch(_remote(idx_files), "tiny", [server.url + "/m"], progress=False, caller="Tiny")
    msg = str(e.value)
    assert (
        msg.startswith("Tiny: ")
        and "checksum mismatch" in msg
        and server.url + "/m/images.gz" in msg
    )
    assert "root=" in msg and "DEZERO_DATASETS" in msg  # says how to provide the file by hand
    assert _files_in(isolated_data_dirs["cache"]) == []


def test_truncated_response_leaves_nothing(server, idx_files, isolated_data_dirs):
    server.files["/t/images.gz"] = idx_files.gz["images.gz"]
    server.mode["/t/images.gz"] = "truncate"
    with pytest.raises(DatasetNotFoundError, match="truncated"):
        fetch(_remote(idx_files), "tiny", [server.url + "/t/"], progress=False)
    assert _files_in(isolated_data_dirs["cache"]) == []


def test_first_mirror_down_second_works(server, idx_files, isolated_data_dirs):
    server.files["/good/images.gz"] = idx_files.gz["images.gz"]
    # A closed port (connection refused) and a 404, then the good one.
    mirrors = [_closed_port_url(), server.url + "/missing/", server.url + "/good/"]
    content = fetch(_remote(idx_files), "tiny", mirrors, progress=False)
    assert hashlib.sha256(content).hexdigest() == idx_files.sha256["images.gz"]
    assert server.hits["/missing/images.gz"] == 1
    assert _files_in(isolated_data_dirs["cache"]) == ["images.gz"]


def test_stall_past_timeout(server, idx_files, isolated_data_dirs):
    server.files["/s/images.gz"] = idx_files.gz["images.gz"]
    server.mode["/s/images.gz"] = "stall"
    t0 = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="(?i)timed? ?out"):
        fetch(_remote(idx_files), "tiny", [server.url + "/s/"], timeout=0.5, progress=False)
    assert time.perf_counter() - t0 < 5
    assert _files_in(isolated_data_dirs["cache"]) == []


def test_all_mirrors_fail_lists_every_place(server, idx_files, isolated_data_dirs):
    mirrors = [server.url + "/x/", server.url + "/y/"]
    with pytest.raises(DatasetNotFoundError) as e:
        fetch(_remote(idx_files), "tiny", mirrors, progress=False, caller="Tiny")
    msg = str(e.value)
    for place in [
        str(isolated_data_dirs["cache"] / "tiny" / "images.gz"),
        str(isolated_data_dirs["system"] / "tiny" / "images.gz"),
        server.url + "/x/images.gz",
        server.url + "/y/images.gz",
    ]:
        assert place in msg
    assert msg.count("HTTP 404") == 2  # what went wrong, mirror by mirror
    # How to supply the file by hand: where to get it and where to put it.
    assert "To provide it by hand" in msg and server.url + "/x/images.gz" in msg
    assert f"put it in {isolated_data_dirs['cache'] / 'tiny'}" in msg
    assert "root=<dir>" in msg and "DEZERO_DATASETS=<dir>" in msg
    assert _files_in(isolated_data_dirs["cache"]) == []


def test_corrupt_cached_file_is_refetched(server, idx_files, isolated_data_dirs):
    server.files["/c/images.gz"] = idx_files.gz["images.gz"]
    cached = isolated_data_dirs["cache"] / "tiny" / "images.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(idx_files.gz["images.gz"][:100])  # a partial file from some crash
    with pytest.warns(RuntimeWarning, match="images.gz"):
        fetch(_remote(idx_files), "tiny", [server.url + "/c/"], progress=False)
    assert cached.read_bytes() == idx_files.gz["images.gz"]
    assert server.hits["/c/images.gz"] == 1


def test_corrupt_cached_file_kept_when_download_fails(server, idx_files, isolated_data_dirs):
    # Replaced only once a fresh download has succeeded: a failed one leaves it as it was.
    cached = isolated_data_dirs["cache"] / "tiny" / "images.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    with (
        pytest.warns(RuntimeWarning),
        pytest.raises(DatasetNotFoundError, match="corrupt, kept until a download replaces it"),
    ):
        fetch(_remote(idx_files), "tiny", [server.url + "/none/"], progress=False)
    assert cached.read_bytes() == b"garbage"
    assert _files_in(isolated_data_dirs["cache"]) == ["images.gz"]


def test_search_order_root_before_cache_before_system(
    idx_files, isolated_data_dirs, tmp_path, monkeypatch
):
    rf = _remote(idx_files)
    system_copy = isolated_data_dirs["system"] / "tiny" / "images.gz"
    system_copy.parent.mkdir(parents=True)
    # Recompressed (different gzip bytes, same content): accepted through the content hash.
    system_copy.write_bytes(
        gzip.compress(gzip.decompress(idx_files.gz["images.gz"]), compresslevel=1, mtime=1)
    )
    assert system_copy.read_bytes() != idx_files.gz["images.gz"]
    assert (
        hashlib.sha256(fetch(rf, "tiny", [], download=False)).hexdigest()
        == idx_files.sha256["images.gz"]
    )

    dirs = [d for d, _ in search_dirs("tiny", root=tmp_path / "mine")]
    assert dirs == [
        tmp_path / "mine" / "tiny",
        tmp_path / "mine",
        isolated_data_dirs["cache"] / "tiny",
        isolated_data_dirs["system"] / "tiny",
    ]
    monkeypatch.setenv("DEZERO_DATASETS", str(tmp_path / "env"))
    assert [d for d, _ in search_dirs("tiny")][:2] == [tmp_path / "env" / "tiny", tmp_path / "env"]
    assert cache_dir() == isolated_data_dirs["cache"]
    assert system_dirs() == [isolated_data_dirs["system"]]


def test_default_search_order_ends_with_debian_system_dir(monkeypatch, tmp_path):
    # No overrides at all: root/DEZERO_DATASETS, ~/.dezero/datasets, XDG data dirs, and
    # Debian's /usr/share/datasets even when XDG_DATA_DIRS leaves /usr/share out.
    for var in ("DEZERO_CACHE", "DEZERO_SYSTEM_DATASETS", "DEZERO_DATASETS", "XDG_DATA_DIRS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dirs = search_dirs("fashion-mnist", root=tmp_path / "mine")
    assert [(str(d), origin) for d, origin in dirs] == [
        (str(tmp_path / "mine" / "fashion-mnist"), "root= argument"),
        (str(tmp_path / "mine"), "root= argument"),
        (str(tmp_path / "home" / ".dezero" / "datasets" / "fashion-mnist"), "user cache"),
        ("/usr/local/share/datasets/fashion-mnist", "system datasets"),
        ("/usr/share/datasets/fashion-mnist", "system datasets"),
    ]
    monkeypatch.setenv("XDG_DATA_DIRS", os.pathsep.join(["/opt/a", "/opt/b"]))
    assert [str(d) for d in system_dirs()] == [
        "/opt/a/datasets", "/opt/b/datasets", "/usr/share/datasets"
    ]


def test_files_straight_in_root_and_corrupt_user_file_kept(server, idx_files, tmp_path):
    rf = _remote(idx_files)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "images.gz").write_bytes(idx_files.gz["images.gz"])
    assert fetch(rf, "tiny", [], root=tmp_path / "mine", download=False)
    # A file that fails its checksum in the user's folder is the user's: an error, kept as is,
    # even when a mirror has the right file (downloading would write into that folder).
    server.files["/u/images.gz"] = idx_files.gz["images.gz"]
    other = RemoteFile("images.gz", sha256="0" * 64)
    for download in (False, True):
        with pytest.raises(DatasetFileError) as e:
            fetch(other, "tiny", [server.url + "/u/"], root=tmp_path / "mine", download=download)
        msg = str(e.value)
        assert str(tmp_path / "mine" / "images.gz") in msg and "root= argument" in msg
        assert "checksum mismatch" in msg and "left as it is" in msg and "move it" in msg
    assert (tmp_path / "mine" / "images.gz").read_bytes() == idx_files.gz["images.gz"]
    assert server.hits["/u/images.gz"] == 0
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["images.gz"]


def _make_unreadable(path: Path) -> None:
    """A regular file whose read fails, also for root (who ignores permission bits)."""
    if os.geteuid() != 0:
        path.write_bytes(b"x")
        path.chmod(0)
    else:  # reading /proc/self/mem at offset 0 fails with EIO; stat says regular file
        path.symlink_to("/proc/self/mem")
    assert path.is_file()
    with pytest.raises(OSError):
        path.read_bytes()


def test_unreadable_user_file_differs_from_corrupt(idx_files, tmp_path, monkeypatch):
    user = tmp_path / "env" / "tiny"
    user.mkdir(parents=True)
    _make_unreadable(user / "images.gz")
    monkeypatch.setenv("DEZERO_DATASETS", str(tmp_path / "env"))
    with pytest.raises(DatasetFileError) as e:
        fetch(_remote(idx_files), "tiny", [], caller="Tiny")
    msg = str(e.value)
    assert msg.startswith("Tiny: ") and str(user / "images.gz") in msg
    assert "DEZERO_DATASETS" in msg and "cannot be read" in msg and "checksum" not in msg
    assert "readable" in msg  # what to do
    assert (user / "images.gz").is_symlink() or (user / "images.gz").exists()


def test_mnist_keeps_fashion_files_placed_under_root_mnist(idx_files, tmp_path, server):
    # The example: another dataset's files with MNIST's names under <root>/mnist/.
    from dezero.data.datasets import MNIST

    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    placed = {}
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        placed[name] = idx_files.gz["images.gz" if "images" in name else "labels.gz"]
        (folder / name).write_bytes(placed[name])
        server.files[f"/mn/{name}"] = b"never asked for"
    for download in (False, True):
        with pytest.raises(DatasetFileError, match="train-images-idx3-ubyte.gz") as e:
            MNIST(root=tmp_path / "data", download=download, mirrors=[server.url + "/mn/"])
        assert str(e.value).startswith("MNIST: ") and "not the expected file" in str(e.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == placed
    assert sum(server.hits.values()) == 0


def test_no_folder_created_until_a_download_succeeds(server, idx_files, tmp_path,
                                                     isolated_data_dirs):
    rf = _remote(idx_files)
    root = tmp_path / "new" / "deeper"
    for kwargs in ({"root": root}, {}):
        with pytest.raises(DatasetNotFoundError):
            fetch(rf, "tiny", [server.url + "/none/"], progress=False, **kwargs)
    assert not (tmp_path / "new").exists()
    assert not isolated_data_dirs["cache"].exists()
    server.files["/ok/images.gz"] = idx_files.gz["images.gz"]
    fetch(rf, "tiny", [server.url + "/ok/"], root=root, progress=False)
    assert (root / "tiny" / "images.gz").read_bytes() == idx_files.gz["images.gz"]


def test_system_copy_is_never_deleted(idx_files, isolated_data_dirs):
    bad = isolated_data_dirs["system"] / "tiny" / "images.gz"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not gzip")
    with (
        pytest.warns(RuntimeWarning),
        pytest.raises(DatasetNotFoundError, match="corrupt, skipped"),
    ):
        fetch(_remote(idx_files), "tiny", [], download=False)
    assert bad.read_bytes() == b"not gzip"


def test_archive_digests_accept_the_published_bytes(idx_files):
    raw = idx_files.gz["images.gz"]
    by_md5 = RemoteFile("images.gz", archive_md5=hashlib.md5(raw).hexdigest())
    by_sha = RemoteFile(
        "images.gz", sha256="f" * 64, archive_sha256=hashlib.sha256(raw).hexdigest()
    )
    assert by_md5.verify(raw) == gzip.decompress(raw)
    assert by_sha.verify(raw) == gzip.decompress(raw)
    with pytest.raises(ChecksumError, match="file md5"):
        by_md5.verify(raw + b"x")


def test_bad_arguments():
    with pytest.raises(ValueError, match="needs at least one checksum"):
        RemoteFile("x.gz")
    rf = RemoteFile("x.gz", sha256="0" * 64)
    with pytest.raises(ValueError, match="timeout must be a positive"):
        fetch(rf, "tiny", [], timeout=0)


def test_progress_bar_shown_when_asked(server, idx_files, capsys):
    server.files["/p/images.gz"] = idx_files.gz["images.gz"]
    fetch(_remote(idx_files), "tiny", [server.url + "/p/"], progress=True)
    assert "images.gz" in capsys.readouterr().err
    np.testing.assert_equal(1, server.hits["/p/images.gz"])


def test_progress_bar_quiet_off_a_terminal(server, idx_files, capsys):
    server.files["/q/images.gz"] = idx_files.gz["images.gz"]
    fetch(_remote(idx_files), "tiny", [server.url + "/q/"])  # progress=None: stderr is no TTY
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- bounds (issue 10 §4)


def test_timeout_bounds_the_whole_download(server, idx_files, isolated_data_dirs):
    # 1 byte per second never lets a single read wait 3 s, yet the download must end at 3 s.
    server.files["/d/images.gz"] = idx_files.gz["images.gz"]
    server.mode["/d/images.gz"] = "drip"
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError, match="timed out"):
        fetch(_remote(idx_files), "tiny", [server.url + "/d/"], timeout=3, progress=False)
    elapsed = time.monotonic() - t0
    assert 2.5 < elapsed < 6, elapsed
    assert not isolated_data_dirs["cache"].exists()


def test_gzip_bomb_fails_fast_without_inflating(server, isolated_data_dirs):
    import tracemalloc

    inflated = 200 * 2**20  # 200 MiB of zeros, about 200 KB compressed
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(2**20)
    bomb = b"".join(z.compress(zeros) for _ in range(inflated // len(zeros))) + z.flush()
    server.files["/b/images.gz"] = bomb
    rf = RemoteFile("images.gz", sha256="0" * 64, content_size=7840016)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetNotFoundError, match="decompression bomb"):
            fetch(rf, "tiny", [server.url + "/b/"], progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 7840016 * 1.5 + 4 * 2**20, peak  # never near the 200 MiB it would inflate to
    assert not isolated_data_dirs["cache"].exists()


@pytest.mark.parametrize("mode", ["ok", "nolength"])
def test_size_capped_at_the_known_length(server, idx_files, isolated_data_dirs, mode):
    body = idx_files.gz["images.gz"]
    server.files["/z/images.gz"] = body + bytes(5000)  # more than the file's known length
    server.mode["/z/images.gz"] = mode
    rf = RemoteFile("images.gz", sha256=idx_files.sha256["images.gz"], size=len(body))
    with pytest.raises(DatasetNotFoundError, match="announces|larger than the file's known size"):
        fetch(rf, "tiny", [server.url + "/z/"], progress=False)
    assert not isolated_data_dirs["cache"].exists()
    server.files["/z/images.gz"] = body  # the right length, no Content-Length: accepted
    assert fetch(rf, "tiny", [server.url + "/z/"], progress=False) == gzip.decompress(body)


def test_download_holds_the_body_once(server, isolated_data_dirs):
    import tracemalloc

    n = 16 * 2**20
    raw = np.random.default_rng(0).integers(0, 256, n, dtype=np.uint8).tobytes()
    body = gzip.compress(raw, compresslevel=1, mtime=0)  # incompressible: body ~ content
    server.files["/m/big.gz"] = body
    rf = RemoteFile("big.gz", sha256=hashlib.sha256(raw).hexdigest(), content_size=n)
    tracemalloc.start()
    try:
        content = fetch(rf, "tiny", [server.url + "/m/"], progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert bytes(content) == raw
    # The content, plus chunks: not the body and a copy of it besides (that was 3n).
    assert peak < 1.5 * n, peak / n


_SIGTERM_CHILD = """
import sys
from dezero.data.download import RemoteFile, fetch
fetch(RemoteFile("images.gz", sha256="0" * 64), "tiny", [sys.argv[1]], timeout=60,
      progress=False)
"""


def test_sigterm_removes_the_part_file(server, idx_files, isolated_data_dirs):
    import signal
    import subprocess
    import sys

    server.files["/s/images.gz"] = idx_files.gz["images.gz"]
    server.mode["/s/images.gz"] = "stall"  # 10 bytes, then silence: the .part file exists
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_CHILD, server.url + "/s/"],
                            env=dict(os.environ))
    folder = isolated_data_dirs["cache"] / "tiny"
    try:
        deadline = time.monotonic() + 30
        while not any(folder.glob(".images.gz.*.part")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the child ended before downloading"
            time.sleep(0.05)
        assert any(folder.glob(".images.gz.*.part"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == -signal.SIGTERM  # it still dies of the signal
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not isolated_data_dirs["cache"].exists() or _files_in(isolated_data_dirs["cache"]) == []
    assert not folder.exists()  # the folder it made for the download is gone too


def test_real_datasets_prefer_https_mirrors():
    from dezero.data import datasets

    for cls in (datasets.MNIST, datasets.FashionMNIST, datasets.CIFAR10, datasets.CIFAR100):
        schemes = [m.split(":", 1)[0] for m in cls.mirrors]
        assert schemes[0] == "https", cls
        assert schemes == sorted(schemes, key=lambda s: s != "https"), cls  # https first
