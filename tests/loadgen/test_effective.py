"""Effective settings (spec loadgen.md §4), the requested_*/effective_* detail records
(§12.2 items 5-6) and the summary's "Test Parameters Used" block (§12.1).

The fixture tests rebuild a TestSettings from the ``requested_*`` records of real v1.1 logs
and check that our records and summary lines reproduce those logs exactly."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from edgeperf.loadgen.effective import (
    EffectiveSettings,
    compute_effective,
    effective_records,
    requested_records,
    test_parameters_lines,
)
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.errors import SettingsError
from edgeperf.loadgen.settings import TestSettings
from fixture_paths import FIXTURES

ALIBABA = FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet"
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="v1.1 fixtures not available")

_VALUE_RE = re.compile(r'"value": (.*), "time_ms": ')


def read_detail(path: Path) -> list[tuple[str, object, str]]:
    """(key, parsed value, raw value text) of every :::MLLOG record."""
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith(":::MLLOG "):
            continue
        rec = json.loads(line[len(":::MLLOG ") :])
        raw = _VALUE_RE.search(line).group(1)
        out.append((rec["key"], rec["value"], raw))
    return out


def encode(value: object) -> str:
    """Detail-log value encoding of spec §12.2: strings quoted, bools true/false, integers
    decimal, doubles %g."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "%g" % value
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(type(value))


def settings_from_requested(records) -> tuple[TestSettings, int]:
    s = TestSettings()
    for key, value, _raw in records:
        if not key.startswith("requested_"):
            continue
        name = key[len("requested_") :]
        if name == "scenario":
            s.scenario = TestScenario(value)
        elif name == "test_mode":
            s.mode = TestMode(value)
        else:
            assert hasattr(s, name), name
            setattr(s, name, value)
    qsl_psc = next(v for k, v, _ in records if k == "qsl_reported_performance_count")
    return s, qsl_psc


def summary_parameters_block(path: Path) -> list[str] | None:
    lines = path.read_text().splitlines()
    if "Test Parameters Used" not in lines:
        return None
    i = lines.index("Test Parameters Used") + 2  # skip the ==== line
    j = lines.index("", i)
    return lines[i:j]


def _detail_logs() -> list[Path]:
    if not FIXTURES.is_dir():
        return []
    return sorted(FIXTURES.rglob("mlperf_log_detail.txt"))


DETAIL_LOGS = _detail_logs()


def _check_against_log(detail: Path) -> None:
    records = read_detail(detail)
    settings, qsl_psc = settings_from_requested(records)
    eff, errors = compute_effective(settings, qsl_psc)

    logged_requested = [(k, raw) for k, _v, raw in records if k.startswith("requested_")]
    ours_requested = [(k, encode(v)) for k, v in requested_records(settings)]
    assert ours_requested == logged_requested

    logged_effective = [(k, raw) for k, _v, raw in records if k.startswith("effective_")]
    ours_effective = [(k, encode(v)) for k, v in effective_records(eff)]
    assert ours_effective == logged_effective

    logged_errors = [v for k, v, _ in records if k == "error_invalid_test_settings"]
    assert [e.message for e in errors] == logged_errors

    summary = detail.with_name("mlperf_log_summary.txt")
    if summary.is_file():
        block = summary_parameters_block(summary)
        if block is not None:
            assert test_parameters_lines(eff) == block


@needs_fixtures
def test_alibaba_singlestream_performance_log():
    _check_against_log(ALIBABA / "SingleStream/performance/run_1/mlperf_log_detail.txt")
    # and the block really was compared
    assert summary_parameters_block(ALIBABA / "SingleStream/performance/run_1/mlperf_log_summary.txt")


@needs_fixtures
def test_alibaba_offline_performance_log():
    detail = ALIBABA / "Offline/performance/run_1/mlperf_log_detail.txt"
    _check_against_log(detail)
    records = read_detail(detail)
    settings, psc = settings_from_requested(records)
    eff, _ = compute_effective(settings, psc)
    assert eff.samples_per_query == 5068800  # 1.1 * 600 s * 7680 qps, from the log


