"""Finding dataset files on disk and downloading them, verified, when they are missing.

A file is looked for, in order, in the directory the caller names (``root=``) or the
``DEZERO_DATASETS`` environment variable names, the user cache (``DEZERO_CACHE`` or
``~/.dezero/datasets``), the system dataset directories (``DEZERO_SYSTEM_DATASETS``, or
``<d>/datasets`` for each ``d`` of ``XDG_DATA_DIRS``, then always Debian's
``/usr/share/datasets``), and last on a list of mirrors. Every file is checked against
a SHA-256 before it is used; a download goes to a temporary file that is renamed into
place only once it has been verified, so a failure never leaves a partial file behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dezero.data._idx import decompress

__all__ = [
    "RemoteFile",
    "ChecksumError",
    "DownloadError",
    "DatasetNotFoundError",
    "cache_dir",
    "system_dirs",
    "search_dirs",
    "fetch",
]

DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16
_USER_AGENT = "dezero-data"
_DEBIAN_DATASETS = Path("/usr/share/datasets")


class ChecksumError(ValueError):
    """A file's content does not match its published checksum."""


class DownloadError(OSError):
    """A download failed (network error, HTTP error, timeout or truncated response)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is in none of the places looked in and could not be downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """A published data file and the checksums that identify it.

    ``sha256`` is the SHA-256 of the *decompressed* content (the bytes inside the
    ``.gz``), which survives recompression by distributions; ``archive_sha256`` and
    ``archive_md5`` are digests of the file exactly as published. A file is accepted
    when any digest given matches; at least one must be given.
    """

    filename: str
    sha256: str | None = None
    archive_sha256: str | None = None
    archive_md5: str | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.archive_sha256 or self.archive_md5):
            raise ValueError(f"RemoteFile: {self.filename!r} needs at least one checksum")

    def verify(self, raw: bytes, where: str = "") -> bytes:
        """The decompressed content of ``raw`` if a checksum matches, else ChecksumError."""
        where = where or self.filename
        problems = []
        content: bytes | None = None
        if self.sha256:
            try:
                content = decompress(raw, where)
            except ValueError as e:
                problems.append(str(e))
            else:
                got = hashlib.sha256(content).hexdigest()
                if got == self.sha256:
                    return content
                problems.append(f"content sha256 {got}, expected {self.sha256}")
        for algo, want in (("sha256", self.archive_sha256), ("md5", self.archive_md5)):
            if want:
                got = hashlib.new(algo, raw).hexdigest()
                if got == want:
                    return content if content is not None else decompress(raw, where)
                problems.append(f"file {algo} {got}, expected {want}")
        raise ChecksumError(f"{where}: checksum mismatch ({'; '.join(problems)})")


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
    dirs.append((cache_dir() / dataset, "user cache"))
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
        timeout: seconds allowed to connect and for each read.
        progress: show a progress bar (default: only when stderr is a terminal).
        caller: the name used in error messages (the dataset class).
    """
    if timeout is None or timeout <= 0:
        raise ValueError(f"{caller}: timeout must be a positive number of seconds, got {timeout!r}")
    target = download_dir(dataset, root)
    tried: list[str] = []
    for d, origin in search_dirs(dataset, root):
        path = d / file.filename
        if not path.is_file():
            tried.append(f"{path} ({origin}): not found")
            continue
        try:
            return file.verify(path.read_bytes(), str(path))
        except (ChecksumError, OSError) as e:
            if path.parent == target:
                path.unlink(missing_ok=True)  # ours to repair: fetch it again below
                tried.append(f"{path} ({origin}): corrupt, removed")
            else:
                tried.append(f"{path} ({origin}): corrupt, skipped")
            warnings.warn(f"{caller}: ignoring {e}", RuntimeWarning, stacklevel=2)
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


def _download(
    url: str, dest: Path, file: RemoteFile, timeout: float, progress: bool | None
) -> bytes:
    """Fetch ``url`` into ``dest`` atomically; the verified content, or an exception and no file."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]  # declared; imported when used

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        buf = bytearray()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            quiet = not sys.stderr.isatty() if progress is None else not progress
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                leave=False,
                disable=quiet,
                file=sys.stderr,
            ) as bar:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    buf += chunk
                    bar.update(len(chunk))
        if total is not None and len(buf) != total:
            raise DownloadError(f"truncated response: received {len(buf)} of {total} bytes")
        content = file.verify(bytes(buf), url)
        os.replace(tmp, dest)
        return content
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
