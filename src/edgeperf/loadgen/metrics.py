"""Latency statistics, scenario metrics and validity, as v1.1 LoadGen computes them (spec §11).

Everything here is a pure function of the numbers a finished series produced, so it is tested
without running anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .enums import TestScenario

#: The percentiles every summary lists (§11.1), in order.
REPORTED_PERCENTILES = (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)

REC_SINGLE_STREAM_DURATION = "Decrease the expected latency so the loadgen pre-generates more queries."
REC_MULTI_STREAM_DURATION = "MultiStream should always meet the minimum duration. Please file a bug."
REC_QPS_DURATION = "Increase the target QPS so the loadgen pre-generates more queries."
REC_OFFLINE_DURATION = "Increase expected QPS so the loadgen pre-generates a larger (coalesced) query."
REC_SERVER_LATENCY = "Reduce target QPS to improve latency."
REC_MULTI_STREAM_LATENCY = "Reduce samples per query to improve latency."
REC_EXITED_EARLY = "The test exited early, before enough queries were issued."


def percentile_of_sorted(sorted_values: np.ndarray, p: float) -> int:
    """The official "floor-index" percentile: element ``int(n * p)`` of the ascending array."""
    n = len(sorted_values)
    if n == 0:
        return 0
    return int(sorted_values[min(int(n * p), n - 1)])


@dataclass(frozen=True)
class LatencyStats:
    """Min, max, truncated mean and floor-index percentiles of a set of latencies (ns)."""

    count: int = 0
    min: int = 0
    max: int = 0
    mean: int = 0
    percentiles: dict[float, int] = field(default_factory=dict)
    target: int = 0

    def at(self, p: float) -> int:
        """The latency at one of the reported percentiles (or the target percentile)."""
        return self.percentiles[p]


def latency_stats(values: np.ndarray, target_percentile: float) -> LatencyStats:
    """Statistics of ``values`` the way §11.1 defines them; all zero for an empty input."""
    n = len(values)
    if n == 0:
        return LatencyStats(percentiles={p: 0 for p in REPORTED_PERCENTILES})
    ordered = np.sort(np.asarray(values, dtype=np.int64), kind="stable")
    total = int(ordered.sum(dtype=np.int64))
    return LatencyStats(
        count=n,
        min=int(ordered[0]),
        max=int(ordered[-1]),
        mean=total // n,
        percentiles={p: percentile_of_sorted(ordered, p) for p in REPORTED_PERCENTILES},
        target=percentile_of_sorted(ordered, target_percentile),
    )


@dataclass(frozen=True)
class SeriesMeasurements:
    """The raw numbers one performance series leaves behind (times relative to its start, ns)."""

    scenario: TestScenario
    samples_per_query: int
    queries_issued: int
    sample_latencies: np.ndarray
    final_query_issued_ns: int = 0
    final_query_scheduled_ns: int = 0
    final_query_all_done_ns: int = 0
    query_latencies: np.ndarray | None = None
    query_intervals: np.ndarray | None = None


@dataclass(frozen=True)
class PerformanceResult:
    """The outcome of one performance series: its metrics, checks and verdict."""

    scenario: TestScenario
    samples_per_query: int
    queries_issued: int
    sample_stats: LatencyStats
    query_stats: LatencyStats | None
    interval_stats: LatencyStats | None
    min_duration_met: bool
    min_queries_met: bool
    perf_constraints_met: bool | None
    recommendations: tuple[str, ...]
    qps_with_loadgen_overhead: float = 0.0
    qps_without_loadgen_overhead: float = 0.0
    scheduled_samples_per_second: float = 0.0
    completed_samples_per_second: float = 0.0
    samples_per_second: float = 0.0
    early_stopping: object | None = None

    @property
    def valid(self) -> bool:
        """VALID iff every applicable check held (§11.3; early stopping too under v2.0)."""
        checks = [self.min_duration_met, self.min_queries_met]
        if self.perf_constraints_met is not None:
            checks.append(self.perf_constraints_met)
        if self.early_stopping is not None:
            checks.append(bool(self.early_stopping.met))
        return all(checks)

    @property
    def invalid_reason(self) -> str:
        """The ``result_invalid_reason`` text: recommendations joined as v1.1 does (§12.2)."""
        text = ""
        for rec in self.recommendations:
            text += rec if rec == REC_EXITED_EARLY else rec + " "
        return text


def _seconds(ns: int) -> float:
    return ns / 1e9


def compute_result(m: SeriesMeasurements, eff, *, multistream_v2: bool = False) -> PerformanceResult:
    """Compute metrics and validity of a finished series (§11.2, §11.3).

    ``eff`` is the series' EffectiveSettings (target percentile, target latency, minimums).
    """
    scenario = m.scenario
    n = len(m.sample_latencies)
    sample_stats = latency_stats(m.sample_latencies, eff.target_latency_percentile)
    query_stats = interval_stats = None
    if m.query_latencies is not None:
        query_stats = latency_stats(m.query_latencies, eff.target_latency_percentile)
    if m.query_intervals is not None:
        interval_stats = latency_stats(m.query_intervals, eff.target_latency_percentile)

    min_duration_s = eff.min_duration_ms / 1000.0
    recs: list[str] = []
    perf_ok: bool | None = None
    extra: dict[str, float] = {}

    if scenario is TestScenario.SingleStream or (scenario is TestScenario.MultiStream and multistream_v2):
        duration_ok = _seconds(m.final_query_issued_ns) >= min_duration_s
        if scenario is TestScenario.SingleStream:
            issued_s = _seconds(m.final_query_issued_ns)
            extra["qps_with_loadgen_overhead"] = (n - 1) / issued_s if issued_s > 0 else 0.0
            mean_s = sample_stats.mean / 1e9
            extra["qps_without_loadgen_overhead"] = 1.0 / mean_s if mean_s > 0 else 0.0
        duration_rec = REC_SINGLE_STREAM_DURATION
    elif scenario is TestScenario.MultiStream:
        duration_ok = _seconds(m.final_query_issued_ns) >= min_duration_s
        perf_ok = interval_stats is not None and interval_stats.target < 2
        if not perf_ok:
            recs.append(REC_MULTI_STREAM_LATENCY)
        duration_rec = REC_MULTI_STREAM_DURATION
    elif scenario is TestScenario.MultiStreamFree:
        duration_ok = _seconds(m.final_query_issued_ns) >= min_duration_s
        perf_ok = query_stats is not None and query_stats.target <= eff.target_latency_ns
        if not perf_ok:
            recs.append(REC_MULTI_STREAM_LATENCY)
        done_s = _seconds(m.final_query_all_done_ns)
        extra["samples_per_second"] = m.queries_issued * m.samples_per_query / done_s if done_s > 0 else 0.0
        duration_rec = REC_QPS_DURATION
    elif scenario is TestScenario.Server:
        sched_s = _seconds(m.final_query_scheduled_ns)
        duration_ok = sched_s >= min_duration_s
        perf_ok = sample_stats.target <= eff.target_latency_ns
        if not perf_ok:
            recs.append(REC_SERVER_LATENCY)
        extra["scheduled_samples_per_second"] = (n - 1) / sched_s if sched_s > 0 else 0.0
        done_s = _seconds(m.final_query_all_done_ns)
        extra["completed_samples_per_second"] = (n - 1) / done_s if done_s > 0 else 0.0
        duration_rec = REC_QPS_DURATION
    else:  # Offline
        max_s = _seconds(sample_stats.max)
        duration_ok = max_s >= min_duration_s
        extra["samples_per_second"] = n / max_s if max_s > 0 else 0.0
        duration_rec = REC_OFFLINE_DURATION

    if not duration_ok:
        recs.append(duration_rec)
    queries_ok = m.queries_issued >= eff.min_query_count and n >= eff.min_sample_count
    if not queries_ok:
        recs.append(REC_EXITED_EARLY)

    return PerformanceResult(
        scenario=scenario,
        samples_per_query=m.samples_per_query,
        queries_issued=m.queries_issued,
        sample_stats=sample_stats,
        query_stats=query_stats,
        interval_stats=interval_stats,
        min_duration_met=duration_ok,
        min_queries_met=queries_ok,
        perf_constraints_met=perf_ok,
        recommendations=tuple(recs),
        **extra,
    )