@needs_fixtures
@pytest.mark.parametrize("detail", DETAIL_LOGS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_detail_log(detail):
    _check_against_log(detail)


@needs_fixtures
def test_fixture_logs_found():
    assert len(DETAIL_LOGS) >= 100


# ---------------------------------------------------------------------- per-scenario (§4)


def test_singlestream():
    s = TestSettings(
        scenario=TestScenario.SingleStream,
        single_stream_expected_latency_ns=753452,
        single_stream_target_latency_percentile=0.9,
        min_duration_ms=600000,
        min_query_count=1024,
        performance_sample_count_override=1024,
    )
    eff, errors = compute_effective(s, 5000)
    assert errors == []
    assert eff.target_qps == 1e9 / 753452
    assert "%g" % eff.target_qps == "1327.22"  # value in the Alibaba log
    assert eff.max_async_queries == 1
    assert eff.target_latency_ns == 0
    assert eff.target_latency_percentile == 0.9
    assert eff.samples_per_query == 1
    assert eff.target_duration_ms == eff.min_duration_ms == 600000
    assert eff.min_query_count == 1024 and eff.min_sample_count == 1024
    assert eff.performance_sample_count == 1024


def test_multistream_v11():
    s = TestSettings(
        scenario=TestScenario.MultiStream,
        multi_stream_target_qps=20,
        multi_stream_max_async_queries=1,
        multi_stream_samples_per_query=8,
        multi_stream_target_latency_percentile=0.99,
        min_query_count=270336,
    )
    eff, errors = compute_effective(s, 64)
    assert errors == []
    assert eff.target_latency_ns == 50_000_000  # 1 / 20 s
    assert eff.target_qps == 20.0
    assert eff.max_async_queries == 1
    assert eff.samples_per_query == 8
    assert eff.target_latency_percentile == 0.99
    assert eff.min_sample_count == 270336 * 8
    ssd = compute_effective(TestSettings(scenario=TestScenario.MultiStream, multi_stream_target_qps=15), 64)[0]
    assert ssd.target_latency_ns == 66_666_666  # 1/15 s truncated to ns
    two = compute_effective(
        TestSettings(scenario=TestScenario.MultiStream, multi_stream_target_qps=20, multi_stream_max_async_queries=2),
        64,
    )[0]
    assert two.target_latency_ns == 100_000_000


def test_multistreamfree():
    s = TestSettings(
        scenario=TestScenario.MultiStreamFree,
        multi_stream_target_latency_ns=123_456_789,
        multi_stream_samples_per_query=3,
    )
    eff, _ = compute_effective(s, 10)
    assert eff.target_latency_ns == 123_456_789
    assert eff.samples_per_query == 3
    assert eff.target_qps == 10.0


def test_multistream_v20():
    s = TestSettings(
        scenario=TestScenario.MultiStream,
        ruleset="v2.0",
        multi_stream_samples_per_query=8,
        multi_stream_target_qps=20,
        multi_stream_max_async_queries=3,
    )
    eff, _ = compute_effective(s, 10)
    assert eff.target_qps == 1e9 / 8_000_000 == 125.0
    assert eff.max_async_queries == 1
    assert eff.target_latency_ns == 0
    assert eff.samples_per_query == 8
    assert eff.ruleset == "v2.0" and eff.early_stopping and eff.multi_stream_v2
    keys = [k for k, _ in requested_records(s)]
    assert keys[2:5] == [
        "requested_multi_stream_expected_latency_ns",
        "requested_multi_stream_target_latency_percentile",
        "requested_multi_stream_samples_per_query",
    ]


def test_server():
    s = TestSettings(
        scenario=TestScenario.Server,
        server_target_qps=272250,
        server_target_latency_ns=15_000_000,
        server_target_latency_percentile=0.99,
        server_max_async_queries=0,
        min_duration_ms=600000,
        min_query_count=270336,
        server_coalesce_queries=True,
        server_num_issue_query_threads=2,
    )
    eff, errors = compute_effective(s, 1024)
    assert errors == []
    assert eff.target_qps == 272250.0
    assert eff.target_latency_ns == 15_000_000
    assert eff.max_async_queries == 0
    assert eff.target_duration_ms == 600000
    assert eff.min_sample_count == 270336
    assert eff.server_coalesce_queries is True and eff.server_num_issue_query_threads == 2
    lines = test_parameters_lines(eff)
    assert lines[1] == "target_qps : 272250"  # Appendix B
    assert lines[2] == "target_latency (ns): 15000000"


@pytest.mark.parametrize("qps, text", [(-5.0, "-5"), (-0.25, "-0.25"), (-1234567.0, "-1.23457e+06")])
def test_negative_server_qps(qps, text):
    eff, errors = compute_effective(TestSettings(scenario=TestScenario.Server, server_target_qps=qps), 1)
    assert eff.target_qps == 1.0
    assert errors == [SettingsError(f"Invalid value for server_target_qps requested. requested: {text} using: 1")]
    assert errors[0].key == "error_invalid_test_settings"


def test_negative_offline_qps():
    eff, errors = compute_effective(TestSettings(scenario=TestScenario.Offline, offline_expected_qps=-2), 1)
    assert eff.target_qps == 1.0
    assert [e.message for e in errors] == ["Invalid value for offline_expected_qps requested. requested: -2 using: 1"]


def test_offline_example_from_spec():
    s = TestSettings(
        scenario=TestScenario.Offline, offline_expected_qps=4300, min_duration_ms=600000, min_query_count=24576
    )
    eff, errors = compute_effective(s, 1024)
    assert errors == []
    assert eff.samples_per_query == 2_838_000  # 1.1 * 600 * 4300
    assert eff.min_query_count == 1
    assert eff.target_duration_ms == 0
    assert eff.min_duration_ms == 600000
    assert eff.min_sample_count == 2_838_000
    assert eff.max_async_queries == 1
    assert eff.target_latency_percentile == 0.99
    assert test_parameters_lines(eff)[0] == "samples_per_query : 2838000"  # Appendix B (Intel)


def test_offline_uses_requested_min_query_count_when_larger():
    s = TestSettings(
        scenario=TestScenario.Offline, offline_expected_qps=10, min_duration_ms=1000, min_query_count=24576
    )
    eff, _ = compute_effective(s, 1024)
    assert eff.samples_per_query == 24576  # > 1.1 * 1 s * 10
    assert eff.min_query_count == 1 and eff.min_sample_count == 24576


@pytest.mark.parametrize("flag", ["performance_issue_unique", "performance_issue_same"])
def test_offline_audit_modes_use_performance_sample_count(flag):
    s = TestSettings(
        scenario=TestScenario.Offline,
        offline_expected_qps=7680,
        min_duration_ms=600000,
        min_query_count=24576,
        **{flag: True},
    )
    eff, _ = compute_effective(s, 1024)
    assert eff.samples_per_query == 1024
    assert eff.min_sample_count == 1024


def test_performance_sample_count_override():
    assert compute_effective(TestSettings(), 777)[0].performance_sample_count == 777
    assert compute_effective(TestSettings(performance_sample_count_override=64), 777)[0].performance_sample_count == 64


def test_validation_errors_verbatim():
    s = TestSettings(performance_issue_same=True, performance_issue_same_index=1024, performance_issue_unique=True)
    _, errors = compute_effective(s, 1024)
    assert [e.message for e in errors] == [
        "Sample Idx to be repeated in performance_issue_same mode cannot be greater than loaded "
        "performance_sample_count. performance_issue_same_index: 1024 performance_sample_count: 1024",
        "Performance_issue_unique and performance_issue_same, both cannot be true at the same time. "
        "performance_issue_unique: 1 performance_issue_same: 1",
    ]
    _, ok = compute_effective(TestSettings(performance_issue_same=True, performance_issue_same_index=1023), 1024)
    assert ok == []


def test_copied_fields_and_extras():
    s = TestSettings(
        qsl_rng_seed=1,
        sample_index_rng_seed=2,
        schedule_rng_seed=3,
        accuracy_log_rng_seed=4,
        accuracy_log_probability=0.5,
        accuracy_log_sampling_target=6,
        print_timestamps=True,
        max_duration_ms=7,
        max_query_count=8,
        sut_stall_timeout_s=9.5,
        server_find_peak_qps_decimals_of_precision=2,
        server_find_peak_qps_boundary_step_size=0.5,
        mode=TestMode.FindPeakPerformance,
    )
    eff, _ = compute_effective(s, 1)
    assert (eff.qsl_rng_seed, eff.sample_index_rng_seed, eff.schedule_rng_seed, eff.accuracy_log_rng_seed) == (
        1,
        2,
        3,
        4,
    )
    assert eff.accuracy_log_probability == 0.5 and eff.accuracy_log_sampling_target == 6
    assert eff.print_timestamps is True
    assert (eff.max_duration_ms, eff.max_query_count) == (7, 8)
    assert eff.sut_stall_timeout_s == 9.5
    assert eff.server_find_peak_qps_decimals_of_precision == 2
    assert eff.server_find_peak_qps_boundary_step_size == 0.5
    assert eff.mode is TestMode.FindPeakPerformance
    assert eff.ruleset == "v1.1" and not eff.early_stopping


def test_with_changes_and_frozen():
    eff, _ = compute_effective(TestSettings(scenario=TestScenario.Server, server_target_qps=100), 1)
    faster = eff.with_changes(target_qps=200.0)
    assert faster.target_qps == 200.0 and eff.target_qps == 100.0
    assert faster.target_latency_ns == eff.target_latency_ns
    assert isinstance(faster, EffectiveSettings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        eff.target_qps = 5.0  # type: ignore[misc]


# ---------------------------------------------------------------------- records (§12.2)

COMMON_REQUESTED_TAIL = [
    "requested_min_duration_ms",
    "requested_max_duration_ms",
    "requested_min_query_count",
    "requested_max_query_count",
    "requested_qsl_rng_seed",
    "requested_sample_index_rng_seed",
    "requested_schedule_rng_seed",
    "requested_accuracy_log_rng_seed",
    "requested_accuracy_log_probability",
    "requested_accuracy_log_sampling_target",
    "requested_print_timestamps",
    "requested_performance_issue_unique",
    "requested_performance_issue_same",
    "requested_performance_issue_same_index",
    "requested_performance_sample_count_override",
]


@pytest.mark.parametrize(
    "scenario, specific",
    [
        (
            TestScenario.SingleStream,
            ["requested_single_stream_expected_latency_ns", "requested_single_stream_target_latency_percentile"],
        ),
        (
            TestScenario.MultiStream,
            [
                "requested_multi_stream_target_qps",
                "requested_multi_stream_target_latency_ns",
                "requested_multi_stream_target_latency_percentile",
                "requested_multi_stream_samples_per_query",
                "requested_multi_stream_max_async_queries",
            ],
        ),
        (
            TestScenario.MultiStreamFree,
            [
                "requested_multi_stream_target_qps",
                "requested_multi_stream_target_latency_ns",
                "requested_multi_stream_target_latency_percentile",
                "requested_multi_stream_samples_per_query",
                "requested_multi_stream_max_async_queries",
            ],
        ),
        (
            TestScenario.Server,
            [
                "requested_server_target_qps",
                "requested_server_target_latency_ns",
                "requested_server_target_latency_percentile",
                "requested_server_coalesce_queries",
                "requested_server_find_peak_qps_decimals_of_precision",
                "requested_server_find_peak_qps_boundary_step_size",
                "requested_server_max_async_queries",
                "requested_server_num_issue_query_threads",
            ],
        ),
        (TestScenario.Offline, ["requested_offline_expected_qps"]),
    ],
)
def test_requested_record_keys(scenario, specific):
    recs = requested_records(TestSettings(scenario=scenario))
    assert [k for k, _ in recs] == ["requested_scenario", "requested_test_mode", *specific, *COMMON_REQUESTED_TAIL]
    assert recs[0][1] == scenario.value and recs[1][1] == "PerformanceOnly"


def test_server_requested_value_types():
    recs = dict(requested_records(TestSettings(scenario=TestScenario.Server)))
    assert type(recs["requested_server_target_qps"]) is float
    assert type(recs["requested_server_coalesce_queries"]) is bool
    assert type(recs["requested_server_find_peak_qps_boundary_step_size"]) is float
    assert type(recs["requested_server_max_async_queries"]) is int
    assert type(recs["requested_accuracy_log_probability"]) is float
    assert type(recs["requested_print_timestamps"]) is bool


def test_effective_record_keys_and_types():
    eff, _ = compute_effective(TestSettings(scenario=TestScenario.Server), 1)
    recs = effective_records(eff)
    assert [k for k, _ in recs] == [
        "effective_scenario",
        "effective_test_mode",
        "effective_samples_per_query",
        "effective_target_qps",
        "effective_target_latency_ns",
        "effective_target_latency_percentile",
        "effective_max_async_queries",
        "effective_target_duration_ms",
        "effective_min_duration_ms",
        "effective_max_duration_ms",
        "effective_min_query_count",
        "effective_max_query_count",
        "effective_min_sample_count",
        "effective_qsl_rng_seed",
        "effective_sample_index_rng_seed",
        "effective_schedule_rng_seed",
        "effective_accuracy_log_rng_seed",
        "effective_accuracy_log_probability",
        "effective_accuracy_log_sampling_target",
        "effective_print_timestamps",
        "effective_performance_issue_unique",
        "effective_performance_issue_same",
        "effective_performance_issue_same_index",
        "effective_performance_sample_count",
    ]
    d = dict(recs)
    assert d["effective_scenario"] == "Server" and d["effective_test_mode"] == "PerformanceOnly"
    assert type(d["effective_target_qps"]) is float
    assert type(d["effective_target_latency_percentile"]) is float
    assert type(d["effective_print_timestamps"]) is bool
    assert type(d["effective_min_sample_count"]) is int


def test_parameters_lines_formats():
    s = TestSettings(
        scenario=TestScenario.Server,
        server_target_qps=1234567.0,
        accuracy_log_probability=0.015,
        print_timestamps=True,
        performance_issue_same=True,
    )
    lines = test_parameters_lines(compute_effective(s, 10)[0])
    assert lines[1] == "target_qps : 1.23457e+06"
    assert "accuracy_log_probability : 0.015" in lines
    assert "print_timestamps : 1" in lines
    assert "performance_issue_same : 1" in lines
    assert "performance_issue_unique : 0" in lines
    assert len(lines) == 19
