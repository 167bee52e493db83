"""Accuracy-log truncation, as the official ``truncate_accuracy_log.py`` does it (spec submission.md §7.1).

For every ``results/<sys>/<model>/<scenario>/accuracy`` and every
``compliance/<sys>/<model>/<scenario>/TEST01/accuracy`` folder:

* ``hash=<sha256 of the untruncated mlperf_log_accuracy.json>`` plus a newline is appended to
  ``accuracy.txt`` (created in TEST01 folders, which have none by default);
* the log is rewritten as its first 4096 characters, ``"\\n\\n...\\n\\n"`` and its last 4096
  characters (8199 bytes); a log under 4096 bytes is left as it is.

A folder whose ``accuracy.txt`` already has a hash line and whose log is under 10240 bytes is
skipped, so truncating twice changes nothing. One deliberate difference: when ``accuracy.txt``
does not end in a newline one is added before the hash line (the official tool would glue the
hash to the last line, and the checker would then not find it).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..._atomic import OutputError, _reason
from ...errors import EdgeperfError, MissingPathError, NotAFolderError

__all__ = [
    "VIEWABLE_SIZE",
    "MARKER",
    "TruncationError",
    "TruncationReport",
    "accuracy_log_hash",
    "truncate_accuracy_dir",
    "truncate_tree",
]

VIEWABLE_SIZE = 4096
MARKER = "\n\n...\n\n"
MAX_ACCURACY_LOG_SIZE = 10 * 1024
_HASH_RE = re.compile(r"^hash=([\w\d]+)$")
_LOG = "mlperf_log_accuracy.json"
_TXT = "accuracy.txt"


class TruncationError(EdgeperfError, ValueError):
    """An accuracy folder that cannot be truncated safely; nothing in it was changed."""


def accuracy_log_hash(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 4096-byte blocks (the official ``get_hash``)."""
    m = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4096), b""):
            m.update(block)
    return m.hexdigest()


def _hashes(txt: Path) -> set[str]:
    if not txt.is_file():
        return set()
    with open(txt, encoding="utf-8", errors="replace") as f:
        return {m.group(1) for m in (_HASH_RE.match(line.rstrip("\n")) for line in f) if m}


def _scan(log: Path) -> tuple[str, str]:
    """One pass over the log: its SHA-256 and its first 4096 characters. A log that is not UTF-8
    text (the official tool reads it as text) is refused before anything is written."""
    m = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head: list[str] = []
    have = 0
    done = 0
    with open(log, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            m.update(block)
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise TruncationError(
                    f"{log}: not UTF-8 text (byte {done + exc.start}); expected an accuracy log "
                    "(a JSON array of records); nothing was changed"
                ) from None
            done += len(block)
            if have < VIEWABLE_SIZE:
                head.append(text[: VIEWABLE_SIZE - have])
                have += len(head[-1])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise TruncationError(
            f"{log}: ends inside a UTF-8 character; expected an accuracy log; nothing was changed"
        ) from None
    return m.hexdigest(), "".join(head)


def _tail(log: Path, size: int) -> str:
    with open(log, "rb") as src:  # the official tool seeks to size - 4096 bytes and reads to the end
        src.seek(size - VIEWABLE_SIZE)
        return src.read(VIEWABLE_SIZE).decode("utf-8", errors="replace")


def _refuse_links(*paths: Path) -> None:
    for p in paths:
        if p.is_symlink():
            raise TruncationError(
                f"{p} is a symbolic link (to {os.readlink(p)}); truncation rewrites files in "
                "place, so expected a regular file inside the tree (replace the link by a copy); "
                "nothing was changed"
            )


def _stage(folder: Path, name: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".edgeperf-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


@dataclass
class TruncationReport:
    """What :func:`truncate_tree` did, as paths relative to the tree root."""

    truncated: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def truncate_accuracy_dir(acc_dir: str | os.PathLike, *, create_accuracy_txt: bool = False) -> str:
    """Hash and truncate one ``accuracy`` folder, all or nothing, and idempotently.

    Returns ``"truncated"`` or ``"already"``; raises FileNotFoundError when the log is missing, or
    when ``accuracy.txt`` is missing and ``create_accuracy_txt`` is false (a results folder), and
    :class:`TruncationError` for a symbolic link or a log that is not text. Both new files are
    written in full beside the old ones before either is renamed into place, ``accuracy.txt``
    first: a failure leaves the folder as it was (no temporary file), and a retry after a failure
    between the two renames finds the hash already there and does not add a second one.
    """
    acc = Path(acc_dir)
    log, txt = acc / _LOG, acc / _TXT
    _refuse_links(log, txt)
    if not log.is_file():
        raise MissingPathError(f"{log} missing")
    if not txt.is_file() and not create_accuracy_txt:
        raise MissingPathError(f"{txt} missing, generate it first (the accuracy script's output)")
    hashes = _hashes(txt)
    size = log.stat().st_size
    if hashes and size < MAX_ACCURACY_LOG_SIZE:
        return "already"
    digest, head = _scan(log)
    staged: list[tuple[Path, Path]] = []
    try:
        if digest not in hashes:
            data = txt.read_bytes() if txt.is_file() else b""
            prefix = b"\n" if data and not data.endswith(b"\n") else b""
            staged.append((_stage(acc, _TXT, data + prefix + f"hash={digest}\n".encode("ascii")), txt))
        if size >= VIEWABLE_SIZE:
            body = (head + MARKER + _tail(log, size)).encode("utf-8", errors="surrogateescape")
            staged.append((_stage(acc, _LOG, body), log))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return "truncated"


def _dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def truncate_tree(root: str | os.PathLike, submitter: str | None = None) -> TruncationReport:
    """Truncate every accuracy log of a submission tree (the folder holding ``closed/``/``open/``)."""
    root = Path(root)
    if not root.is_dir():
        raise NotAFolderError(f"{root}: not a directory (expected a submission tree)")
    report = TruncationReport()
    targets: list[tuple[Path, bool]] = []
    for division in _dirs(root):
        if division.name not in ("closed", "open", "network"):
            continue
        for sub in _dirs(division):
            if submitter is not None and sub.name != submitter:
                continue
            for system in _dirs(sub / "results"):
                for model in _dirs(system):
                    for scenario in _dirs(model):
                        targets.append((scenario / "accuracy", False))
            for system in _dirs(sub / "compliance"):
                for model in _dirs(system):
                    for scenario in _dirs(model):
                        test01 = scenario / "TEST01"
                        if test01.is_dir():
                            targets.append((test01 / "accuracy", True))
    for acc, create in targets:
        rel = acc.relative_to(root).as_posix()
        try:
            status = truncate_accuracy_dir(acc, create_accuracy_txt=create)
        except (FileNotFoundError, TruncationError) as exc:
            report.problems.append(f"{rel}: {exc}")
            continue
        except OSError as exc:  # a full disk, a read-only folder: this folder is left as it was
            report.problems.append(
                f"{rel}: {OutputError(exc.filename or acc, _reason(exc), exc.errno)}; nothing was changed"
            )
            continue
        (report.truncated if status == "truncated" else report.already_done).append(rel)
    return report
