"""Downloading official files: resume after a broken connection, retries, checksum verification.

Built on httpx (streaming HTTP with ``Range`` requests) and tenacity (retries with backoff), both
imported only when a download starts (``pip install 'edgeperf[fetch]'``). A file is downloaded to
``<name>.part`` and appears under its real name only once its checksum has been verified, so
nothing can use a partial or corrupt file. A ``.part`` left by an interrupted download is resumed
from where it stopped. With no official checksum, the SHA-256 of the download is recorded in
``<name>.sha256`` and later fetches check the file against it.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EdgeperfError, UsageError

__all__ = ["ChecksumMismatch", "DownloadError", "FetchResult", "fetch_file", "file_digest", "parse_checksum", "extract"]

Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)


class DownloadError(EdgeperfError, OSError):
    """A download failed (HTTP error, connection lost after every retry, unusable file)."""


class ChecksumMismatch(EdgeperfError, ValueError):
    """A downloaded file's digest differs from the official one."""

    def __init__(self, filename: str, algorithm: str, expected: str, actual: str, source: str = ""):
        self.filename, self.algorithm, self.expected, self.actual = filename, algorithm, expected, actual
        where = f" (official checksum from {source})" if source else ""
        super().__init__(
            f"{filename}: {algorithm} checksum mismatch: expected {expected}, got {actual}{where}; "
            "the download was deleted"
        )


@dataclass
class FetchResult:
    """A verified file: where it is, its digest, and how it got there."""

    path: Path
    algorithm: str
    digest: str
    official: bool  # verified against an official checksum (else only recorded)
    downloaded: bool  # False when a verified copy was already there
    resumed_from: int = 0  # bytes a previous partial download had already fetched


def parse_checksum(text: str | None) -> tuple[str, str] | None:
    """``"md5:abc..."`` / ``"sha256:..."`` -> (algorithm, lower-case hex); a bare 64-hex value is SHA-256."""
    if text is None:
        return None
    algo, sep, value = text.strip().partition(":")
    if not sep:
        algo, value = ("sha256" if len(text.strip()) == 64 else "md5"), text.strip()
    algo = algo.lower()
    lengths = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
    value = value.strip().lower()
    if algo not in lengths or len(value) != lengths[algo] or any(c not in "0123456789abcdef" for c in value):
        raise UsageError(
            f"checksum {text!r}: expected ALGORITHM:HEX with ALGORITHM one of md5, sha1, sha256, sha512 "
            "and the matching number of hex digits"
        )
    return algo, value


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Incomplete(Exception):
    """The server ended the body early without a transport error; retried like one."""


def _sidecar(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def fetch_file(
    url: str,
    dest: str | os.PathLike,
    checksum: str | None = None,
    *,
    checksum_source: str = "",
    progress: Progress | None = None,
    attempts: int = 5,
    timeout_s: float = 60.0,
    backoff_s: float = 1.0,
) -> FetchResult:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, and return the result.

    ``checksum``: ``"md5:<hex>"`` or ``"sha256:<hex>"``, the official digest; None records the
    SHA-256 instead. Connection errors are retried ``attempts`` times in all, each retry resuming
    where the last stopped. Raises :class:`ChecksumMismatch` (the bad download is deleted) or
    :class:`DownloadError`.
    """
    dest = Path(dest)
    expected = parse_checksum(checksum)
    algo = expected[0] if expected else "sha256"
    if dest.exists():
        recorded = expected or _recorded(dest)
        digest = file_digest(dest, recorded[0] if recorded else algo)
        if recorded and digest != recorded[1]:
            raise ChecksumMismatch(
                dest.name,
                recorded[0],
                recorded[1],
                digest,
                checksum_source if expected else f"{_sidecar(dest).name}, recorded at download",
            )
        return FetchResult(dest, recorded[0] if recorded else algo, digest, expected is not None, downloaded=False)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    resumed_from = part.stat().st_size if part.exists() else 0
    _download(url, part, progress, attempts, timeout_s, backoff_s)
    digest = file_digest(part, algo)
    if expected and digest != expected[1]:
        part.unlink()
        raise ChecksumMismatch(dest.name, algo, expected[1], digest, checksum_source)
    os.replace(part, dest)
    if not expected:
        _sidecar(dest).write_text(f"{digest}  {dest.name}\n")
    return FetchResult(dest, algo, digest, expected is not None, downloaded=True, resumed_from=resumed_from)


def _recorded(dest: Path) -> tuple[str, str] | None:
    side = _sidecar(dest)
    if not side.is_file():
        return None
    return "sha256", side.read_text().split()[0].lower()


def _download(
    url: str, part: Path, progress: Progress | None, attempts: int, timeout_s: float, backoff_s: float
) -> None:
    try:
        import httpx
        import tenacity
    except ImportError as exc:
        raise DownloadError(
            f"edgeperf fetch needs httpx and tenacity ({exc.name} is not installed); "
            "install them with: pip install 'edgeperf[fetch]'"
        ) from None

    def once() -> None:
        offset = part.stat().st_size if part.exists() else 0
        # identity: byte ranges then count the file's own bytes, and the raw stream is the file
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
        with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and offset:
                    return  # the partial file already holds everything the server has
                if response.status_code not in (200, 206):
                    raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
                if response.status_code == 200 and offset:
                    offset = 0  # the server ignored the Range request: start over
                length = response.headers.get("content-length")
                total = offset + int(length) if length and length.isdigit() else None
                done = offset
                with open(part, "ab" if offset else "wb") as f:
                    for chunk in response.iter_raw():  # as it arrives: a broken connection keeps every byte
                        f.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
                if total is not None and done < total:
                    raise _Incomplete(f"{url}: connection closed after {done} of {total} bytes")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, attempts)),
        wait=tenacity.wait_exponential(multiplier=backoff_s, max=30 * backoff_s),
        retry=tenacity.retry_if_exception_type((httpx.TransportError, _Incomplete)),
        reraise=True,
    )
    try:
        retrying(once)
    except (httpx.TransportError, _Incomplete) as exc:
        kept = part.stat().st_size if part.exists() else 0
        raise DownloadError(
            f"{url}: download failed after {attempts} attempt(s): {exc}; {kept} bytes kept in "
            f"{part.name}, run the same command again to resume"
        ) from None


def extract(archive: Path, into: Path) -> list[str]:
    """Unpack a .tar.gz/.tgz/.tar or .zip into ``into``; return the top-level names it created.

    Members that would land outside ``into`` (absolute paths, ``..``, links out) are refused.
    """
    into.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tar:
            tops = sorted({m.name.split("/")[0] for m in tar.getmembers()})
            tar.extractall(into, filter="data")
        return tops
    if name.endswith(".zip"):
        root = into.resolve()
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise DownloadError(f"{archive.name}: member {member!r} would be written outside {into}")
            zf.extractall(into)
            return sorted({m.split("/")[0] for m in zf.namelist()})
    raise DownloadError(f"{archive.name}: not an archive edgeperf can unpack (.tar.gz, .tgz, .tar, .zip)")
