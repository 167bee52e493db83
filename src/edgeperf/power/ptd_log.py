"""Writing PTDaemon's log formats, and the director's reading of its sample log (power.md §4.3, §6.2).

* sample lines (the ``-l`` log, hence spl.txt):
  ``Time,MM-DD-YYYY HH:MM:SS.mmm,Watts,w,Volts,v,Amps,a,PF,pf,Mark,<mark>`` with 6-decimal values;
* console lines (``ptd_logs.txt``): ``MM-DD-YYYY HH:MM:SS.mmm: <message>``;
* :func:`extract_mark` keeps the lines whose fields are Time, Watts, Volts, Amps, PF, Mark in that
  order and whose mark is the wanted one (lines copied as read, line ends included);
* :func:`max_volts_amps` is the testing range: the largest Volts and Amps of the ranging samples,
  top level and configured channels, as exact decimal strings (no margin).

Reading spl.txt for the metric is :mod:`.spl`'s job, not this module's.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ..errors import EdgeperfError

__all__ = [
    "RangingError",
    "console_line",
    "extract_mark",
    "format_ptd_time",
    "format_sample",
    "max_volts_amps",
]

_SAMPLE = re.compile(r"^Time,[^,]*,Watts,[^,]*,Volts,([^,]*),Amps,([^,]*),PF,[^,]*,Mark,([^,\r\n]*)")


class RangingError(EdgeperfError):
    """The ranging samples give no usable testing range (no samples, or max volts/amps not positive)."""


def format_ptd_time(when: datetime | None = None) -> str:
    """``MM-DD-YYYY HH:MM:SS.mmm`` in UTC (PTDaemon runs with TZ=UTC under the director)."""
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%m-%d-%Y %H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def format_sample(when: datetime, watts: float, volts: float, amps: float, pf: float, mark: str) -> str:
    """One sample line (no line end)."""
    return f"Time,{format_ptd_time(when)},Watts,{watts:.6f},Volts,{volts:.6f},Amps,{amps:.6f},PF,{pf:.6f},Mark,{mark}"


def console_line(message: str, when: datetime | None = None) -> str:
    """One console event line (no line end)."""
    return f"{format_ptd_time(when)}: {message}"


def extract_mark(text: str, mark: str) -> str:
    """The sample lines of ``text`` carrying ``mark``, each with its own line end, in order."""
    out = []
    for line in text.splitlines(keepends=True):
        m = _SAMPLE.match(line)
        if m is not None and m.group(3) == mark:
            out.append(line)
    return "".join(out)


def _channel_groups(fields: list[str]) -> dict[str, tuple[str, str]]:
    """``ChK,Watts,w,Volts,v,Amps,a,PF,pf`` groups after field 11 -> {ChK: (volts, amps)}."""
    groups = {}
    i = 12
    while i + 8 < len(fields):
        name = fields[i]
        if fields[i + 1] != "Watts" or fields[i + 3] != "Volts" or fields[i + 5] != "Amps" or fields[i + 7] != "PF":
            break
        groups[name] = (fields[i + 4], fields[i + 6])
        i += 9
    return groups


def max_volts_amps(text: str, mark: str, channels: list[int] | None = None) -> tuple[str, str]:
    """(max volts, max amps) over the ``mark`` samples of ``text`` as decimal strings, e.g. ``("120.810000", "0.321000")``.

    ``channels`` lists the per-channel groups (``Ch1``...) that also count on a multichannel meter.
    RangingError when a configured channel is absent, or no positive maximum was found.
    """
    best_v: Decimal | None = None
    best_a: Decimal | None = None
    text_v = text_a = ""
    n = 0
    for number, line in enumerate(text.splitlines(), 1):
        m = _SAMPLE.match(line)
        if m is None or m.group(3) != mark:
            continue
        pairs = [(m.group(1), m.group(2))]
        if channels:
            groups = _channel_groups(line.rstrip().split(","))
            for ch in channels:
                if f"Ch{ch}" not in groups:
                    raise RangingError(f"sample line {number} has no Ch{ch} group: extra ptd channels in configuration")
                pairs.append(groups[f"Ch{ch}"])
        for v_text, a_text in pairs:
            try:
                v, a = Decimal(v_text), Decimal(a_text)
            except InvalidOperation:
                raise RangingError(
                    f"sample line {number}: volts {v_text!r} / amps {a_text!r} are not numbers"
                ) from None
            if v.is_nan() or a.is_nan():
                continue
            if best_v is None or v > best_v:
                best_v, text_v = v, v_text
            if best_a is None or a > best_a:
                best_a, text_a = a, a_text
        n += 1
    if n == 0:
        raise RangingError(f"no sample carries the mark {mark!r}")
    if best_v is None or best_a is None or best_v <= 0 or best_a <= 0:
        raise RangingError(
            f"ranging samples give max volts {text_v or 'nan'} and max amps {text_a or 'nan'}; both must be positive"
        )
    return text_v, text_a
