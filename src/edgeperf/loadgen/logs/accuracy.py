"""The accuracy log (``mlperf_log_accuracy.json``, spec §12.3): a streaming writer and reader.

Writer layout, byte for byte as the official LoadGen::

    [
    { "seq_id" : 0, "qsl_idx" : 4497, "data" : "00888C45...0000803F" },
    { "seq_id" : 1, "qsl_idx" : 304, "data" : "..." }
    ]

i.e. ``[``, then per record ``\\n{ `` (first) or ``,\\n{ `` (others) and the fields, and
``\\n]\\n`` at the end (an empty log is ``[\\n]\\n``).

The reader accepts that layout and any other valid JSON array of such objects, record by record,
so multi-gigabyte logs are never loaded whole. Published logs are usually cut down by the
submission tool ``truncate_accuracy_log.py`` to their first and last 4096 bytes joined by
``\\n\\n...\\n\\n`` (every non-empty log in the v1.1 fixtures is); ``allow_truncated=True`` reads
the complete records on both sides of the cut.
"""

from __future__ import annotations

import binascii
import io
import json
import os
import re
import threading
from typing import Any, BinaryIO, Iterator

from .readers import LogFormatError, TruncatedLogError

__all__ = [
    "AccuracyLog",
    "iter_accuracy_log",
    "read_accuracy_log",
    "TRUNCATION_MARKER",
]

#: What ``truncate_accuracy_log.py`` puts between the kept head and tail of a log.
TRUNCATION_MARKER = "\n\n...\n\n"

_HEX_SLICE = 1 << 20  # bytes hex-encoded at a time, so a big response never becomes one string


