"""Finding dataset files on disk and downloading them, verified, when they are missing.

A file is looked for, in order, in the directory the caller names (``root=``) or the
``DEZERO_DATASETS`` environment variable names, the user cache (``DEZERO_CACHE`` or
``~/.dezero/datasets``), the system dataset directories (``DEZERO_SYSTEM_DATASETS``, or
``<d>/datasets`` for each ``d`` of ``XDG_DATA_DIRS``, then always Debian's
``/usr/share/datasets``), and last on a list of mirrors.

Every file is checked against its digests while it is read, in chunks; decompression is
capped at the content's known size, so a damaged file or a decompression bomb fails
fast. A download streams to a ``.part`` file beside its target (hashing as it goes),
is bounded in time as a whole and in size by the file's known length, and is renamed
into place only once verified; on an error, or on SIGTERM, the ``.part`` file is removed.

Files are never deleted: a bad file in the user's own folder (``root=``,
``DEZERO_DATASETS``) is an error that names it and is left as it is; a bad file in the
system folders is skipped; a bad file in the library's cache is replaced only by a
download that has succeeded. No folder is created before a download has succeeded.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dezero.core.files import atomic_file

__all__ = [
    "RemoteFile",
    "ChecksumError",
    "DownloadError",
    "DatasetNotFoundError",
    "DatasetFileError",
    "cache_dir",
    "system_dirs",
    "search_dirs",
    "fetch",
]

DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16
_USER_AGENT = "dezero-data"
_DEBIAN_DATASETS = Path("/usr/share/datasets")
PART_SUFFIX = ".part"


class ChecksumError(ValueError):
    """A file's content does not match its published checksum (or its known size)."""


class DownloadError(OSError):
    """A download failed (network error, HTTP error, timeout or truncated response)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is in none of the places looked in and could not be downloaded."""


class DatasetFileError(DatasetNotFoundError):
    """A dataset file in the user's own folder is unreadable or corrupt; it was left in place."""


