"""Tolerant readers for the files of a submission tree (spec submission.md §3, §4, §10.2).

- detail logs: ``:::MLLOG`` lines, strict JSON per line (as the official parser), CRLF accepted;
- accuracy.txt: the class's accuracy line and the ``hash=`` line (last match before both are found);
- system and measurement JSON: a JSON object, a UTF-8 byte-order mark tolerated;
- text files (verify files): decoded as UTF-8 with undecodable bytes replaced.

Each reader takes the file's bytes (read once by :class:`~edgeperf.submission.tree.Tree`) and
raises :class:`TreeFileError` (or ``LogFormatError`` for detail logs) naming the file.
"""

from __future__ import annotations

import json
import re
from json.decoder import JSONDecoder
from typing import Any

from ..loadgen.logs.readers import MLLOG_PREFIX, DetailLogRecords, LogFormatError, parse_detail_lines
from .rules import AccuracyRule
from ..errors import EdgeperfError

__all__ = [
    "DetailLogRecords",
    "LogFormatError",
    "TreeFileError",
    "parse_detail_bytes",
    "parse_json_object",
    "scan_accuracy_txt",
    "text_lines",
]


class TreeFileError(EdgeperfError, ValueError):
    """A file of the tree that cannot be used; ``path`` is relative to the tree root."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def text_lines(text: str) -> list[str]:
    """Lines as a file opened in text mode yields them (universal newlines), without line ends."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_scan_once = JSONDecoder().scan_once  # the C scanner json.loads uses, without its per-call wrappers
_JSON_WS = " \t\n\r"


def parse_detail_bytes(data: bytes, path: str) -> DetailLogRecords:
    """Parse a detail log's bytes; LogFormatError for bad UTF-8 or a bad ``:::MLLOG`` line.

    Accepts and rejects exactly what ``json.loads`` of each line after the marker does (as
    ``edgeperf.loadgen.logs.readers.parse_detail_lines``, which reports the error), ~25% faster:
    accuracy-mode detail logs are ~0.5 MB of JSON each, and every line must be valid.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LogFormatError(path, f"byte {exc.start}", "not valid UTF-8") from None
    lines = text_lines(text)
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    start = len(MLLOG_PREFIX)
    for n, line in enumerate(lines, start=1):
        if not line.startswith(MLLOG_PREFIX):
            continue
        i, end = start, len(line)
        while i < end and line[i] in _JSON_WS:
            i += 1
        try:
            rec, stop = _scan_once(line, i)
        except (StopIteration, ValueError):
            rec, stop = None, -1
        if stop < 0 or line[stop:].strip(_JSON_WS) or not isinstance(rec, dict) \
                or not isinstance(rec.get("key"), str) or "value" not in rec:
            try:
                parse_detail_lines([line], path)  # the reference reader's message
            except LogFormatError as exc:
                raise LogFormatError(path, str(n), exc.message) from None
            raise LogFormatError(path, str(n), "unreadable record")  # not reached: the line is invalid
        records.append(rec)
        numbers.append(n)
    return DetailLogRecords(records, numbers, path)


def parse_json_object(data: bytes, path: str) -> dict[str, Any]:
    """A JSON object from bytes (UTF-8, BOM tolerated); TreeFileError otherwise."""
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise TreeFileError(path, f"not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise TreeFileError(path, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise TreeFileError(path, f"expected a JSON object, found a JSON {type(obj).__name__}")
    return obj


def scan_accuracy_txt(text: str, rule: AccuracyRule, hash_pattern: str) -> tuple[str | None, str | None]:
    """(accuracy, hash) captured as strings, as the v1.1 checker scans (spec §4.3, §5.5).

    Each line is matched from its start; a later accuracy line overwrites an earlier one; the
    scan stops as soon as both have been found.
    """
    acc_rx = rule.regex
    hash_rx = re.compile(hash_pattern)
    acc = digest = None
    for line in text_lines(text):
        m = acc_rx.match(line)
        if m:
            acc = m.group(1)
        m = hash_rx.match(line)
        if m:
            digest = m.group(1)
        if acc and digest:
            break
    return acc, digest