class AccuracyLog:
    """Streaming, thread-safe writer of ``mlperf_log_accuracy.json``.

    ``target`` is a path (created/truncated now, closed by ``close``) or a binary stream
    (not closed). ``[`` is written at once; ``close`` writes ``\\n]\\n``.
    """

    def __init__(self, target: str | os.PathLike | BinaryIO, *, buffer_size: int = 1 << 20) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._file: BinaryIO = open(target, "wb", buffering=buffer_size)
            self._owns_file = True
        else:
            self._file = target
            self._owns_file = False
        self._lock = threading.Lock()
        self.record_count = 0
        self.closed = False
        self._file.write(b"[")

    def append(self, seq_id: int, qsl_idx: int, data: bytes | bytearray | memoryview | Any) -> None:
        """Append one record; ``data`` is any C-contiguous buffer (bytes, memoryview, numpy array).

        The data is hex-encoded (upper case, as ``bytes.hex().upper()``) in 1 MiB slices straight
        into the buffered file.
        """
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        head = b'"seq_id" : %d, "qsl_idx" : %d, "data" : "' % (seq_id, qsl_idx)
        with self._lock:
            if self.closed:
                raise ValueError("append() on a closed AccuracyLog")
            write = self._file.write
            write((b",\n{ " if self.record_count else b"\n{ ") + head)
            n = view.nbytes
            if n <= _HEX_SLICE:
                write(binascii.hexlify(view).upper())
            else:
                for start in range(0, n, _HEX_SLICE):
                    write(binascii.hexlify(view[start:start + _HEX_SLICE]).upper())
            write(b'" }')
            self.record_count += 1

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        """Write the closing ``\\n]\\n`` and close the file (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                self._file.write(b"\n]\n")
            finally:
                if self._owns_file:
                    self._file.close()
                else:
                    self._file.flush()

    def __enter__(self) -> "AccuracyLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# Reading

_CANONICAL = re.compile(r'\{ "seq_id" : (\d+), "qsl_idx" : (\d+), "data" : "([0-9A-Fa-f]*)" \}')
_OUTSIDE = re.compile(r'["{}]')
_WS = " \t\r\n"
_SMALL_FILE = 1 << 20  # files up to this size are read whole (and may fall back to json)


def _record_from_object(text: str, path: str, offset: int) -> tuple[int, int, str]:
    m = _CANONICAL.fullmatch(text)
    if m is not None:
        return int(m.group(1)), int(m.group(2)), m.group(3)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LogFormatError(path, f"offset {offset}", f"invalid record: {exc}") from None
    return _record_from_dict(obj, path, offset)


def _record_from_dict(obj: Any, path: str, offset: int | str) -> tuple[int, int, str]:
    where = offset if isinstance(offset, str) else f"offset {offset}"
    if not isinstance(obj, dict):
        raise LogFormatError(path, where, "record is not a JSON object")
    seq_id, qsl_idx, data = obj.get("seq_id"), obj.get("qsl_idx"), obj.get("data")
    if type(seq_id) is not int or type(qsl_idx) is not int or not isinstance(data, str):
        raise LogFormatError(
            path, where, 'record needs integer "seq_id" and "qsl_idx" and a string "data"'
        )
    return seq_id, qsl_idx, data


class _Scanner:
    """Pulls the objects of a JSON array of flat objects from a text stream, one at a time.

    ``buf`` holds the unconsumed text; more is read (in growing chunks, so a huge record costs
    O(size) copying) only when an object is not complete yet. ``base`` is the file offset (in
    characters) of ``buf[0]``, for error messages.
    """

    def __init__(self, stream, path: str, chunk: int, fragment: bool = False) -> None:
        self.stream, self.path, self.chunk = stream, path, chunk
        self.buf, self.pos, self.base = "", 0, 0
        self.eof = False
        # fragment: a piece of a truncated log; no brackets required, cut records are skipped
        self.fragment = fragment

    def _more(self) -> bool:
        if self.eof:
            return False
        if self.pos:
            self.base += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        text = self.stream.read(max(self.chunk, len(self.buf)))
        if not text:
            self.eof = True
            return False
        self.buf += text
        return True

    def _error(self, message: str, at: int | None = None) -> LogFormatError:
        return LogFormatError(self.path, f"offset {self.base + (self.pos if at is None else at)}",
                              message)

    def _skip_ws(self) -> str:
        """Skip whitespace; return the next character ('' at the end of the input)."""
        while True:
            buf, i = self.buf, self.pos
            while i < len(buf) and buf[i] in _WS:
                i += 1
            self.pos = i
            if i < len(buf):
                return buf[i]
            if not self._more():
                return ""

    def _object_end(self) -> int | None:
        """Index of the ``}`` closing the object that starts at ``self.pos`` (None at EOF)."""
        start = self.pos
        i, in_string = start + 1, False
        while True:
            buf = self.buf
            if in_string:
                j = buf.find('"', i)
                if j < 0:
                    i = len(buf)
                else:
                    k = j - 1
                    while buf[k] == "\\":
                        k -= 1
                    i = j + 1
                    in_string = (j - 1 - k) % 2 == 1  # an escaped quote keeps us in the string
                    continue
            else:
                m = _OUTSIDE.search(buf, i)
                if m is None:
                    i = len(buf)
                elif m.group() == '"':
                    i, in_string = m.end(), True
                    continue
                elif m.group() == "}":
                    return m.start()
                else:
                    raise self._error("nested objects are not allowed in an accuracy log",
                                      m.start())
            # need more text; _more() moves the unconsumed part to the front of buf
            offset = i - self.pos
            if not self._more():
                return None
            i = self.pos + offset

    def records(self) -> Iterator[tuple[int, int, str]]:
        if self.fragment:
            yield from self._fragment_records()
            return
        if self._skip_ws() != "[":
            raise self._error('an accuracy log must start with "["')
        self.pos += 1
        c = self._skip_ws()
        if c == "]":
            self.pos += 1
        else:
            while True:
                if c != "{":
                    raise self._error('expected "{" starting a record')
                end = self._object_end()
                if end is None:
                    raise self._error("the file ends inside a record")
                yield _record_from_object(self.buf[self.pos:end + 1], self.path,
                                          self.base + self.pos)
                self.pos = end + 1
                c = self._skip_ws()
                if c == "]":
                    self.pos += 1
                    break
                if c != ",":
                    if c == "." and self.buf.startswith("...", self.pos):
                        raise TruncatedLogError(self.path, f"offset {self.base + self.pos}",
                                                "the log was truncated (\"...\"); "
                                                "pass allow_truncated=True to read what is left")
                    raise self._error('expected "," or "]" after a record')
                self.pos += 1
                c = self._skip_ws()
        if self._skip_ws() != "":
            raise self._error('unexpected text after the closing "]"')

    def _fragment_records(self) -> Iterator[tuple[int, int, str]]:
        """Every complete ``{...}`` of a head or tail piece of a truncated log."""
        while True:
            while True:
                j = self.buf.find("{", self.pos)
                if j >= 0:
                    self.pos = j
                    break
                self.pos = len(self.buf)
                if not self._more():
                    return
            end = self._object_end()
            if end is None:
                return
            yield _record_from_object(self.buf[self.pos:end + 1], self.path, self.base + self.pos)
            self.pos = end + 1


def iter_accuracy_log(
    path: str | os.PathLike, *, allow_truncated: bool = False, chunk_size: int = 1 << 20
) -> Iterator[tuple[int, int, str]]:
    """Yield ``(seq_id, qsl_idx, data_hex)`` for each record of an accuracy log, in file order.

    Works record by record on files of any size and any JSON spacing or key order (edgeperf's
    and the official layout are matched by a fast path). A truncated log (see the module
    docstring) raises ``LogFormatError`` unless ``allow_truncated``, in which case the complete
    records before and after the cut are yielded. Small files the record scanner cannot read are
    given to ``json`` as a last resort. Malformed input raises ``LogFormatError`` naming the file
    and character offset.
    """
    path = os.fspath(path)
    if os.path.getsize(path) <= _SMALL_FILE:
        yield from _read_small(path, allow_truncated)
        return
    with open(path, encoding="utf-8") as f:
        yield from _Scanner(f, path, chunk_size).records()


def _read_small(path: str, allow_truncated: bool) -> list[tuple[int, int, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    if TRUNCATION_MARKER in text:
        if not allow_truncated:
            raise TruncatedLogError(path, f"offset {text.index(TRUNCATION_MARKER)}",
                                    'the log was truncated ("..."); pass allow_truncated=True '
                                    "to read the complete records that are left")
        head, _, tail = text.partition(TRUNCATION_MARKER)
        out = []
        for piece in (head, tail):
            out.extend(_Scanner(io.StringIO(piece), path, len(piece) + 1, fragment=True).records())
        return out
    try:
        return list(_Scanner(io.StringIO(text), path, len(text) + 1).records())
    except LogFormatError as scan_error:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            raise scan_error from None
        if not isinstance(doc, list):
            raise LogFormatError(path, "offset 0", "an accuracy log must be a JSON array") from None
        return [_record_from_dict(obj, path, f"record {i}") for i, obj in enumerate(doc)]


def read_accuracy_log(path: str | os.PathLike, *, allow_truncated: bool = False) -> list[dict]:
    """All records as ``{"seq_id": int, "qsl_idx": int, "data": str}`` dicts (see ``iter_accuracy_log``)."""
    return [
        {"seq_id": s, "qsl_idx": q, "data": d}
        for s, q, d in iter_accuracy_log(path, allow_truncated=allow_truncated)
    ]
