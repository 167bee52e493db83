"""Readers for detail and summary logs, written by edgeperf or by the official LoadGen.

They follow what the official v1.1 tools do (§12.2 "Consumers"): every ``:::MLLOG`` line must be
valid JSON, and for a key logged more than once the *first* record counts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from ...errors import EdgeperfError

__all__ = [
    "LogFormatError",
    "TruncatedLogError",
    "DetailLogRecords",
    "read_detail_log",
    "parse_detail_lines",
    "read_summary_log",
    "parse_summary_lines",
]

MLLOG_PREFIX = ":::MLLOG"


class LogFormatError(EdgeperfError, ValueError):
    """A log file that does not have the expected format; names the file and line (or offset)."""

    def __init__(self, path: str | os.PathLike | None, where: str, message: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.where = where
        self.message = message
        super().__init__(f"{self.path or '<log>'}:{where}: {message}")


class TruncatedLogError(LogFormatError):
    """An accuracy log that was truncated for publication (``...`` between its head and tail)."""


_MISSING = object()


@dataclass
class DetailLogRecords:
    """The parsed ``:::MLLOG`` records of one detail log, in file order.

    ``records[i]`` is the JSON object of one line; ``line_numbers[i]`` its 1-based line number.
    """

    records: list[dict[str, Any]]
    line_numbers: list[int]
    path: str | None = None
    _first: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for rec in self.records:
            self._first.setdefault(rec["key"], rec)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __contains__(self, key: object) -> bool:
        return key in self._first

    def __getitem__(self, key: str) -> Any:
        """The value of the first record with ``key`` (``KeyError`` if there is none)."""
        return self._first[key]["value"]

    def keys(self) -> list[str]:
        """The distinct keys, in order of first appearance."""
        return list(self._first)

    def first(self, key: str) -> dict[str, Any]:
        """The first whole record with ``key`` (``KeyError`` if there is none)."""
        return self._first[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of the first record with ``key``, else ``default``."""
        rec = self._first.get(key, _MISSING)
        return default if rec is _MISSING else rec["value"]

    def all(self, key: str) -> list[dict[str, Any]]:
        """Every record with ``key``, in file order."""
        return [rec for rec in self.records if rec["key"] == key]

    def errors(self) -> list[dict[str, Any]]:
        """The records whose ``metadata.is_error`` is true (what the checker fails a log for)."""
        return [rec for rec in self.records if rec.get("metadata", {}).get("is_error") is True]

    def warnings(self) -> list[dict[str, Any]]:
        """The records whose ``metadata.is_warning`` is true."""
        return [rec for rec in self.records if rec.get("metadata", {}).get("is_warning") is True]


def parse_detail_lines(lines: Iterator[str] | list[str], path: str | None = None) -> DetailLogRecords:
    """Parse detail-log lines; non-``:::MLLOG`` lines are ignored (see ``read_detail_log``)."""
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for n, line in enumerate(lines, start=1):
        if not line.startswith(MLLOG_PREFIX):
            continue
        try:
            rec = json.loads(line[len(MLLOG_PREFIX) :])
        except json.JSONDecodeError as exc:
            raise LogFormatError(path, str(n), f"invalid JSON after {MLLOG_PREFIX}: {exc}") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("key"), str) or "value" not in rec:
            raise LogFormatError(path, str(n), 'record is not an object with "key" and "value"')
        records.append(rec)
        numbers.append(n)
    return DetailLogRecords(records, numbers, path)


def read_detail_log(path: str | os.PathLike) -> DetailLogRecords:
    """Parse ``mlperf_log_detail.txt``: each ``:::MLLOG`` line as JSON, other lines ignored.

    A ``:::MLLOG`` line that is not valid JSON, or not an object with ``key`` and ``value``,
    raises ``LogFormatError`` naming the file and line number. CRLF line ends are accepted.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:  # universal newlines: CRLF is accepted
        return parse_detail_lines((line.rstrip("\n") for line in f), path)


def parse_summary_lines(lines: Iterator[str] | list[str]) -> dict[str, str]:
    """Key/value pairs of summary lines (see ``read_summary_log``)."""
    result: dict[str, str] = {}
    for line in lines:
        line = line.rstrip("\r\n")
        pos = line.find(": ")
        if pos < 0:
            continue
        key = line[:pos].strip()
        if key:
            result.setdefault(key, line[pos + 2 :].strip())
    return result


def read_summary_log(path: str | os.PathLike) -> dict[str, str]:
    """``{label: value}`` for every ``label : value`` / ``label: value`` line of a summary (§12.1).

    The key is the text before the first ``": "`` (so both ``Samples per second: 4223.33`` and
    ``target_qps : 1327.22`` work), stripped; the value is the stripped text after it. Lines
    without ``": "`` (banners, footer) are skipped; a repeated label keeps its first value.
    """
    with open(os.fspath(path), encoding="utf-8") as f:
        return parse_summary_lines(f)
