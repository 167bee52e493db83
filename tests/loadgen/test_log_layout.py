"""The summary and detail logs edgeperf writes have the layout of the real v1.1 logs (spec §12).

Values differ from run to run; the labels, their order and the record keys must not.
"""

from __future__ import annotations

import re

import pytest
from fixture_paths import ALIBABA_OFFLINE, ALIBABA_SS, ALIBABA_TEST04A_SS
from harness import DelayedSUT, ImmediateSUT, RecordingQSL, log_settings

from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.settings import TestSettings

_LABEL = re.compile(r"^(.*?)(?: : |: |:$)")


def labels(text: str) -> list[str]:
    """Each summary line reduced to its label: the text before the value."""
    out = []
    for line in text.splitlines():
        m = _LABEL.match(line)
        out.append(m.group(1) if m else line)
    return out


def _run(tmp_path, scenario, sut, **fields):
    s = TestSettings(scenario=scenario, mode=TestMode.PerformanceOnly, min_duration_ms=200, min_query_count=20)
    for k, v in fields.items():
        setattr(s, k, v)
    qsl = RecordingQSL(total=500, performance=100)
    result = start_test(sut, qsl, s, log_settings(tmp_path), audit_config=None)
    return (
        result,
        (tmp_path / "mlperf_log_summary.txt").read_text(),
        read_detail_log(tmp_path / "mlperf_log_detail.txt"),
    )


def test_single_stream_logs_match_the_real_layout(tmp_path):
    result, summary, detail = _run(
        tmp_path, TestScenario.SingleStream, ImmediateSUT(), single_stream_expected_latency_ns=1000
    )
    assert result.valid
    real_summary = (ALIBABA_SS / "performance/run_1/mlperf_log_summary.txt").read_text()
    assert labels(summary) == labels(real_summary)
    real = read_detail_log(ALIBABA_SS / "performance/run_1/mlperf_log_detail.txt")
    assert detail.keys() == real.keys()
    assert [list(r) for r in detail] == [list(r) for r in real]  # field order of every record
    assert [list(r["metadata"]) for r in detail][:3] == [list(r["metadata"]) for r in real][:3]


def test_offline_logs_match_the_real_layout(tmp_path):
    result, summary, detail = _run(tmp_path, TestScenario.Offline, DelayedSUT(0.25), offline_expected_qps=100)
    assert result.valid
    real_summary = (ALIBABA_OFFLINE / "performance/run_1/mlperf_log_summary.txt").read_text()
    assert labels(summary) == labels(real_summary)
    assert "Samples per second: " in summary  # no space before the colon (§12.1)
    real = read_detail_log(ALIBABA_OFFLINE / "performance/run_1/mlperf_log_detail.txt")
    assert detail.keys() == real.keys()


def test_invalid_single_stream_summary_has_the_real_recommendation_block(tmp_path):
    # The null SUT runs out of the few queries generated for a long expected latency (like TEST04-A).
    result, summary, detail = _run(
        tmp_path, TestScenario.SingleStream, ImmediateSUT(), single_stream_expected_latency_ns=50_000_000
    )
    assert not result.valid
    real = (ALIBABA_TEST04A_SS / "performance/run_1/mlperf_log_summary.txt").read_text()
    assert labels(summary)[:-3] == labels(real)[:-3]  # the real run also had an audit.config warning
    assert summary.endswith("\n1 ERROR encountered. See detailed log.\n")
    assert (
        detail["result_invalid_reason"] == "Decrease the expected latency so the loadgen pre-generates more queries. "
    )


# Server and MultiStream have no v1.1 Edge fixtures; their layout is the one spec §12.1/§12.2 gives.
SERVER_SUMMARY = [
    "SUT name",
    "Scenario",
    "Mode    ",
    "Scheduled samples per second",
    "Result is",
    "  Performance constraints satisfied",
    "  Min duration satisfied",
    "  Min queries satisfied",
    "",
    "================================================",
    "Additional Stats",
    "================================================",
    "Completed samples per second   ",
    "",
    "Min latency (ns)               ",
    "Max latency (ns)               ",
    "Mean latency (ns)              ",
    "50.00 percentile latency (ns)  ",
    "90.00 percentile latency (ns)  ",
    "95.00 percentile latency (ns)  ",
    "97.00 percentile latency (ns)  ",
    "99.00 percentile latency (ns)  ",
    "99.90 percentile latency (ns)  ",
]
MULTISTREAM_ADDITIONAL = [
    "Intervals between each IssueQuery",
    *[f"{p} percentile" for p in ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")],
    "",
    "Per-query latency",
    *[f"{p} percentile latency (ns)  " for p in ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")],
    "",
    "Per-sample latency",
]


def test_server_summary_and_detail_layout(tmp_path):
    result, summary, detail = _run(tmp_path, TestScenario.Server, ImmediateSUT(), server_target_qps=300)
    assert result.valid
    got = labels(summary)
    assert got[:3] == [
        "================================================",
        "MLPerf Results Summary",
        "================================================",
    ]
    assert got[3 : 3 + len(SERVER_SUMMARY)] == SERVER_SUMMARY
    requested = [k for k in detail.keys() if k.startswith("requested_")][:10]
    assert requested == [
        "requested_scenario",
        "requested_test_mode",
        "requested_server_target_qps",
        "requested_server_target_latency_ns",
        "requested_server_target_latency_percentile",
        "requested_server_coalesce_queries",
        "requested_server_find_peak_qps_decimals_of_precision",
        "requested_server_find_peak_qps_boundary_step_size",
        "requested_server_max_async_queries",
        "requested_server_num_issue_query_threads",
    ]
    results = [k for k in detail.keys() if k.startswith("result_")]
    assert results[:6] == [
        "result_validity",
        "result_perf_constraints_met",
        "result_min_duration_met",
        "result_min_queries_met",
        "result_scheduled_samples_per_sec",
        "result_completed_samples_per_sec",
    ]
    assert "Ending naturally: Minimum query count and test duration met." not in [
        r["value"] for r in detail.all("generic_message")
    ]


@pytest.mark.parametrize("scenario", [TestScenario.MultiStream, TestScenario.MultiStreamFree])
def test_multistream_summary_layout(tmp_path, scenario):
    result, summary, detail = _run(
        tmp_path, scenario, ImmediateSUT(), multi_stream_target_qps=100, multi_stream_samples_per_query=4
    )
    assert result.performance.perf_constraints_met
    got = labels(summary)
    start = got.index("Additional Stats") + 2
    assert got[start : start + len(MULTISTREAM_ADDITIONAL)] == MULTISTREAM_ADDITIONAL
    headline = "Samples per query" if scenario is TestScenario.MultiStream else "Samples per second"
    assert got[6] == headline
    keys = detail.keys()
    assert "result_50.00_percentile_num_intervals_between_queries" in keys
    assert "result_99.90_percentile_per_query_latency_ns" in keys
    # Every loaded set carries the padding of samples_per_query - 1 (§6 step 3).
    assert len(detail["loaded_qsl_set"]) == 100 + 3
