"""``spl.txt``: the power samples the PTD director writes, one line per sample (power.md §4.3).

A line reads ``Time,<MM-DD-YYYY HH:MM:SS.fff>,Watts,<float>,Volts,<float>,Amps,<float>,PF,<float>,
Mark,<mark>`` (multichannel meters append per-channel groups; field 3 stays the total). The reader
follows the r1.1 checker: every line is split on commas, field 1 must be a timestamp in
``%m-%d-%Y %H:%M:%S.%f`` (month first), and field 3 is the watts -- converted only when a sample is
used, so junk watts outside the measurement window are not an error. CRLF line ends are accepted;
a blank line is an error, as it is for the official checker.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime

from ..errors import EdgeperfError

__all__ = ["PTD_TIME_FORMAT", "SplFormatError", "SplSample", "parse_ptd_time", "parse_spl_text", "read_spl"]

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
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_spl_text(text: str, path: str | os.PathLike | None = None) -> list[SplSample]:
    """Every line of an spl.txt as a :class:`SplSample`, in file order.

    Raises :class:`SplFormatError` for a line without a field 3 (a blank line included) or whose
    field 1 is not a PTD timestamp.
    """
    out: list[SplSample] = []
    append = out.append
    for n, line in enumerate(_lines(text), start=1):
        fields = line.split(",")
        if len(fields) < 4:
            what = "a blank line" if not line.strip() else f"{len(fields)} comma-separated field(s)"
            raise SplFormatError(path, n, f"expected Time,<timestamp>,Watts,<watts>,..., found {what}")
        try:
            when = parse_ptd_time(fields[1])
        except ValueError:
            raise SplFormatError(
                path, n, f"field 2 {fields[1]!r} is not a MM-DD-YYYY HH:MM:SS.fff timestamp"
            ) from None
        append(SplSample(n, when, fields[3]))
    return out


def read_spl(path: str | os.PathLike) -> list[SplSample]:
    """Read and parse an spl.txt file (UTF-8; see :func:`parse_spl_text`)."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return parse_spl_text(data.decode("utf-8", errors="replace"), path)
