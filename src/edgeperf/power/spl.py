"""``spl.txt``: the power samples the PTD director writes, one line per sample (power.md §4.3).

A line reads ``Time,<MM-DD-YYYY HH:MM:SS.fff>,Watts,<float>,Volts,<float>,Amps,<float>,PF,<float>,
Mark,<mark>`` (multichannel meters append per-channel groups; field 3 stays the total). The reader
follows the r1.1 checker: every line is split on commas, field 1 must be a timestamp in
``%m-%d-%Y %H:%M:%S.%f`` (month first), and field 3 is the watts -- converted only when a sample is
used, so junk watts outside the measurement window are not an error. CRLF line ends are accepted;
a blank line is an error, as it is for the official checker. The samples are kept as numpy columns
(:class:`SplSamples`), parsed in one regex pass when every line has PTD's millisecond form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from ..errors import EdgeperfError

__all__ = [
    "PTD_TIME_FORMAT",
    "SplFormatError",
    "SplSample",
    "SplSamples",
    "parse_ptd_time",
    "parse_spl_text",
    "read_spl",
    "to_micros",
]

#: The timestamp format of spl.txt lines and of LoadGen's power_begin / power_end records.
PTD_TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"

_FAST_TIME = re.compile(r"(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{1,6})")


class SplFormatError(EdgeperfError, ValueError):
    """A line of spl.txt that cannot be used; names the file and the 1-based line."""

    def __init__(self, path: str | os.PathLike | None, line: int, message: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path or '<spl.txt>'}:{line}: {message}")


def parse_ptd_time(text: str) -> datetime:
    """``"08-04-2021 11:39:42.365"`` -> naive datetime (month-day-year; ValueError if not that form).

    Accepts exactly what ``datetime.strptime(text, PTD_TIME_FORMAT)`` accepts; the common
    two-digit form is parsed without strptime, which is ~20x slower.
    """
    m = _FAST_TIME.fullmatch(text)
    if m is None:
        return datetime.strptime(text, PTD_TIME_FORMAT)
    mo, d, y, hh, mm, ss, frac = m.groups()
    return datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss), int(frac.ljust(6, "0")))


@dataclass(frozen=True)
class SplSample:
    """One sample line: its 1-based line number, time (as written, no timezone applied) and watts text."""

    line: int
    time: datetime
    watts_text: str

    @property
    def watts(self) -> float:
        """Field 3 as a float (ValueError if it is not a number)."""
        return float(self.watts_text)


def _lines(text: str) -> list[str]:
    # Universal newlines, as a file opened in text mode gives them (not str.splitlines, which
    # also splits on form feeds and the like).
    lines = _newlines(text).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


_EPOCH = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


def to_micros(when: datetime) -> int:
    """A naive datetime as integer microseconds since 1970-01-01 (the scale of :attr:`SplSamples.micros`)."""
    return (when - _EPOCH) // _US


class SplSamples(Sequence[SplSample]):
    """The samples of one spl.txt as columns: 1-based line numbers, times in microseconds since
    1970-01-01 (as written, no timezone applied) and the watts texts.

    A sequence of :class:`SplSample` for callers that iterate; :meth:`window_average` selects the
    samples of a window with numpy and converts only their watts.
    """

    def __init__(self, lines: np.ndarray, micros: np.ndarray, watts_text: list[str]) -> None:
        self.lines = lines
        self.micros = micros
        self.watts_text = watts_text

    def __len__(self) -> int:
        return len(self.watts_text)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return SplSample(int(self.lines[i]), _EPOCH + timedelta(microseconds=int(self.micros[i])), self.watts_text[i])

    def __iter__(self) -> Iterator[SplSample]:
        for i in range(len(self)):
            yield self[i]

    def window_average(
        self, begin: datetime, end: datetime, shift: timedelta, path: str | os.PathLike | None = None
    ) -> tuple[float, int]:
        """(sum of watts, count) of the samples with begin < time + shift < end, summed left to right.

        ``time + shift`` is compared as ``time`` against the bounds minus ``shift``: the same
        microsecond arithmetic as datetime. SplFormatError for an in-window watts that is not a number.
        """
        lo, hi = to_micros(begin - shift), to_micros(end - shift)
        inside = np.flatnonzero((self.micros > lo) & (self.micros < hi))
        total = 0.0
        texts = self.watts_text
        for i in inside.tolist():
            try:
                w = float(texts[i])
            except ValueError:
                raise SplFormatError(path, int(self.lines[i]), f"watts {texts[i]!r} is not a number") from None
            total += w  # plain left-to-right float addition, as the checker's loop
        return total, len(inside)


# A line in the PTD form with a millisecond timestamp: field 1 is the time, field 3 the watts.
_FAST_LINE = re.compile(
    r"^[^,\n]*,([0-9]{2}-[0-9]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}),[^,\n]*,([^,\n]*)", re.MULTILINE
)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _micros_of(stamps: list[str]) -> np.ndarray | None:
    """``MM-DD-YYYY HH:MM:SS.fff`` strings -> microseconds since 1970, or None if one is not a real time."""
    d = np.frombuffer("".join(stamps).encode("ascii"), dtype=np.uint8).reshape(len(stamps), 23).astype(np.int64) - 48
    month, day = d[:, 0] * 10 + d[:, 1], d[:, 3] * 10 + d[:, 4]
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    hh, mm, ss = d[:, 11] * 10 + d[:, 12], d[:, 14] * 10 + d[:, 15], d[:, 17] * 10 + d[:, 18]
    ms = d[:, 20] * 100 + d[:, 21] * 10 + d[:, 22]
    if not ((month >= 1) & (month <= 12) & (year >= 1)).all():
        return None
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    dim = _DAYS_IN_MONTH[month] + ((month == 2) & leap)
    if not ((day >= 1) & (day <= dim) & (hh < 24) & (mm < 60) & (ss < 60)).all():
        return None
    # days from 1970-01-01 of a proleptic Gregorian date (the era-based civil-to-days formula)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return (((days * 24 + hh) * 60 + mm) * 60 + ss) * 1_000_000 + ms * 1000


def parse_spl_text(text: str, path: str | os.PathLike | None = None) -> SplSamples:
    """Every line of an spl.txt as a sample, in file order (a :class:`SplSamples`).

    Raises :class:`SplFormatError` for a line without a field 3 (a blank line included) or whose
    field 1 is not a PTD timestamp. A file whose lines all have a millisecond timestamp, the form
    PTD writes, is parsed with one regex pass and numpy; any other goes line by line, which also
    finds the first bad line.
    """
    text = _newlines(text)
    matches = _FAST_LINE.findall(text)
    n_lines = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    if matches and len(matches) == n_lines:
        stamps, watts = zip(*matches)
        micros = _micros_of(list(stamps))
        if micros is not None:
            return SplSamples(np.arange(1, n_lines + 1, dtype=np.int64), micros, list(watts))
    return _parse_lines(text, path)


def _parse_lines(text: str, path: str | os.PathLike | None) -> SplSamples:
    lines, micros, watts = [], [], []
    for n, line in enumerate(_lines(text), start=1):
        fields = line.split(",")
        if len(fields) < 4:
            what = "a blank line" if not line.strip() else f"{len(fields)} comma-separated field(s)"
            raise SplFormatError(path, n, f"expected Time,<timestamp>,Watts,<watts>,..., found {what}")
        try:
            when = parse_ptd_time(fields[1])
        except ValueError:
            raise SplFormatError(path, n, f"field 2 {fields[1]!r} is not a MM-DD-YYYY HH:MM:SS.fff timestamp") from None
        lines.append(n)
        micros.append(to_micros(when))
        watts.append(fields[3])
    return SplSamples(np.array(lines, dtype=np.int64), np.array(micros, dtype=np.int64), watts)


def read_spl(path: str | os.PathLike) -> SplSamples:
    """Read and parse an spl.txt file (UTF-8; see :func:`parse_spl_text`)."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return parse_spl_text(data.decode("utf-8", errors="replace"), path)
