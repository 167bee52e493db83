"""RunData: reading real v1.1 logs, the arrays of a finished series, the summary layout."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_paths import ALIBABA_OFFLINE, ALIBABA_SS, ALIBABA_TEST04A_SS
from harness import ImmediateSUT, RecordingQSL, log_settings

from edgeperf.loadgen.completion import SeriesRecorder
from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.logs.readers import parse_detail_lines
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.metrics import latency_stats
from edgeperf.loadgen.queries import GeneratedQueries
from edgeperf.loadgen.settings import TestSettings
from edgeperf.report.data import (
    TEST_PARAMETER_KEYS,
    ReportError,
    RunData,
    parse_summary_layout,
    percentile_value,
    series_arrays,
    series_query_latencies,
)

SS_RUN = ALIBABA_SS / "performance/run_1"


def test_from_log_dir_reads_the_real_single_stream_summary():
    run = RunData.from_log_dir(SS_RUN)
    assert (run.scenario, run.mode) == ("SingleStream", "PerformanceOnly")
    assert run.summary["90th percentile latency (ns)"] == "508841"
    assert run.summary["QPS w/o loadgen overhead"] == "2007.98"
    assert run.headline() == ("90th percentile latency (ns)", "508841")
    assert run.validity == "VALID"
    assert run.recommendations() == ()
    assert run.target_percentile == 0.9  # effective_target_latency_percentile of the detail log
    assert run.target_latency_ns is None  # SingleStream has no bound
    assert run.marked_value_ns() == 508841
    assert not run.has_series
    assert run.detail is not None and run.detail["effective_scenario"] == "SingleStream"
    assert "LWIS_Server" in run.title and "SingleStream" in run.title


def test_layout_splits_sections_footer_and_parameters():
    run = RunData.from_log_dir(SS_RUN)
    layout = run.layout()
    assert [s.title for s in layout.sections] == ["MLPerf Results Summary", "Additional Stats", "Test Parameters Used"]
    params = dict(layout.sections[2].rows)
    assert list(params) == list(TEST_PARAMETER_KEYS)
    assert params["schedule_rng_seed"] == "10051496985653635065"
    assert layout.footer == ("No warnings encountered during test.", "No errors encountered during test.")
    # Every summary value is somewhere in the layout.
    all_rows = {k: v for s in layout.sections for k, v in s.rows}
    assert all(all_rows[k] == v for k, v in run.summary.items())


def test_invalid_run_has_its_recommendations():
    run = RunData.from_log_dir(ALIBABA_TEST04A_SS / "performance/run_1")
    assert run.validity == "INVALID"
    assert run.recommendations() == ("Decrease the expected latency so the loadgen pre-generates more queries.",)
    checks = dict(run.layout().sections[0].rows)
    assert checks["Min duration satisfied"] == "NO"


def test_offline_marks_the_percentile_for_information_only():
    run = RunData.from_log_dir(ALIBABA_OFFLINE / "performance/run_1")
    assert run.scenario == "Offline"
    assert run.headline()[0] == "Samples per second"
    assert not run.decides()
    assert run.target_latency_ns is None


def test_recommendations_fall_back_to_the_detail_reason():
    lines = ["Scenario : Server", "Result is : INVALID"]
    assert parse_summary_layout(lines).recommendations == ()
    run = RunData.from_series("Server", "PerformanceOnly", [1], [1], summary_lines=lines)
    assert run.recommendations() == ()
    detail = parse_detail_lines(
        [':::MLLOG {"key": "result_invalid_reason", "value": "Reduce target QPS to improve latency. "}']
    )
    run = RunData.from_series("Server", "PerformanceOnly", [1], [1], summary_lines=lines, detail=detail)
    assert run.recommendations() == ("Reduce target QPS to improve latency.",)


def test_exited_early_recommendation_keeps_its_second_line():
    lines = [
        "Result is : INVALID",
        "Recommendations:",
        " * Reduce target QPS to improve latency.",
        " * The test exited early, before enough queries were issued.",
        "   See the detailed log for why this may have occurred.",
        "",
        "1 warning encountered. See detailed log.",
        "",
        "2 ERRORS encountered. See detailed log.",
    ]
    layout = parse_summary_layout(lines)
    assert layout.recommendations == (
        "Reduce target QPS to improve latency.",
        "The test exited early, before enough queries were issued. See the detailed log for why this may have occurred.",
    )
    assert layout.footer == ("1 warning encountered. See detailed log.", "2 ERRORS encountered. See detailed log.")


def test_missing_summary_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="mlperf_log_summary.txt"):
        RunData.from_log_dir(tmp_path)


def test_malformed_detail_log_names_the_file(tmp_path):
    (tmp_path / "mlperf_log_summary.txt").write_text((SS_RUN / "mlperf_log_summary.txt").read_text())
    (tmp_path / "mlperf_log_detail.txt").write_text(':::MLLOG {"key": "x", \n')
    with pytest.raises(ReportError, match=r"mlperf_log_detail\.txt:1"):
        RunData.from_log_dir(tmp_path)


def test_mismatched_arrays_are_refused():
    with pytest.raises(ReportError, match="same completed samples"):
        RunData.from_series("Offline", "PerformanceOnly", [1, 2, 3], [1, 2])


@pytest.mark.parametrize("n", [1, 2, 7, 10, 999, 1000, 1001, 12345])
@pytest.mark.parametrize("p", [0.5, 0.9, 0.99, 0.999])
def test_percentile_value_is_the_official_floor_index(n, p):
    values = np.random.default_rng(n).integers(0, 10**9, n)
    assert percentile_value(values, p) == latency_stats(values, p).target


def test_percentile_value_of_nothing_is_none():
    assert percentile_value(np.zeros(0, dtype=np.int64), 0.9) is None


def _recorder(count: int, spq: int, deltas: np.ndarray | None = None, period_ns: int = 0) -> SeriesRecorder:
    queries = GeneratedQueries(
        count=count,
        samples_per_query=spq,
        sample_indices=np.arange(count * spq, dtype=np.int64),
        deltas=deltas,
        period_ns=period_ns,
        duration_ns=0,
        logged_samples_per_query=spq,
    )
    rec = SeriesRecorder(0, queries, log_all=False, selected=None, accuracy_sink=None, error_sink=lambda m: None)
    rec.mark_issued(0, count)
    return rec


def test_series_arrays_of_a_server_series():
    start = 1_000_000_000
    deltas = np.array([100, 250, 400, 900], dtype=np.int64)
    rec = _recorder(4, 1, deltas=deltas)
    rec.scheduled[:] = start + deltas
    rec.latency[:] = [50, 70, -1, 20]  # the third sample was never answered
    lat, off = series_arrays(rec, 4, start_ns=start)
    assert lat.tolist() == [50, 70, 20]
    assert off.tolist() == [150, 320, 920]
    # Without start_ns the start is recovered from the first query's scheduled delta (exact for Server).
    lat2, off2 = series_arrays(rec, 4)
    assert off2.tolist() == off.tolist() and lat2.tolist() == lat.tolist()
    assert lat.base is None or lat.base is not rec.latency  # a copy, not a view of the recorder


def test_series_arrays_repeat_the_query_schedule_for_each_sample():
    rec = _recorder(3, 2, period_ns=1000)
    start = 5_000
    rec.scheduled[:] = [start, start + 1000, start + 2000]
    rec.latency[:] = [10, 12, 30, 31, 5, 6]
    rec.query_done[:] = [start + 12, start + 1031, -1]
    lat, off = series_arrays(rec, 6, start_ns=start)
    assert lat.tolist() == [10, 12, 30, 31, 5, 6]
    assert off.tolist() == [10, 12, 1030, 1031, 2005, 2006]
    # Only the first two queries are counted when fewer samples were issued.
    lat, off = series_arrays(rec, 4, start_ns=start)
    assert len(lat) == 4
    assert series_query_latencies(rec).tolist() == [12, 31]


def test_series_arrays_of_nothing():
    rec = _recorder(2, 1)
    lat, off = series_arrays(rec, 0)
    assert len(lat) == len(off) == 0


def _engine_run(tmp_path, scenario, **fields):
    s = TestSettings(scenario=scenario, mode=TestMode.PerformanceOnly, min_duration_ms=200, min_query_count=20)
    for k, v in fields.items():
        setattr(s, k, v)
    start_test(ImmediateSUT(), RecordingQSL(total=500, performance=100), s, log_settings(tmp_path), audit_config=None)
    return RunData.from_log_dir(tmp_path)


def test_server_run_written_by_edgeperf(tmp_path):
    run = _engine_run(tmp_path, TestScenario.Server, server_target_qps=300, server_target_latency_ns=15_000_000)
    assert run.scenario == "Server"
    assert run.target_percentile == 0.99
    assert run.target_latency_ns == 15_000_000
    assert run.headline()[0] == "Scheduled samples per second"
    assert run.decides()
    assert run.marked_value_ns() == int(run.summary["99.00 percentile latency (ns)"])


def test_multistream_run_marks_the_per_query_percentile(tmp_path):
    run = _engine_run(tmp_path, TestScenario.MultiStream, multi_stream_target_qps=100, multi_stream_samples_per_query=4)
    assert run.scenario == "MultiStream"
    assert run.headline() == ("Samples per query", "4")
    titles = [s.title for s in run.layout().sections]
    assert titles == ["MLPerf Results Summary", "Additional Stats", "Test Parameters Used"]
    rows = run.layout().sections[1].rows
    assert ("Per-sample latency", None) in rows  # a text line kept as a sub-heading
    assert run.plotted_latencies()[1] == "Per-query latency"
    with_queries = run.with_series([1, 2, 3, 4], [5, 6, 7, 8], query_latencies_ns=[7, 8])
    values, what = with_queries.plotted_latencies()
    assert what == "Per-query latency" and values.tolist() == [7, 8]
    assert with_queries.marked_value_ns() == 8
