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
from typing import Any, BinaryIO, Callable, Iterator

from .readers import LogFormatError, TruncatedLogError

__all__ = [
    "AccuracyLog",
    "iter_accuracy_log",
    "iter_decoded_records",
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
                    write(binascii.hexlify(view[start : start + _HEX_SLICE]).upper())
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
# Reading: one byte-level scanner for every reader of accuracy logs
#
# The scanner pulls the records of a JSON array of flat objects from a binary stream, one at a
# time, reading ``chunk`` bytes when it needs more. A record in the LoadGen layout that is whole in
# the buffer is taken by one regex match; anything else (other spacing or key order, a record cut
# by the chunk boundary, a huge response) is parsed field by field. The ``"data"`` string is the
# hook: it is returned as hex text (``iter_accuracy_log``), or decoded slice by slice into one
# buffer (``iter_decoded_records``), so a 128 MB hex record is never held whole.

_CANONICAL = re.compile(rb'\{ "seq_id" : (\d+), "qsl_idx" : (\d+), "data" : "([0-9A-Fa-f]*)" \}')
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WS = b" \t\r\n"
_MARKER = TRUNCATION_MARKER.encode()
_SMALL_FILE = 1 << 20  # files up to this size are read whole (and may fall back to json)
_TRUNCATED = 'the log was truncated ("..."); pass allow_truncated=True to read what is left'
_RECORD_FIELDS = 'record needs integer "seq_id" and "qsl_idx" and a string "data"'


class _Cut(Exception):
    """The input ends inside a record while scanning a piece of a truncated log."""


_NOT_HEX = '"data": expected hexadecimal bytes (digits 0-9 and A-F)'
_ODD_HEX = '"data": expected an even number of hex digits (whole bytes)'
_HEX_TEXT = re.compile(r"[0-9A-Fa-f]*")


def _check_hex(text: str, error, at: int) -> None:
    """A record's ``data`` is whole bytes of hexadecimal text, or ``error`` names where it is not."""
    if _HEX_TEXT.fullmatch(text) is None:
        bad = next(i for i, ch in enumerate(text) if ch not in "0123456789ABCDEFabcdef")
        raise error(f"{_NOT_HEX}, found {text[bad]!r} at character {bad}", at)
    if len(text) % 2:
        raise error(f"{_ODD_HEX}, found {len(text)}", at)


def _refuse_binary(head: bytes, path: str) -> None:
    """A file that is not text at all gets one message saying so (not a JSON parse position)."""
    try:
        head.decode("utf-8")
        binary = b"\0" in head
    except UnicodeDecodeError as exc:
        binary = exc.start < len(head) - 4  # not just a character cut at the end of the sample
    if binary:
        raise LogFormatError(
            path,
            "content",
            "not UTF-8 text (a binary file?); expected an accuracy log: a JSON "
            'array of {"seq_id", "qsl_idx", "data"} records',
        )


class _Scanner:
    """Yields ``(seq_id, qsl_idx, data)`` for each record of an accuracy log read from ``stream``.

    ``decode=False``: ``data`` is the hex text (``str``). ``decode=True``: ``data`` is the decoded
    ``bytearray``, preallocated with ``expected_nbytes`` (an int, or set by ``before_data``'s
    caller); ``before_data(qsl_idx)`` runs when a record's data starts and its ``qsl_idx`` is
    known, and a ``False`` from it passes the data over (``None``). ``fragment=True`` reads a piece
    of a truncated log: every complete record in it, no brackets needed.
    """

    def __init__(
        self,
        stream,
        path: str,
        chunk: int,
        *,
        decode: bool = False,
        fragment: bool = False,
        before_data=None,
        expected_nbytes: int | None = None,
    ) -> None:
        self.stream, self.path, self.chunk = stream, path, max(1, chunk)
        self.decode, self.fragment = decode, fragment
        self.before_data, self.expected_nbytes = before_data, expected_nbytes
        self.buf, self.pos, self.base, self.eof = b"", 0, 0, False

    # -- input ----------------------------------------------------------------------------------

    def _more(self) -> bool:
        if self.eof:
            return False
        # Growing reads: a value longer than a chunk costs O(size) copying, not O(size^2 / chunk).
        data = self.stream.read(max(self.chunk, len(self.buf) - self.pos))
        if not data:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos :] + data if self.pos < len(self.buf) else data
        self.pos = 0
        return True

    def _error(self, message: str, at: int | None = None) -> LogFormatError:
        return LogFormatError(self.path, f"offset {self.base + (self.pos if at is None else at)}", message)

    def _ended(self, message: str) -> Exception:
        """The input ended too early: a cut record in a fragment, an error otherwise."""
        return _Cut() if self.fragment else self._error(message)

    def _peek(self) -> bytes:
        """The next non-whitespace byte (b'' at the end of the input), not consumed."""
        while True:
            buf, i, n = self.buf, self.pos, len(self.buf)
            while i < n and buf[i] in _WS:
                i += 1
            self.pos = i
            if i < n:
                return buf[i : i + 1]
            if not self._more():
                return b""

    def _expect(self, char: bytes, what: str) -> None:
        found = self._peek()
        if found != char:
            if self.base + self.pos == 0 or (char == b"[" and not self.fragment):
                _refuse_binary(self.buf[:4096], self.path)
            if found == b"":
                raise self._ended(f"expected {char.decode()!r} {what}, found the end of the file")
            if found == b"." and self.buf.startswith(b"...", self.pos):
                raise TruncatedLogError(self.path, f"offset {self.base + self.pos}", _TRUNCATED)
            raise self._error(f"expected {char.decode()!r} {what}, found {found.decode('latin-1')!r}")
        self.pos += 1

    # -- values ---------------------------------------------------------------------------------

    def _string_end(self, limit: int | None) -> int:
        """Index of the quote closing the string that opens at ``pos`` (``pos`` may move)."""
        start = self.pos
        i = start + 1
        while True:
            j = self.buf.find(b'"', i)
            if j >= 0:
                k = j - 1
                while self.buf[k] == 0x5C:  # backslash
                    k -= 1
                if (j - 1 - k) % 2 == 0:
                    return j
                i = j + 1
                continue
            if limit is not None and len(self.buf) - start > limit:
                raise self._error('string too long (only "data" may be long)')
            offset_i, offset_start = i - self.pos, start - self.pos
            if not self._more():
                raise self._ended("the file ends inside a string")
            i, start = self.pos + offset_i, self.pos + offset_start

    def _string(self, limit: int | None = 1 << 16) -> str:
        """The JSON string at ``pos`` (its opening quote), decoded."""
        end = self._string_end(limit)
        text = self.buf[self.pos : end + 1]
        self.pos = end + 1
        try:
            return json.loads(text)
        except ValueError:
            raise self._error("invalid JSON string") from None

    def _number(self) -> Any:
        while True:
            m = _NUMBER.match(self.buf, self.pos)
            if m is None:
                raise self._error("expected a number or a string")
            if m.end() < len(self.buf) or not self._more():
                self.pos = m.end()
                return json.loads(m.group())

    def _data_text(self) -> str:
        """The ``data`` string at ``pos`` as text (it may be longer than a chunk)."""
        end = self._string_end(None)
        raw = self.buf[self.pos + 1 : end]
        if _MARKER in raw:
            raise TruncatedLogError(self.path, f"offset {self.base + self.pos}", _TRUNCATED)
        at = self.pos
        self.pos = end + 1
        try:
            text = json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")
        except ValueError:
            raise self._error('invalid JSON string in "data"') from None
        _check_hex(text, self._error, at)
        return text

    def _data_hex(self) -> bytearray:
        """The ``data`` string at ``pos``, hex-decoded slice by slice into one buffer."""
        self.pos += 1  # the opening quote
        out = bytearray(self.expected_nbytes or 0)
        filled = 0
        carry = b""
        while True:
            j = self.buf.find(b'"', self.pos)
            end = j if j >= 0 else len(self.buf)
            piece = memoryview(self.buf)[self.pos : end]
            if carry and len(piece):  # a byte split across two chunks
                piece, carry = piece[1:], carry + bytes(piece[:1])
                filled = self._decode(carry, out, filled)
                carry = b""
            if len(piece) % 2:
                carry = bytes(piece[-1:])
                piece = piece[:-1]
            filled = self._decode(piece, out, filled)
            del piece
            self.pos = end
            if j >= 0:
                self.pos = j + 1
                break
            if not self._more():
                raise self._ended('the file ends inside a record\'s "data"')
        if carry:
            raise self._error(_ODD_HEX)
        if filled < len(out):
            del out[filled:]
        return out

    def _decode(self, hex_digits, out: bytearray, filled: int) -> int:
        if not len(hex_digits):
            return filled
        try:
            decoded = binascii.a2b_hex(hex_digits)
        except binascii.Error:
            if b"\n...\n" in bytes(hex_digits):
                raise TruncatedLogError(self.path, f"offset {self.base + self.pos}", _TRUNCATED) from None
            raise self._error(_NOT_HEX) from None
        out[filled : filled + len(decoded)] = decoded
        return filled + len(decoded)

    def _skip_string(self) -> None:
        """Pass over the ``data`` string at ``pos`` without decoding it."""
        self.pos += 1
        while True:
            j = self.buf.find(b'"', self.pos)
            if j >= 0:
                self.pos = j + 1
                return
            self.pos = len(self.buf)
            if not self._more():
                raise self._ended('the file ends inside a record\'s "data"')

    def _data(self, qsl_idx: Any) -> Any:
        """The hook: what a record's ``"data"`` becomes (text, decoded buffer, or None)."""
        if not self.decode:
            return self._data_text()
        if self.before_data is not None and type(qsl_idx) is int and self.before_data(qsl_idx) is False:
            return self._skip_string()
        return self._data_hex()

    # -- records --------------------------------------------------------------------------------

    def _fast_record(self) -> tuple[int, int, Any] | None:
        """A LogGen-layout record whole in the buffer, taken by one match (None otherwise)."""
        m = _CANONICAL.match(self.buf, self.pos)
        if m is None or len(m.group(3)) % 2:  # an odd digit count is reported by the full parser
            return None
        seq_id, qsl_idx = int(m.group(1)), int(m.group(2))
        if not self.decode:
            data: Any = m.group(3).decode("ascii")
        elif self.before_data is not None and self.before_data(qsl_idx) is False:
            data = None
        else:
            data = bytearray(binascii.a2b_hex(m.group(3)))
        self.pos = m.end()
        return seq_id, qsl_idx, data

    def _record(self) -> tuple[int, int, Any]:
        at = self.base + self.pos
        self._expect(b"{", "starting a record")
        self.pos -= 1
        fast = self._fast_record()
        if fast is not None:
            return fast
        self.pos += 1
        fields: dict[str, Any] = {}
        data: Any = None
        has_data = False
        if self._peek() != b"}":
            while True:
                c = self._peek()
                if c != b'"':
                    if c == b"":
                        raise self._ended("the file ends inside a record")
                    raise self._error("expected a quoted key")
                key = self._string()
                self._expect(b":", "after a key")
                c = self._peek()
                if key == "data":
                    if c != b'"':
                        raise self._error('"data" must be a string')
                    data, has_data = self._data(fields.get("qsl_idx")), True
                elif c == b'"':
                    fields[key] = self._string()
                elif c in (b"{", b"["):
                    raise self._error("nested values are not allowed in an accuracy log")
                elif c == b"":
                    raise self._ended("the file ends inside a record")
                else:
                    fields[key] = self._number()
                if self._peek() == b",":
                    self.pos += 1
                    continue
                break
        self._expect(b"}", "closing a record")
        seq_id, qsl_idx = fields.get("seq_id"), fields.get("qsl_idx")
        if type(seq_id) is not int or type(qsl_idx) is not int or not has_data:
            raise LogFormatError(self.path, f"offset {at}", _RECORD_FIELDS)
        return seq_id, qsl_idx, data

    def records(self) -> Iterator[tuple[int, int, Any]]:
        if self.fragment:
            yield from self._fragment_records()
            return
        self._expect(b"[", "starting an accuracy log")
        if self._peek() == b"]":
            self.pos += 1
        else:
            while True:
                yield self._record()
                if self._peek() == b",":
                    self.pos += 1
                    continue
                self._expect(b"]", 'or "," after a record')
                break
        if self._peek() != b"":
            raise self._error('unexpected text after the closing "]"')

    def _fragment_records(self) -> Iterator[tuple[int, int, Any]]:
        """Every complete record of a head or tail piece of a truncated log."""
        while True:
            while True:
                j = self.buf.find(b"{", self.pos)
                if j >= 0:
                    self.pos = j
                    break
                self.pos = len(self.buf)
                if not self._more():
                    return
            try:
                record = self._record()
            except _Cut:
                return
            yield record


