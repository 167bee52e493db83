"""The power metric of a LoadGen run, exactly as the r1.1 submission checker computes it (power.md §8).

1. The window is LoadGen's ``power_begin`` .. ``power_end`` (``%m-%d-%Y %H:%M:%S.%f``) plus the
   *client* timezone; every spl.txt timestamp gets the *server* timezone added (``timezones="r1.1"``,
   the default). ``timezones="utc"`` adds neither, as the checker does from v2.0 on; the two agree
   whenever both machines are in one zone, as every v1.1 power result was.
2. Samples strictly inside the window (begin < t < end) count; their field-3 watts are averaged in
   file order (summed left to right, no weighting, negative values kept).
3. The metric follows the *directory* scenario: Offline and Server report the average (Watts);
   SingleStream ``avg * duration / (result_qps_with_loadgen_overhead * duration)`` (Joules per
   query); MultiStream ``avg * duration / (generated_query_count * generated_samples_per_query)``
   (Joules/Stream). Any other scenario has no power metric (0, as in r1.1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from .spl import SplFormatError, SplSample, SplSamples, parse_ptd_time
from ..errors import EdgeperfError, UsageError

__all__ = [
    "NoPowerSamplesError",
    "POWER_UNITS",
    "PowerMetric",
    "PowerWindow",
    "average_watts",
    "compute_power_metric",
    "power_metric_value",
]

#: Directory scenario -> unit of its power metric (spec submission.md §9).
POWER_UNITS = {"Offline": "Watts", "Server": "Watts", "SingleStream": "Joules", "MultiStream": "Joules/Stream"}


class NoPowerSamplesError(EdgeperfError, ValueError):
    """No spl.txt sample lies strictly inside the power window."""

    def __init__(self, path: str | os.PathLike | None, window: "PowerWindow") -> None:
        self.path = None if path is None else os.fspath(path)
        self.window = window
        super().__init__(
            f"{self.path or '<spl.txt>'}: no power samples fall strictly inside the window "
            f"{window.begin.isoformat(' ')} .. {window.end.isoformat(' ')}"
        )


@dataclass(frozen=True)
class PowerWindow:
    """The measurement window, timezone already applied (naive datetimes)."""

    begin: datetime
    end: datetime

    @classmethod
    def from_loadgen(cls, power_begin: str, power_end: str, tz_seconds: int | float = 0) -> "PowerWindow":
        """From the detail log's power_begin/power_end strings plus ``tz_seconds``."""
        shift = timedelta(seconds=tz_seconds)
        return cls(parse_ptd_time(power_begin) + shift, parse_ptd_time(power_end) + shift)

    @property
    def duration_s(self) -> float:
        """(end - begin) in seconds, exactly as ``timedelta.total_seconds`` gives it."""
        return (self.end - self.begin).total_seconds()

    def contains(self, when: datetime) -> bool:
        """Strictly inside: begin < when < end."""
        return self.begin < when < self.end


@dataclass(frozen=True)
class PowerMetric:
    """A computed power metric and what it came from."""

    value: float
    unit: str | None  # None for a scenario without a power metric (value 0.0)
    scenario: str
    average_watts: float
    sample_count: int
    window: PowerWindow

    @property
    def duration_s(self) -> float:
        return self.window.duration_s


def average_watts(
    samples: Iterable[SplSample],
    window: PowerWindow,
    server_tz_seconds: int | float = 0,
    path: str | os.PathLike | None = None,
) -> tuple[float, int]:
    """(mean watts, count) of the samples strictly inside ``window``; summed left to right.

    Raises :class:`NoPowerSamplesError` when none is inside, :class:`SplFormatError` when an
    in-window sample's watts are not a number.
    """
    shift = timedelta(seconds=server_tz_seconds)
    begin, end = window.begin, window.end
    if isinstance(samples, SplSamples):  # parsed columns: the window is selected with numpy
        total, count = samples.window_average(begin, end, shift, path)
        if count == 0:
            raise NoPowerSamplesError(path, window)
        return total / count, count
    total = 0.0
    count = 0
    for s in samples:
        t = s.time + shift
        if begin < t < end:
            try:
                w = float(s.watts_text)
            except ValueError:
                raise SplFormatError(path, s.line, f"watts {s.watts_text!r} is not a number") from None
            total += w  # plain left-to-right float addition (not fsum, not Python 3.12's compensated sum)
            count += 1
    if count == 0:
        raise NoPowerSamplesError(path, window)
    return total / count, count


def power_metric_value(
    scenario: str,
    avg_watts: float,
    duration_s: float,
    *,
    qps_with_loadgen_overhead: float | None = None,
    generated_query_count: int | None = None,
    generated_samples_per_query: int | None = None,
) -> tuple[float, str | None]:
    """(value, unit) of the metric for a directory scenario; (0.0, None) for one without a metric.

    Raises ValueError when an input the scenario needs is missing or makes the quotient undefined.
    """
    if scenario in ("Offline", "Server"):
        return avg_watts, POWER_UNITS[scenario]
    if scenario == "SingleStream":
        qps = _number(qps_with_loadgen_overhead, "result_qps_with_loadgen_overhead")
        queries = qps * duration_s
        if queries == 0:
            raise UsageError("result_qps_with_loadgen_overhead x window duration is 0: energy per query is undefined")
        return avg_watts * duration_s / queries, POWER_UNITS[scenario]
    if scenario == "MultiStream":
        n = _number(generated_query_count, "generated_query_count") * _number(
            generated_samples_per_query, "generated_samples_per_query"
        )
        if n == 0:
            raise UsageError("generated_query_count x generated_samples_per_query is 0: energy per stream is undefined")
        return avg_watts * duration_s / n, POWER_UNITS[scenario]
    return 0.0, None


def _number(value, name: str):
    if value is None:
        raise UsageError(f"{name} is missing from the detail log")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number, found {value!r}")
    return value


def compute_power_metric(
    samples: Iterable[SplSample],
    *,
    power_begin: str,
    power_end: str,
    scenario: str,
    client_tz_seconds: int | float = 0,
    server_tz_seconds: int | float = 0,
    timezones: str = "r1.1",
    qps_with_loadgen_overhead: float | None = None,
    generated_query_count: int | None = None,
    generated_samples_per_query: int | None = None,
    spl_path: str | os.PathLike | None = None,
) -> PowerMetric:
    """The whole power.md §8 computation for one run (see the module docstring)."""
    if timezones == "utc":
        client_tz_seconds = server_tz_seconds = 0
    elif timezones != "r1.1":
        raise UsageError(f"timezones must be 'r1.1' or 'utc', not {timezones!r}")
    window = PowerWindow.from_loadgen(power_begin, power_end, client_tz_seconds)
    avg, count = average_watts(samples, window, server_tz_seconds, spl_path)
    value, unit = power_metric_value(
        scenario,
        avg,
        window.duration_s,
        qps_with_loadgen_overhead=qps_with_loadgen_overhead,
        generated_query_count=generated_query_count,
        generated_samples_per_query=generated_samples_per_query,
    )
    return PowerMetric(value, unit, scenario, avg, count, window)
