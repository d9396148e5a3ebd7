"""Shared fixtures: an isolated data environment, a local HTTP server, small IDX files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest_plugins = ["dezero.core.pytest_plugin"]  # the xp fixture, the gpu marker


@pytest.fixture(autouse=True)
def isolated_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point the cache and the system dataset directories at empty temporary ones."""
    cache, system = tmp_path / "cache", tmp_path / "system"
    system.mkdir()
    monkeypatch.setenv("DEZERO_CACHE", str(cache))
    monkeypatch.setenv("DEZERO_SYSTEM_DATASETS", str(system))
    monkeypatch.delenv("DEZERO_DATASETS", raising=False)
    return {"cache": cache, "system": system}


def idx_bytes(a: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (written independently of the reader under test)."""
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    return header + a.astype(np.uint8).tobytes()


@pytest.fixture
def make_idx():
    """The IDX encoder, for tests that build their own files."""
    return idx_bytes


@dataclass
class IdxFiles:
    images: np.ndarray
    labels: np.ndarray
    gz: dict[str, bytes]  # filename -> gzip bytes
    sha256: dict[str, str]  # filename -> sha256 of decompressed content


@pytest.fixture
def idx_files() -> IdxFiles:
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    raw = {"images.gz": idx_bytes(images), "labels.gz": idx_bytes(labels)}
    return IdxFiles(
        images=images,
        labels=labels,
        gz={k: gzip.compress(v, mtime=0) for k, v in raw.items()},
        sha256={k: hashlib.sha256(v).hexdigest() for k, v in raw.items()},
    )


@dataclass
class Server:
    """A real HTTP server on 127.0.0.1; ``files`` maps a path to bytes, ``mode`` to a behaviour."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    mode: dict[str, str] = field(default_factory=dict)  # path -> "truncate" | "stall" | ...
    hits: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = self.path
            state.hits[path] += 1
            body = state.files.get(path)
            if body is None:
                self.send_error(404)
                return
            mode = state.mode.get(path, "ok")
            self.send_response(200)
            if mode == "nolength":  # no Content-Length: the body ends when the connection does
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "drip":  # one byte a second, until the client gives up
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        if state.release.wait(1.0):
                            return
                except OSError:
                    return
            elif mode == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif mode == "stall":
                self.wfile.write(body[:10])
                self.wfile.flush()
                state.release.wait(10)
            else:
                self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
