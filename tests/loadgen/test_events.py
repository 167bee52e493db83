"""Typed LoadGen events (loadgen/events.py): their order, and the frozen series snapshot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from harness import ImmediateSUT, RecordingQSL, log_settings

from edgeperf.loadgen import events as ev
from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.settings import TestSettings


def _run(tmp_path, mode=TestMode.SubmissionRun):
    settings = TestSettings(
        scenario=TestScenario.SingleStream,
        mode=mode,
        min_duration_ms=100,
        min_query_count=10,
        single_stream_expected_latency_ns=1000,
    )
    seen: list[ev.Event] = []
    result = start_test(
        ImmediateSUT(),
        RecordingQSL(total=150, performance=100),
        settings,
        log_settings(tmp_path),
        audit_config=None,
        listeners=[seen.append],
    )
    return result, seen


def test_a_submission_run_emits_typed_events_in_order(tmp_path):
    result, seen = _run(tmp_path)
    kinds = [type(e) for e in seen]
    series = [ev.SeriesStart, ev.PowerBegin, ev.PowerEnd]
    # two accuracy sets (100 + 50 samples), then the performance series
    assert kinds == [ev.TestStart, *series, *series, *series, ev.SeriesEnd, ev.TestEnd]
    start, end = seen[0], seen[-1]
    assert (start.scenario, start.mode) == (TestScenario.SingleStream, TestMode.SubmissionRun)
    assert end.result is result
    assert [e.mode for e in seen if isinstance(e, ev.SeriesStart)] == [
        TestMode.AccuracyOnly,
        TestMode.AccuracyOnly,
        TestMode.PerformanceOnly,
    ]
    for begin, stop in zip(seen[2::3][:3], seen[3::3][:3]):
        assert isinstance(begin, ev.PowerBegin) and isinstance(stop, ev.PowerEnd)
        assert begin.wall_time_ns <= stop.wall_time_ns
    for e in seen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.wall_time_ns = 0  # type: ignore[misc]


def test_the_series_end_carries_a_frozen_snapshot_that_matches_the_logs(tmp_path):
    result, seen = _run(tmp_path, TestMode.PerformanceOnly)
    [end] = [e for e in seen if isinstance(e, ev.SeriesEnd)]
    snap = end.series
    assert isinstance(snap, ev.SeriesSnapshot) and end.result is result.performance
    issued = result.performance.queries_issued
    assert (snap.samples_per_query, snap.issued_queries) == (1, issued)
    assert len(snap.sample_latencies_ns) == issued == len(snap.query_latencies_ns)
    detail = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    assert snap.sample_latencies_ns.min() == detail["result_min_latency_ns"]
    assert snap.sample_latencies_ns.max() == detail["result_max_latency_ns"]
    # SingleStream: one sample a query, so the per-query latency is the sample's
    assert np.array_equal(snap.query_latencies_ns, snap.sample_latencies_ns)
    assert (snap.completion_offsets_ns >= snap.sample_latencies_ns).all()
    assert np.all(np.diff(snap.completion_offsets_ns) > 0)  # queries run one after the other
    for array in (snap.sample_latencies_ns, snap.completion_offsets_ns, snap.query_latencies_ns):
        with pytest.raises(ValueError):
            array[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.issued_queries = 0  # type: ignore[misc]


def test_the_result_carries_the_summary_headline(tmp_path):
    result, _ = _run(tmp_path, TestMode.PerformanceOnly)
    summary = (tmp_path / "mlperf_log_summary.txt").read_text().splitlines()
    assert result.headline == summary[6]
    assert result.headline.startswith("90th percentile latency (ns) : ")


def test_nothing_is_built_when_no_one_listens():
    built = []
    ev.EventBus().emit(lambda now: built.append(now))
    assert built == []
    bus = ev.EventBus([lambda event: None])
    bus.emit(lambda now: built.append(now) or ev.PowerBegin(now))
    assert len(built) == 1 and bus.active
