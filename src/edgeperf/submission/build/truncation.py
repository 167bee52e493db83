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

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import MissingPathError, NotAFolderError

__all__ = ["VIEWABLE_SIZE", "MARKER", "TruncationReport", "accuracy_log_hash", "truncate_accuracy_dir",
           "truncate_tree"]

VIEWABLE_SIZE = 4096
MARKER = "\n\n...\n\n"
MAX_ACCURACY_LOG_SIZE = 10 * 1024
_HASH_RE = re.compile(r"^hash=([\w\d]+)$")
_LOG = "mlperf_log_accuracy.json"
_TXT = "accuracy.txt"


def accuracy_log_hash(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 4096-byte blocks (the official ``get_hash``)."""
    m = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4096), b""):
            m.update(block)
    return m.hexdigest()


def _has_hash(txt: Path) -> bool:
    if not txt.is_file():
        return False
    with open(txt, encoding="utf-8") as f:
        return any(_HASH_RE.match(line.rstrip("\n")) for line in f)


def _truncate_file(log: Path) -> None:
    size = log.stat().st_size
    if size < VIEWABLE_SIZE:
        return
    with open(log, encoding="utf-8", newline="") as src:
        start = src.read(VIEWABLE_SIZE)
    with open(log, "rb") as src:  # the official tool seeks to size - 4096 bytes and reads to the end
        src.seek(size - VIEWABLE_SIZE)
        end = src.read(VIEWABLE_SIZE).decode("utf-8", errors="replace")
    tmp = log.with_name(log.name + ".edgeperf-tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as dst:
        dst.write(start)
        dst.write(MARKER)
        dst.write(end)
    os.replace(tmp, log)


@dataclass
class TruncationReport:
    """What :func:`truncate_tree` did, as paths relative to the tree root."""

    truncated: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def truncate_accuracy_dir(acc_dir: str | os.PathLike, *, create_accuracy_txt: bool = False) -> str:
    """Hash and truncate one ``accuracy`` folder.

    Returns ``"truncated"`` or ``"already"``; raises FileNotFoundError when the log is missing, or
    when ``accuracy.txt`` is missing and ``create_accuracy_txt`` is false (a results folder).
    """
    acc = Path(acc_dir)
    log, txt = acc / _LOG, acc / _TXT
    if not log.is_file():
        raise MissingPathError(f"{log} missing")
    if not txt.is_file() and not create_accuracy_txt:
        raise MissingPathError(f"{txt} missing, generate it first (the accuracy script's output)")
    if _has_hash(txt) and log.stat().st_size < MAX_ACCURACY_LOG_SIZE:
        return "already"
    digest = accuracy_log_hash(log)
    prefix = ""
    if txt.is_file():
        data = txt.read_bytes()
        if data and not data.endswith(b"\n"):
            prefix = "\n"
    with open(txt, "a", encoding="utf-8", newline="") as f:
        f.write(f"{prefix}hash={digest}\n")
    _truncate_file(log)
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
        except FileNotFoundError as exc:
            report.problems.append(f"{rel}: {exc}")
            continue
        (report.truncated if status == "truncated" else report.already_done).append(rel)
    return report
