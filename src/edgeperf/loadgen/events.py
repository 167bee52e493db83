"""Events a test emits, so progress displays, reports and power meters stay out of the issue loop.

Listeners are plain callables taking one `Event`. They are called synchronously from the LoadGen
thread at coarse points only (test and series boundaries, power marks), never per query. Live
progress is read by polling `SeriesProgress`, which costs the issue loop nothing.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

TEST_START = "test_start"
SERIES_START = "series_start"
POWER_BEGIN = "power_begin"
POWER_END = "power_end"
SERIES_END = "series_end"
TEST_END = "test_end"


@dataclass(frozen=True)
class Event:
    """Something that happened during a test. ``data`` depends on ``name`` (see `EventBus.emit`)."""

    name: str
    wall_time_ns: int
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]


class SeriesProgress:
    """A live view of the running series, safe to poll from another thread."""

    def __init__(self, recorder, settings, mode_name: str, start_ns: int):
        self._recorder = recorder
        self.scenario = settings.scenario
        self.total_queries = recorder.queries.count
        self.min_duration_ms = settings.min_duration_ms
        self.target_latency_ns = settings.target_latency_ns
        self.target_percentile = settings.target_latency_percentile
        self.mode_name = mode_name
        self.start_ns = start_ns
        self._scanned = 0
        self._over_bound = 0

    def over_bound_count(self) -> int:
        """Completed samples slower than the latency bound so far (scanned incrementally)."""
        lat = self._recorder.latency
        end = self._recorder.issued_samples
        chunk = lat[self._scanned : end]
        pending = np.flatnonzero(chunk < 0)
        stop = int(pending[0]) if len(pending) else len(chunk)
        self._over_bound += int(np.count_nonzero(chunk[:stop] > self.target_latency_ns))
        self._scanned += stop
        return self._over_bound

    @property
    def issued_samples(self) -> int:
        return self._recorder.issued_samples

    @property
    def completed_samples(self) -> int:
        return self._recorder.completed_samples

    @property
    def elapsed_s(self) -> float:
        return (time.perf_counter_ns() - self.start_ns) / 1e9

    def recent_latencies(self, window: int = 100_000):
        """Latencies (ns) of completed samples among the last ``window`` issued ones."""
        end = self._recorder.issued_samples
        lat = self._recorder.latency[max(0, end - window) : end]
        return lat[lat >= 0]


class EventBus:
    """Delivers events to listeners; a failing listener is reported once and never stops a test."""

    def __init__(self, listeners: list[Listener] | tuple[Listener, ...] = ()) -> None:
        self._listeners = list(listeners)
        self._reported: set[int] = set()

    def emit(self, name: str, **data: Any) -> None:
        """Send an event: test_start (scenario, mode, settings), series_start (progress, mode),
        power_begin / power_end (wall_time_ns), series_end (result, recorder, start_ns, settings;
        performance series only), test_end (result)."""
        if not self._listeners:
            return
        event = Event(name, time.time_ns(), data)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as exc:  # a display must never break a benchmark run
                if id(listener) not in self._reported:
                    self._reported.add(id(listener))
                    print(f"edgeperf: event listener {listener!r} failed: {exc!r}", file=sys.stderr)