@dataclass(frozen=True)
class RemoteFile:
    """A published data file and the checksums that identify it.

    ``sha256`` is the SHA-256 of the *decompressed* content (the bytes inside the
    ``.gz``), which survives recompression by distributions; ``archive_sha256`` and
    ``archive_md5`` are digests of the file exactly as published. A file is accepted
    when any digest given matches; at least one must be given. ``size`` is the
    published file's length in bytes (a download is cut off beyond it) and
    ``content_size`` the decompressed length (decompression stops beyond it).
    """

    filename: str
    sha256: str | None = None
    archive_sha256: str | None = None
    archive_md5: str | None = None
    size: int | None = None
    content_size: int | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.archive_sha256 or self.archive_md5):
            raise ValueError(f"RemoteFile: {self.filename!r} needs at least one checksum")
        for name in ("size", "content_size"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
                raise ValueError(f"RemoteFile: {name} must be a positive int, got {v!r}")

    def verify(self, raw: bytes, where: str = "") -> bytes:
        """The decompressed content of ``raw`` if a checksum matches, else ChecksumError."""
        check = _Verifier(self, where or self.filename)
        view = memoryview(raw)
        for i in range(0, len(view), _CHUNK):
            check.update(view[i : i + _CHUNK])
        return check.finish()

    def verify_file(self, path: Path) -> bytes:
        """Like [`verify`][dezero.data.download.RemoteFile.verify], reading ``path`` in chunks
        (OSError if it cannot be read)."""
        check = _Verifier(self, str(path))
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                check.update(chunk)
        return check.finish()


class _Verifier:
    """Hashes, size checks and (gzip) decompression of a file fed to it chunk by chunk.

    Only the decompressed content is kept: the file's own bytes are hashed and dropped.
    """

    def __init__(self, file: RemoteFile, where: str) -> None:
        self.file, self.where = file, where
        self.raw_size = 0
        self.archive = {
            algo: (hashlib.new(algo), want)
            for algo, want in (("sha256", file.archive_sha256), ("md5", file.archive_md5))
            if want
        }
        self.content = bytearray()
        self._head = b""  # the first bytes, until the gzip magic can be told
        self._gzip: bool | None = None
        self._inflate: Any = None

    def update(self, chunk: bytes | memoryview) -> None:
        self.raw_size += len(chunk)
        if self.file.size is not None and self.raw_size > self.file.size:
            raise ChecksumError(
                f"{self.where}: larger than the file's known size of {self.file.size} bytes"
            )
        for h, _ in self.archive.values():
            h.update(chunk)
        if self._gzip is None:
            self._head += bytes(chunk)
            if len(self._head) < 2:
                return
            self._gzip = self._head[:2] == b"\x1f\x8b"
            chunk, self._head = self._head, b""
            if self._gzip:
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._gzip:
            self._decompress(bytes(chunk))
        else:
            self._append(chunk)

    def _append(self, data: bytes | memoryview) -> None:
        limit = self.file.content_size
        if limit is not None and len(self.content) + len(data) > limit:
            raise ChecksumError(
                f"{self.where}: decompresses to more than the content's known size of "
                f"{limit} bytes (a damaged file, or a decompression bomb); rejected"
            )
        self.content += data

    def _decompress(self, data: bytes) -> None:
        limit = self.file.content_size
        while data:
            if self._inflate.eof:  # a further gzip member (gzip -c a b > ab.gz is valid)
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            # At most one byte past the limit per call: a bomb never inflates in memory.
            room = 0 if limit is None else limit - len(self.content) + 1  # 0: no limit
            try:
                out = self._inflate.decompress(data, room)
            except zlib.error as e:
                raise ChecksumError(f"{self.where}: not a valid gzip stream: {e}") from e
            self._append(out)
            data = self._inflate.unused_data if self._inflate.eof else self._inflate.unconsumed_tail

    def finish(self) -> bytes:
        if self._gzip is None:  # fewer than 2 bytes in all
            self._gzip = False
            self._append(self._head)
        problems = []
        complete = not (self._gzip and not self._inflate.eof)
        if not complete:
            problems.append("not a complete gzip stream (cut short, or bytes after its end)")
        if self.file.sha256 and complete:
            got = hashlib.sha256(self.content).hexdigest()
            if got == self.file.sha256:
                return self.content  # type: ignore[return-value]  # bytes-like, not copied
            problems.append(f"content sha256 {got}, expected {self.file.sha256}")
        for algo, (h, want) in self.archive.items():
            got = h.hexdigest()
            if got == want and complete:
                return self.content  # type: ignore[return-value]
            if got != want:
                problems.append(f"file {algo} {got}, expected {want}")
        raise ChecksumError(f"{self.where}: checksum mismatch ({'; '.join(problems)})")


def cache_dir() -> Path:
    """The user cache for downloads: ``$DEZERO_CACHE`` or ``~/.dezero/datasets``."""
    env = os.environ.get("DEZERO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".dezero" / "datasets"


def system_dirs() -> list[Path]:
    """Directories where distributions install datasets (each holds ``<name>/`` folders)."""
    env = os.environ.get("DEZERO_SYSTEM_DATASETS")
    if env is not None:
        return [Path(p) for p in env.split(os.pathsep) if p]
    xdg = os.environ.get("XDG_DATA_DIRS") or os.pathsep.join(["/usr/local/share", "/usr/share"])
    dirs = [Path(p) / "datasets" for p in xdg.split(os.pathsep) if p]
    # Desktop sessions and sandboxes often set XDG_DATA_DIRS without /usr/share; Debian's
    # dataset packages install there regardless, so it is always searched (last).
    if _DEBIAN_DATASETS not in dirs:
        dirs.append(_DEBIAN_DATASETS)
    return dirs


USER_CACHE = "user cache"


def _user_dir(root: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    if root is not None:
        return Path(root).expanduser(), "root= argument"
    env = os.environ.get("DEZERO_DATASETS")
    if env:
        return Path(env).expanduser(), "DEZERO_DATASETS"
    return None


def download_dir(dataset: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where a download of ``dataset`` is written: the user's directory if named, else the cache."""
    user = _user_dir(root)
    return (user[0] if user else cache_dir()) / dataset


def search_dirs(dataset: str, root: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """The directories searched for ``dataset``'s files, in order, each with where it came from."""
    dirs: list[tuple[Path, str]] = []
    user = _user_dir(root)
    if user is not None:
        # Accept both <root>/<dataset>/<file> and the files straight in <root>.
        dirs += [(user[0] / dataset, user[1]), (user[0], user[1])]
    dirs.append((cache_dir() / dataset, USER_CACHE))
    dirs += [(d / dataset, "system datasets") for d in system_dirs()]
    return dirs


def fetch(
    file: RemoteFile,
    dataset: str,
    mirrors: Sequence[str] = (),
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    caller: str = "fetch",
) -> bytes:
    """The verified, decompressed content of ``file`` of ``dataset``, found or downloaded.

    Args:
        file: the file and its checksums.
        dataset: the dataset's directory name (``"fashion-mnist"``).
        mirrors: base URLs tried in order; ``<mirror>/<filename>`` is fetched.
        root: a directory to look in first, and to download into (else the cache).
        download: whether to go to the network when no local copy is found.
        timeout: seconds allowed for each download as a whole (connection included).
        progress: show a progress bar (default: only when stderr is a terminal).
        caller: the name used in error messages (the dataset class).

    Raises:
        DatasetFileError: a file in the user's folder is unreadable or corrupt (kept).
        DatasetNotFoundError: the file is nowhere and could not be downloaded.
    """
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not timeout > 0
        or timeout == float("inf")
    ):
        raise ValueError(f"{caller}: timeout must be a positive number of seconds, got {timeout!r}")
    target = download_dir(dataset, root)
    tried: list[str] = []
    for d, origin in search_dirs(dataset, root):
        path = d / file.filename
        if not path.is_file():
            tried.append(f"{path} ({origin}): not found")
            continue
        try:
            return file.verify_file(path)
        except OSError as e:
            why, kind = f"{type(e).__name__}: {e}", "unreadable"
        except ChecksumError as e:
            why, kind = str(e), "corrupt"
        if origin not in (USER_CACHE, "system datasets"):  # the user's own file: keep it, say so
            raise DatasetFileError(
                _user_file_message(caller, file, dataset, path, origin, kind, why, mirrors)
            )
        if origin == USER_CACHE:
            tried.append(f"{path} ({origin}): {kind}, kept until a download replaces it")
        else:
            tried.append(f"{path} ({origin}): {kind}, skipped")
        warnings.warn(f"{caller}: ignoring {path} ({kind}): {why}", RuntimeWarning, stacklevel=2)
    if download:
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + file.filename
            try:
                return _download(url, target / file.filename, file, timeout, progress)
            except (OSError, ValueError, http.client.HTTPException) as e:
                tried.append(f"{url}: {_describe(e)}")
    raise DatasetNotFoundError(
        _not_found_message(caller, file, dataset, mirrors, tried, target, download)
    )


def _user_file_message(
    caller: str,
    file: RemoteFile,
    dataset: str,
    path: Path,
    origin: str,
    kind: str,
    why: str,
    mirrors: Sequence[str],
) -> str:
    source = f" (e.g. from {mirrors[0].rstrip('/')}/{file.filename})" if mirrors else ""
    if kind == "unreadable":
        reason = f"cannot be read ({why})"
        todo = (
            "Make it readable (check its permissions and that it is a regular file), or "
            "move it out of that folder"
        )
    else:
        reason = f"is not the expected file of dataset {dataset!r}: {why}"
        todo = (
            f"If it is another dataset's file or a damaged copy, move it out of that folder "
            f"(keep each dataset in its own <dir>/<name>/ folder) or replace it with the "
            f"right {file.filename!r}{source}"
        )
    return (
        f"{caller}: {path} (from {origin}) {reason}. It was left as it is: dezero never "
        f"deletes or overwrites files in your folders. {todo}; then run again "
        "(without it, the file is downloaded into that folder)."
    )


def _describe(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"{type(e.reason).__name__}: {e.reason}"
    return f"{type(e).__name__}: {e}"


def _not_found_message(
    caller: str,
    file: RemoteFile,
    dataset: str,
    mirrors: Sequence[str],
    tried: list[str],
    target: Path,
    download: bool,
) -> str:
    lines = [
        f"{caller}: could not find or download {file.filename!r} of dataset {dataset!r}. Tried:"
    ]
    lines += [f"  - {t}" for t in tried]
    if not download:
        lines.append("  (download=False: no mirror was tried)")
    elif not mirrors:
        lines.append("  (no download mirror is known for this file)")
    lines.append(
        f"To provide it by hand, get {file.filename!r}"
        + (f" (e.g. from {mirrors[0].rstrip('/')}/{file.filename})" if mirrors else "")
        + f" and put it in {target}, or in <dir>/{dataset}/ and pass root=<dir> "
        "or set DEZERO_DATASETS=<dir>."
    )
    return "\n".join(lines)


class _Terminated(BaseException):
    """SIGTERM arrived during a download: unwind (removing the .part file), then die of it."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration, so ``finally`` blocks run.

    Once unwound, the previous handler is restored and the signal sent again, so the
    process ends exactly as it would have (or runs the caller's own handler). Only the
    main thread can set handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    if previous is None:  # set outside Python: the default is the closest we can restore
        previous = signal.SIG_DFL
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)
        raise DownloadError("interrupted by SIGTERM") from None  # a handler that returned
    finally:
        signal.signal(signal.SIGTERM, previous)


def _socket_of(resp: Any) -> Any:
    # urllib's response reads from resp.fp (a BufferedReader over a SocketIO).
    raw = getattr(getattr(resp, "fp", None), "raw", None)
    return getattr(raw, "_sock", None)


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the ones created, deepest first."""
    created = []
    p = folder
    while not p.exists():
        created.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _download(
    url: str, dest: Path, file: RemoteFile, timeout: float, progress: bool | None
) -> bytes:
    """Stream ``url`` into ``dest`` (verified, atomically); its content, or an error and no file.

    ``timeout`` bounds the whole transfer. The body goes straight to a ``.part`` file and
    through the verifier; it is never held in memory as a whole, only its content.
    """
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DownloadError(f"timed out: the download took longer than timeout={timeout}s")
        return left

    with _terminate_cleanly():
        created = _make_folders(dest.parent)
        try:
            return _stream(url, dest, file, timeout, progress, remaining)
        except TimeoutError as e:  # socket.timeout: a receive outlived the time left
            _remove_empty(created)
            raise DownloadError(
                f"timed out: no complete download within timeout={timeout}s ({e})"
            ) from e
        except BaseException:
            _remove_empty(created)
            raise


def _stream(
    url: str,
    dest: Path,
    file: RemoteFile,
    timeout: float,
    progress: bool | None,
    remaining: Callable[[], float],
) -> bytes:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]  # declared; imported when used

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=remaining()) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and file.size is not None and total != file.size:
            raise DownloadError(f"the server announces {total} bytes; the file has {file.size}")
        check = _Verifier(file, url)
        sock = _socket_of(resp)
        quiet = not sys.stderr.isatty() if progress is None else not progress
        received = 0
        with (
            atomic_file(dest, suffix=PART_SUFFIX, make_parents=False) as out,
            tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                leave=False,
                disable=quiet,
                file=sys.stderr,
            ) as bar,
        ):
            while True:
                if sock is not None:
                    sock.settimeout(remaining())
                try:
                    chunk = _read_some(resp)
                except http.client.IncompleteRead as e:
                    raise DownloadError(
                        f"truncated response: received {received + len(e.partial)} of "
                        f"{total} bytes"
                    ) from None
                remaining()
                if not chunk:
                    break
                received += len(chunk)
                out.write(chunk)
                check.update(chunk)
                bar.update(len(chunk))
            if total is not None and received != total:
                raise DownloadError(f"truncated response: received {received} of {total} bytes")
            return check.finish()  # raises before the rename on a mismatch


def _read_some(resp: Any) -> bytes:
    # read1: whatever one receive brings (up to _CHUNK), so a slow server cannot make a
    # single read block past the deadline by trickling bytes into a full buffer.
    read1: Callable[[int], bytes] | None = getattr(resp, "read1", None)
    return read1(_CHUNK) if read1 is not None else resp.read(_CHUNK)


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; only the ones this download created
        with contextlib.suppress(OSError):
            folder.rmdir()