def iter_accuracy_log(
    path: str | os.PathLike, *, allow_truncated: bool = False, chunk_size: int = 1 << 20
) -> Iterator[tuple[int, int, str]]:
    """Yield ``(seq_id, qsl_idx, data_hex)`` for each record of an accuracy log, in file order.

    Works record by record on files of any size and any JSON spacing or key order (edgeperf's
    and the official layout are matched by a fast path). A truncated log (see the module
    docstring) raises ``TruncatedLogError`` (a ``LogFormatError``) unless ``allow_truncated``, in
    which case the complete records before and after the cut are yielded. Small files the record
    scanner cannot read are given to ``json`` as a last resort. Malformed input raises
    ``LogFormatError`` naming the file and byte offset.
    """
    path = os.fspath(path)
    if os.path.getsize(path) <= _SMALL_FILE:
        yield from _read_small(path, allow_truncated)
        return
    with open(path, "rb") as f:
        yield from _Scanner(f, path, chunk_size).records()


def _read_small(path: str, allow_truncated: bool) -> list[tuple[int, int, str]]:
    with open(path, "rb") as f:
        data = f.read()
    if _MARKER in data:
        if not allow_truncated:
            raise TruncatedLogError(
                path,
                f"offset {data.index(_MARKER)}",
                'the log was truncated ("..."); pass allow_truncated=True to read the complete records that are left',
            )
        head, _, tail = data.partition(_MARKER)
        out: list[tuple[int, int, str]] = []
        for piece in (head, tail):
            out.extend(_Scanner(io.BytesIO(piece), path, len(piece) + 1, fragment=True).records())
        return out
    try:
        return list(_Scanner(io.BytesIO(data), path, len(data) + 1).records())
    except LogFormatError as scan_error:
        try:
            doc = json.loads(data)
        except ValueError:
            raise scan_error from None
        if not isinstance(doc, list):
            raise LogFormatError(path, "offset 0", "an accuracy log must be a JSON array") from None
        return [_record_from_dict(obj, path, f"record {i}") for i, obj in enumerate(doc)]


