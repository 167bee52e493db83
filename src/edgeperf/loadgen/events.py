"""Events a test emits, so progress displays, reports and power meters stay out of the issue loop.

Listeners are plain callables taking one `Event`; they tell the kinds apart by type
(``isinstance(event, SeriesEnd)``). They are called synchronously from the LoadGen thread at
coarse points only (test and series boundaries, power marks), never per query. Live progress is
read by polling `SeriesProgress`, which costs the issue loop nothing; what a finished series
measured comes as a frozen `SeriesSnapshot`, never the live recorder.

The kinds, in the order a test emits them: `TestStart`; per series `SeriesStart`, `PowerBegin`,
`PowerEnd` and, for a performance series, `SeriesEnd`; then `TestEnd`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .effective import EffectiveSettings
    from .engine import TestResult
    from .enums import TestMode, TestScenario
    from .metrics import PerformanceResult


@dataclass(frozen=True)
class Event:
    """Something that happened during a test, at ``wall_time_ns`` (the wall clock, for logs)."""

    wall_time_ns: int


@dataclass(frozen=True)
class TestStart(Event):
    """The effective settings are known and logged; the first series is about to start."""

    __test__ = False  # not a pytest test class

    scenario: TestScenario
    mode: TestMode
    settings: EffectiveSettings


@dataclass(frozen=True)
class SeriesStart(Event):
    """A series of queries starts (accuracy or performance); poll ``progress`` for live counts."""

    progress: SeriesProgress
    mode: TestMode
    scenario: TestScenario


@dataclass(frozen=True)
class PowerBegin(Event):
    """The start of the series' power window (the detail log's ``power_begin``)."""


@dataclass(frozen=True)
class PowerEnd(Event):
    """The end of the series' power window (the detail log's ``power_end``)."""


@dataclass(frozen=True)
class SeriesEnd(Event):
    """A performance series finished: its result, and what it measured as a frozen snapshot."""

    result: PerformanceResult
    series: SeriesSnapshot
    settings: EffectiveSettings


@dataclass(frozen=True)
class TestEnd(Event):
    """The test finished and its logs are closed."""

    __test__ = False  # not a pytest test class

    result: TestResult


@dataclass(frozen=True)
class DatasetLoad(Event):
    """Samples preprocessed or read from the cache so far, while a data set loads (before and
    between series); sent by the benchmark runner, not by LoadGen."""

    done: int
    total: int


Listener = Callable[[Event], None]


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class SeriesSnapshot:
    """What a finished performance series measured, copied out of the live recorder.

    Arrays are read-only copies in sequence order. ``sample_latencies_ns`` and
    ``completion_offsets_ns`` hold the completed samples only (an unanswered sample has no
    latency, as the metrics leave it out); a sample's completion offset is its query's scheduled
    time minus the series start, plus its latency. ``query_latencies_ns`` is, per completed query,
    the time from its schedule until all its samples were done (MultiStream's per-query latency).
    """

    samples_per_query: int
    issued_queries: int
    start_ns: int
    sample_latencies_ns: np.ndarray
    completion_offsets_ns: np.ndarray
    query_latencies_ns: np.ndarray

    @classmethod
    def capture(cls, recorder: Any, issued_queries: int, start_ns: int | None = None) -> "SeriesSnapshot":
        """Copy a finished series out of ``recorder`` (a ``completion.SeriesRecorder``)."""
        spq = int(getattr(recorder, "spq", None) or recorder.samples_per_query)
        if start_ns is None:
            start_ns = int(recorder.scheduled[0]) - int(recorder.queries.delta(0))
        latencies, offsets = sample_arrays(recorder, issued_queries * spq, start_ns)
        return cls(
            spq,
            int(issued_queries),
            int(start_ns),
            _read_only(latencies),
            _read_only(offsets),
            _read_only(query_latencies(recorder, issued_queries)),
        )


def sample_arrays(recorder: Any, issued_samples: int, start_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample latencies and completion offsets (ns) of the completed samples, in sequence order."""
    spq = int(getattr(recorder, "spq", None) or recorder.samples_per_query)
    n = max(0, min(int(issued_samples), len(recorder.latency)))
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nq = -(-n // spq)
    lat = np.asarray(recorder.latency[:n], dtype=np.int64)
    sched = recorder.scheduled[:nq].astype(np.int64) - np.int64(start_ns)
    if spq > 1:
        sched = np.repeat(sched, spq)[:n]
    done = lat >= 0
    if not done.all():
        lat, sched = lat[done], sched[done]
    return lat.copy(), sched + lat


def query_latencies(recorder: Any, issued_queries: int) -> np.ndarray:
    """Per-query latencies (ns): all samples done − scheduled, for the queries that completed."""
    nq = int(issued_queries)
    done = np.asarray(recorder.query_done[:nq], dtype=np.int64)
    return (done - recorder.scheduled[:nq])[done >= 0].astype(np.int64)


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
    def total_samples(self) -> int:
        """Samples this series will issue in all (queries x samples per query)."""
        return self.total_queries * self._recorder.spq

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

    @property
    def active(self) -> bool:
        """True when someone listens (so an event worth building is worth building)."""
        return bool(self._listeners)

    def emit(self, make: Callable[[int], Event]) -> None:
        """Send the event ``make(wall_time_ns)`` builds; nothing is built when no one listens."""
        if not self._listeners:
            return
        event = make(time.time_ns())
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as exc:  # a display must never break a benchmark run
                if id(listener) not in self._reported:
                    self._reported.add(id(listener))
                    print(f"edgeperf: event listener {listener!r} failed: {exc!r}", file=sys.stderr)
