"""The issue loop of one series, per scenario (spec loadgen.md §8).

The loop runs on the thread that called ``start_test``. It never formats a log line: anything to
log is returned in ``IssueOutcome`` or passed to ``log_error``, a cheap queue append.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import rng
from .api import QuerySample
from .completion import SeriesRecorder, SutAborted, SutStalled
from .enums import TestMode, TestScenario

_COARSE_SLEEP_MARGIN_NS = 1_500_000  # sleep the OS way until this close, then spin
MSG_NATURAL_END = "Ending naturally: Minimum query count and test duration met."


@dataclass
class IssueOutcome:
    """What the loop did: counts, times relative to ``start_ns`` and the end reason."""

    start_ns: int = 0
    start_wall_ns: int = 0
    queries_issued: int = 0
    ran_out: bool = False
    natural_end: bool = False
    errors: list[str] = field(default_factory=list)
    final_issued_ns: int = 0
    intervals: np.ndarray | None = None
    stalled: SutStalled | SutAborted | None = None


def sleep_until(deadline_ns: int) -> int:
    """Sleep coarsely, then spin finely, until ``deadline_ns`` on the perf clock; return now."""
    now = time.perf_counter_ns()
    while now < deadline_ns:
        remaining = deadline_ns - now
        if remaining > _COARSE_SLEEP_MARGIN_NS:
            time.sleep((remaining - _COARSE_SLEEP_MARGIN_NS) / 1e9)
        else:
            time.sleep(0)
        now = time.perf_counter_ns()
    return now


class _Issuer:
    """Hands a range of queries to the SUT, as objects or as arrays when the SUT prefers."""

    def __init__(self, sut, recorder: SeriesRecorder):
        self._sut = sut
        self._rec = recorder
        self._fast = getattr(sut, "issue_query_arrays", None)
        self._spq = recorder.spq
        self._base_id = recorder.id_offset + recorder.first_seq_id
        self._indices = recorder.queries.sample_indices

    def issue(self, q_begin: int, q_end: int) -> None:
        lo, hi = q_begin * self._spq, q_end * self._spq
        self._rec.mark_issued(q_begin, q_end)
        if self._fast is not None:
            ids = np.arange(self._base_id + lo, self._base_id + hi, dtype=np.int64)
            self._fast(ids, self._indices[lo:hi])
            return
        base = self._base_id
        indices = self._indices[lo:hi].tolist()
        self._sut.issue_query([QuerySample(base + lo + j, idx) for j, idx in enumerate(indices)])


def issue_series(
    sut,
    recorder: SeriesRecorder,
    eff,
    mode: TestMode,
    *,
    multistream_v2: bool,
    on_progress: Callable[[int], None] | None = None,
) -> IssueOutcome:
    """Issue the generated queries of one series and apply the end-of-run rules of §8.1.

    Blocking waits raise ``SutStalled`` when the SUT stops answering.
    """
    gen = recorder.queries
    scenario = eff.scenario
    accuracy = mode is TestMode.AccuracyOnly
    timeout_s = eff.sut_stall_timeout_s
    issuer = _Issuer(sut, recorder)
    out = IssueOutcome()
    sched = recorder.scheduled
    count = gen.count
    target_duration_ns = eff.target_duration_ms * 1_000_000
    max_duration_ns = eff.max_duration_ms * 1_000_000
    min_queries, max_queries = eff.min_query_count, eff.max_query_count
    is_server = scenario is TestScenario.Server
    chained = scenario is TestScenario.SingleStream or (scenario is TestScenario.MultiStream and multistream_v2)
    ticked = scenario is TestScenario.MultiStream and not multistream_v2
    free = scenario is TestScenario.MultiStreamFree
    max_async = max(1, eff.max_async_queries)
    fifo: deque[int] = deque()
    intervals = np.zeros(count, dtype=np.int64) if (ticked or free) else None
    i_period = 0

    out.start_wall_ns = time.time_ns()
    start = out.start_ns = time.perf_counter_ns()
    recorder.last_completion_ns = start
    try:
        q = 0
        while q < count:
            q_end = q + 1
            if chained:
                if q > 0:
                    recorder.wait_query(q - 1, timeout_s)
                now = time.perf_counter_ns()
                sched[q] = now
            elif ticked:
                fifo.append(q)
                if len(fifo) > max_async:
                    recorder.wait_query(fifo.popleft(), timeout_s)
                now = time.perf_counter_ns()
                steps = 0
                while True:
                    i_period += 1
                    steps += 1
                    tick = start + rng.seconds_to_ns(i_period / eff.target_qps)
                    if tick >= now:
                        break
                intervals[q] = steps
                sched[q] = tick
                now = sleep_until(tick)
            elif free:
                fifo.append(q)
                now = time.perf_counter_ns()
                if len(fifo) > max_async:
                    oldest = fifo.popleft()
                    recorder.wait_query(oldest, timeout_s)
                    sched[q] = recorder.query_done[oldest]
                    now = time.perf_counter_ns()
                else:
                    sched[q] = now
            elif is_server:
                target = start + gen.delta(q)
                sched[q] = target
                now = sleep_until(target) if time.perf_counter_ns() < target else time.perf_counter_ns()
                if eff.server_coalesce_queries:
                    while q_end < count and start + gen.delta(q_end) <= now:
                        sched[q_end] = start + gen.delta(q_end)
                        q_end += 1
            else:  # Offline
                now = start
                sched[q] = start
            out.final_issued_ns = now - start
            issuer.issue(q, q_end)
            out.queries_issued += q_end - q
            q = q_end
            if on_progress is not None:
                on_progress(out.queries_issued)
            if accuracy:
                continue
            duration = now - start
            if is_server:
                outstanding_queries = out.queries_issued - recorder.queries_completed
                if eff.max_async_queries and outstanding_queries > eff.max_async_queries:
                    out.errors.append(
                        "IssueQueryThread 0 Ending early: Too many outstanding queries. "
                        f"issued {out.queries_issued} outstanding {outstanding_queries}"
                    )
                    break
            elif out.queries_issued >= min_queries and duration >= target_duration_ns:
                out.natural_end = True
                break
            if max_queries and out.queries_issued >= max_queries:
                out.errors.append(
                    f"IssueQueryThread 0 Ending early: Max query count reached. query_count {out.queries_issued}"
                )
                break
            if max_duration_ns and duration > max_duration_ns:
                out.errors.append(f"IssueQueryThread 0 Ending early: Max test duration reached. duration_ns {duration}")
                break
        else:
            out.ran_out = not accuracy and not is_server
    except (SutStalled, SutAborted) as exc:  # the counts so far stay in `out`
        out.stalled = exc
    out.intervals = intervals
    return out
