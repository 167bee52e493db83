"""Tolerant readers for the files of a submission tree (spec submission.md §3, §4, §10.2).

- detail logs: ``:::MLLOG`` lines, strict JSON per line (as the official parser), CRLF accepted;
  the checker scans them for the records its checks read (:func:`scan_detail_bytes`);
- accuracy.txt: the class's accuracy line and the ``hash=`` line (last match before both are found);
- system and measurement JSON: a JSON object, a UTF-8 byte-order mark tolerated;
- text files (verify files): decoded as UTF-8 with undecodable bytes replaced.

Each reader takes the file's bytes (read once by :class:`~edgeperf.submission.tree.Tree`) and
raises :class:`TreeFileError` (or ``LogFormatError`` for detail logs) naming the file.
"""

from __future__ import annotations

import functools
import json
import re
from json.decoder import JSONDecoder
from typing import Any

import numpy as np

from ..loadgen.logs.readers import MLLOG_PREFIX, DetailLogRecords, LogFormatError, parse_detail_lines
from .rules import AccuracyRule
from ..errors import EdgeperfError

__all__ = [
    "DetailFacts",
    "DetailLogRecords",
    "LogFormatError",
    "TreeFileError",
    "parse_detail_bytes",
    "parse_json_object",
    "scan_detail_bytes",
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


def _parse_mllog_line(line: str, n: int, path: str) -> dict[str, Any]:
    """The record of one ``:::MLLOG`` line (without its line end); LogFormatError naming line ``n``."""
    i, end = len(MLLOG_PREFIX), len(line)
    while i < end and line[i] in _JSON_WS:
        i += 1
    try:
        rec, stop = _scan_once(line, i)
    except (StopIteration, ValueError):
        rec, stop = None, -1
    if (
        stop < 0
        or line[stop:].strip(_JSON_WS)
        or not isinstance(rec, dict)
        or not isinstance(rec.get("key"), str)
        or "value" not in rec
    ):
        try:
            parse_detail_lines([line], path)  # the reference reader's message
        except LogFormatError as exc:
            raise LogFormatError(path, str(n), exc.message) from None
        raise LogFormatError(path, str(n), "unreadable record")  # not reached: the line is invalid
    return rec


def parse_detail_bytes(data: bytes, path: str) -> DetailLogRecords:
    """Parse a detail log's bytes; LogFormatError for bad UTF-8 or a bad ``:::MLLOG`` line.

    Accepts and rejects exactly what ``json.loads`` of each line after the marker does (as
    ``edgeperf.loadgen.logs.readers.parse_detail_lines``, which reports the error), ~25% faster.
    Every record is decoded: the checker uses :func:`scan_detail_bytes`, which decodes only the
    records it reads; this full parser is the reference it is tested against.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LogFormatError(path, f"byte {exc.start}", "not valid UTF-8") from None
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for n, line in enumerate(text_lines(text), start=1):
        if line.startswith(MLLOG_PREFIX):
            records.append(_parse_mllog_line(line, n, path))
            numbers.append(n)
    return DetailLogRecords(records, numbers, path)


class DetailFacts(DetailLogRecords):
    """What :func:`scan_detail_bytes` keeps of a detail log: the records the checks can read.

    ``records`` holds every record that is not *plain* (see :func:`scan_detail_bytes`): among them
    every record of a key in ``keys`` and every error or warning record, so ``log[key]``,
    ``key in log``, ``errors()`` and ``warnings()`` answer as for the full parse. Looking up a key
    that was not scanned for raises ``LookupError``: it would silently read as missing.
    """

    def __init__(
        self, records: list[dict[str, Any]], line_numbers: list[int], path: str | None, keys: frozenset[str]
    ) -> None:
        super().__init__(records, line_numbers, path)
        self.scanned_keys = keys

    def _known(self, key: object) -> None:
        if key not in self.scanned_keys:
            raise LookupError(f"detail-log key {key!r} was not scanned for (add it to the checker's detail keys)")

    def __contains__(self, key: object) -> bool:
        self._known(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._known(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._known(key)
        return super().get(key, default)

    def first(self, key: str) -> dict[str, Any]:
        self._known(key)
        return super().first(key)

    def all(self, key: str) -> list[dict[str, Any]]:
        self._known(key)
        return super().all(key)


# --- the scanner -------------------------------------------------------------------------------
# A *plain* line is one that LoadGen writes for a non-error, non-warning record, in LoadGen's exact
# layout, whose value is a simple string, a number, true/false/null or a list of non-negative
# integers. Every such line is valid JSON and an object with a string "key" and a "value", so the
# full parser could never reject it; if its key is not one a check reads, nothing is lost by not
# decoding it. Anything else (a key the checks read, an error or warning, another layout, escapes
# in the key, a damaged line) is decoded by the same code as the full parser. The patterns only
# ever accept a subset of what json.loads accepts: no escapes, no whitespace variants, no
# negative list items, bounded digit counts.
_P_STR = rb'"[^"\\\x00-\x1f]*"'
_P_INT = rb"-?(?:0|[1-9][0-9]{0,17})"
_P_NUM = _P_INT + rb"(?:\.[0-9]{1,30})?(?:[eE][-+]?[0-9]{1,3})?"
# LoadGen's per-sample lists (loaded_qsl_set and the like) are most of a log's bytes. The exact
# JSON grammar of a list of non-negative integers is a grouped repeat, ~2x slower in ``re`` than a
# run of one character class; the fast form is used only for a buffer that has no ",," and no
# number with a leading zero anywhere (checked with numpy), where the two accept the same lists.
_P_LIST_EXACT = rb"\[(?:(?:0|[1-9][0-9]{0,17})(?:,(?:0|[1-9][0-9]{0,17}))*+)?\]"
_P_LIST_FAST = rb"\[(?:(?!,)[0-9,]*(?<!,))?\]"


def _plain_rest(keys: frozenset[str], list_pattern: bytes) -> bytes:
    names = b"|".join(re.escape(k.encode()) for k in sorted(keys, key=len, reverse=True))
    value = rb"(?:" + _P_STR + rb"|" + _P_NUM + rb"|true|false|null|" + list_pattern + rb")"
    return (
        rb' \{"key": "(?!(?:'
        + names
        + rb')")[^"\\\x00-\x1f]*", "value": '
        + value
        + rb', "time_ms": '
        + _P_NUM
        + rb', "namespace": '
        + _P_STR
        + rb', "event_type": '
        + _P_STR
        + rb', "metadata": \{"is_error": false, "is_warning": false, "file": '
        + _P_STR
        + rb', "line_no": '
        + _P_INT
        + rb', "pid": '
        + _P_INT
        + rb', "tid": '
        + _P_INT
        + rb"\}\}[ \t]*\r?(?=\n|\Z)"
    )


_PREFIX = MLLOG_PREFIX.encode()


@functools.lru_cache(maxsize=8)
def _scanner(keys: frozenset[str], fast_lists: bool) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """(pattern of the lines to decode after a newline, pattern of a plain line's rest after the marker)."""
    rest = _plain_rest(keys, _P_LIST_FAST if fast_lists else _P_LIST_EXACT)
    return re.compile(rb"\n" + re.escape(_PREFIX) + rb"(?!" + rest + rb")[^\n]*"), re.compile(rest)


def _lists_are_simple(data: bytes) -> bool:
    """True when no ",," and no "[0<digit>" / ",0<digit>" occurs anywhere in ``data``.

    The byte pairs are compared as big-endian 16-bit words at even and odd offsets: a few
    vectorised passes instead of a Python loop or a regex over every byte.
    """
    n = len(data)
    a = np.frombuffer(data, dtype=np.uint8)
    for off in (0, 1):
        m = (n - off) // 2
        if m <= 0:
            continue
        pairs = np.frombuffer(data, dtype=">u2", count=m, offset=off)
        if (pairs == 0x2C2C).any():  # ",,"
            return False
        zeros = np.flatnonzero((pairs == 0x2C30) | (pairs == 0x5B30))  # ",0" or "[0"
        if zeros.size:
            after = zeros * 2 + off + 2
            nxt = a[after[after < n]]
            if ((nxt >= 48) & (nxt <= 57)).any():
                return False
    return True


def scan_detail_bytes(data: bytes, path: str, keys: frozenset[str]) -> DetailFacts:
    """The facts the checks read from a detail log, decoding only the lines that can hold them.

    Same outcome as :func:`parse_detail_bytes` for every lookup of a key in ``keys``, for
    ``errors()`` and ``warnings()``, and for every LogFormatError (same line, same message): the
    full parser rejects a log only for bad UTF-8 or a bad ``:::MLLOG`` line, and the scanner
    decodes every line that is not plain (see above), so it meets the same first bad line. The
    plain lines are found by one ``re`` pass over the bytes (C speed), the line numbers of the
    others by counting newlines. A log with a carriage return that is not part of a CRLF pair
    (universal newlines would split there) goes through the full parser.
    """
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LogFormatError(path, f"byte {exc.start}", "not valid UTF-8") from None
    crlf = b"\r" in data
    if crlf and data.count(b"\r") != data.count(b"\r\n"):
        full = parse_detail_bytes(data, path)
        return DetailFacts(full.records, full.line_numbers, path, keys)
    find_lines, plain_rest = _scanner(keys, _lists_are_simple(data))
    records: list[dict[str, Any]] = []
    numbers: list[int] = []

    def decode(start: int, stop: int, n: int) -> None:
        line = data[start:stop]
        if crlf and line.endswith(b"\r"):
            line = line[:-1]
        records.append(_parse_mllog_line(line.decode("utf-8"), n, path))
        numbers.append(n)

    if data.startswith(_PREFIX) and not plain_rest.match(data, len(_PREFIX)):
        end = data.find(b"\n")
        decode(0, len(data) if end < 0 else end, 1)
    line_no, counted = 1, 0
    for m in find_lines.finditer(data):
        start = m.start()
        line_no += data.count(b"\n", counted, start) + 1
        counted = start + 1
        decode(start + 1, m.end(), line_no)
    return DetailFacts(records, numbers, path, keys)


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
