"""The issue loop of one series, per scenario (spec loadgen.md §8).

The loop runs on the thread that called ``start_test``. It never formats a log line: anything to
log is returned in ``IssueOutcome`` or passed to ``log_error``, a cheap queue append.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from dataclasses import dataclass, field
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


_CHUNK = 1 << 15  # queries whose indices/deltas are turned into Python ints at a time


class _Issuer:
    """Hands queries to the SUT in the form it prefers: numpy arrays, two lists, or objects.

    One-sample queries (SingleStream, Server) take a fast path that reads the QSL index from a
    chunk of Python ints and builds nothing but the call's arguments.
    """

    def __init__(self, sut, recorder: SeriesRecorder):
        self._rec = recorder
        self._arrays = getattr(sut, "issue_query_arrays", None)
        self._lists = None if self._arrays else getattr(sut, "issue_query_lists", None)
        self._objects = sut.issue_query if self._arrays is None and self._lists is None else None
        self._spq = recorder.spq
        self._base_id = recorder.id_offset + recorder.first_seq_id
        self._indices = recorder.queries.sample_indices
        self._lo = self._hi = 0
        self._idx: list[int] = []
        self._ids_arr = self._idx_arr = None

    def _load(self, lo: int) -> None:
        hi = min(lo + _CHUNK, len(self._indices))
        self._lo, self._hi = lo, hi
        if self._arrays is not None:
            self._ids_arr = np.arange(self._base_id + lo, self._base_id + hi, dtype=np.int64)
            self._idx_arr = self._indices[lo:hi]
        else:
            self._idx = self._indices[lo:hi].tolist()

    def issue(self, q_begin: int, q_end: int) -> None:
        spq = self._spq
        lo, hi = q_begin * spq, q_end * spq
        self._rec.issued_samples = hi  # mark_issued, inlined: ids become valid before the SUT sees them
        base = self._base_id
        if hi - lo == 1:
            if not self._lo <= lo < self._hi:
                self._load(lo)
            k = lo - self._lo
            if self._arrays is not None:
                self._arrays(self._ids_arr[k : k + 1], self._idx_arr[k : k + 1])
            elif self._lists is not None:
                self._lists([base + lo], [self._idx[k]])
            else:
                self._objects([QuerySample(base + lo, self._idx[k])])
            return
        if self._arrays is not None:
            self._arrays(np.arange(base + lo, base + hi, dtype=np.int64), self._indices[lo:hi])
            return
        # Building a million objects with the cyclic GC running costs more than the objects.
        pause_gc = hi - lo > 10_000 and gc.isenabled()
        if pause_gc:
            gc.disable()
        try:
            indices = self._indices[lo:hi].tolist()
            ids = range(base + lo, base + hi)
            args = (list(ids), indices) if self._lists is not None else ([*map(QuerySample, ids, indices)],)
        finally:
            if pause_gc:
                gc.enable()
        (self._lists or self._objects)(*args)


def issue_series(sut, recorder: SeriesRecorder, eff, mode: TestMode, *, multistream_v2: bool) -> IssueOutcome:
    """Issue the generated queries of one series and apply the end-of-run rules of §8.1.

    A SUT that stops answering (``SutStalled``) or gives up (``SutAborted``) ends the loop; the
    counts so far are kept in the outcome. The loop keeps its state in locals and reads indices
    and deltas from chunks of Python ints: it is the hot path of every scenario.
    """
    gen = recorder.queries
    scenario = eff.scenario
    accuracy = mode is TestMode.AccuracyOnly
    timeout_s = eff.sut_stall_timeout_s
    issue = _Issuer(sut, recorder).issue
    out = IssueOutcome()
    sched = recorder.scheduled_view
    done = recorder.done_view
    count = gen.count
    target_duration_ns = eff.target_duration_ms * 1_000_000
    max_duration_ns = eff.max_duration_ms * 1_000_000
    min_queries, max_queries = eff.min_query_count, eff.max_query_count
    is_server = scenario is TestScenario.Server
    chained = scenario is TestScenario.SingleStream or (scenario is TestScenario.MultiStream and multistream_v2)
    ticked = scenario is TestScenario.MultiStream and not multistream_v2
    free = scenario is TestScenario.MultiStreamFree
    coalesce = is_server and eff.server_coalesce_queries
    server_async_limit = eff.max_async_queries if is_server else 0
    max_async = max(1, eff.max_async_queries)
    fifo: deque[int] = deque()
    intervals = np.zeros(count, dtype=np.int64) if (ticked or free) else None
    i_period = 0
    clock = time.perf_counter_ns
    wait_query = recorder.wait_query
    d_lo = d_hi = 0
    d_list: list[int] = []
    issued = 0
    now = 0

    out.start_wall_ns = time.time_ns()
    start = out.start_ns = clock()
    recorder.last_completion_ns = start
    try:
        q = 0
        while q < count:
            q_end = q + 1
            if chained:
                if q > 0 and done[q - 1] < 0:
                    wait_query(q - 1, timeout_s)
                now = clock()
                sched[q] = now
            elif is_server:
                if q >= d_hi:
                    d_lo, d_hi = q, min(count, q + _CHUNK)
                    d_list = gen.deltas[d_lo:d_hi].tolist()
                target = start + d_list[q - d_lo]
                sched[q] = target
                now = clock()
                if now < target:
                    now = sleep_until(target)
                if coalesce:
                    while q_end < count and start + gen.delta(q_end) <= now:
                        sched[q_end] = start + gen.delta(q_end)
                        q_end += 1
            elif ticked:
                fifo.append(q)
                if len(fifo) > max_async:
                    wait_query(fifo.popleft(), timeout_s)
                now = clock()
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
                now = clock()
                if len(fifo) > max_async:
                    oldest = fifo.popleft()
                    wait_query(oldest, timeout_s)
                    sched[q] = done[oldest]
                    now = clock()
                else:
                    sched[q] = now
            else:  # Offline
                now = start
                sched[q] = start
            issue(q, q_end)
            issued += q_end - q
            q = q_end
            if accuracy:
                continue
            duration = now - start
            if is_server:
                if server_async_limit and issued - recorder.queries_completed > server_async_limit:
                    out.errors.append(
                        "IssueQueryThread 0 Ending early: Too many outstanding queries. "
                        f"issued {issued} outstanding {issued - recorder.queries_completed}"
                    )
                    break
            elif issued >= min_queries and duration >= target_duration_ns:
                out.natural_end = True
                break
            if max_queries and issued >= max_queries:
                out.errors.append(f"IssueQueryThread 0 Ending early: Max query count reached. query_count {issued}")
                break
            if max_duration_ns and duration > max_duration_ns:
                out.errors.append(f"IssueQueryThread 0 Ending early: Max test duration reached. duration_ns {duration}")
                break
        else:
            out.ran_out = not accuracy and not is_server
    except (SutStalled, SutAborted) as exc:  # the counts so far stay in `out`
        out.stalled = exc
    out.queries_issued = issued
    out.final_issued_ns = now - start if issued else 0
    out.intervals = intervals
    return out