def _record_from_dict(obj: Any, path: str, where: str) -> tuple[int, int, str]:
    if not isinstance(obj, dict):
        raise LogFormatError(path, where, "record is not a JSON object")
    seq_id, qsl_idx, data = obj.get("seq_id"), obj.get("qsl_idx"), obj.get("data")
    if type(seq_id) is not int or type(qsl_idx) is not int or not isinstance(data, str):
        raise LogFormatError(path, where, _RECORD_FIELDS)
    _check_hex(data, lambda message, _at: LogFormatError(path, where, message), 0)
    return seq_id, qsl_idx, data


def read_accuracy_log(path: str | os.PathLike, *, allow_truncated: bool = False) -> list[dict]:
    """All records as ``{"seq_id": int, "qsl_idx": int, "data": str}`` dicts (see ``iter_accuracy_log``)."""
    return [
        {"seq_id": s, "qsl_idx": q, "data": d} for s, q, d in iter_accuracy_log(path, allow_truncated=allow_truncated)
    ]


def iter_decoded_records(
    path: str | os.PathLike,
    *,
    before_data: Callable[[int], Any] | None = None,
    expected_nbytes: Callable[[], int | None] | int | None = None,
    chunk_size: int = 1 << 21,
) -> Iterator[tuple[int, int, bytearray | None]]:
    """Yield ``(seq_id, qsl_idx, data)`` for each record of an accuracy log, ``data`` decoded.

    The file is read ``chunk_size`` bytes at a time and each record's hex is decoded slice by
    slice into one buffer (preallocated with ``expected_nbytes`` when given: an int, or a callable
    asked once ``before_data`` has run), so memory holds one decoded record, never its hex text.
    ``before_data(qsl_idx)`` is called when a record's ``"data"`` starts and its ``qsl_idx`` is
    already known (the LoadGen layout), e.g. to load what scoring it needs before the big buffer
    exists; when it returns ``False`` the data is passed over undecoded and yielded as ``None``.
    Upper- and lower-case hex, any spacing and key order are accepted; malformed logs raise
    ``LogFormatError`` and truncated ones ``TruncatedLogError``, naming the file and offset.
    """
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise LogFormatError(path, "", "accuracy log does not exist") from None
    with f:
        scanner = _Scanner(
            f,
            path,
            chunk_size,
            decode=True,
            before_data=before_data,
            expected_nbytes=expected_nbytes if isinstance(expected_nbytes, int) else None,
        )
        if callable(expected_nbytes):
            size_of = expected_nbytes

            def before(qsl_idx: int) -> Any:
                wanted = before_data(qsl_idx) if before_data is not None else None
                scanner.expected_nbytes = size_of()
                return wanted

            scanner.before_data = before
        yield from scanner.records()
